import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { connectBus, createCodeStore, type Bus, type CodeStore } from '@hearth/bus';
import { callUnary, createClient } from '@hearth/grpc';
import { agent as proto } from '@hearth/proto';
import { createLogger } from '@hearth/telemetry';
import { testInfra } from '@hearth/testing';
import { strToU8, zipSync } from 'fflate';
import { createAgent, type Agent, type AgentOptions } from '../src/agent.js';
import { createAgentService } from '../src/grpc-service.js';

/** A logger for tests: silent unless HEARTH_LOG_LEVEL asks for more. */
export const testLogger = createLogger('agent-test');
testLogger.level = process.env.HEARTH_LOG_LEVEL ?? 'silent';

/** A NATS prefix no other test uses. */
export function uniquePrefix(tag: string): string {
  return `t${tag}${randomBytes(4).toString('hex')}`;
}

/** A zip package of text files. */
export function zipOf(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)])));
}

/** An agent with its gRPC server and client, its bus and code store, in a fresh data directory. */
export interface AgentFixture {
  readonly agent: Agent;
  readonly bus: Bus;
  readonly codeStore: CodeStore;
  readonly instanceId: string;
  readonly workDir: string;
  /** host:port of the agent's gRPC server (what its load reports advertise). */
  readonly address: string;
  /** The AgentService client (InvokeStream, …). */
  readonly client: proto.AgentServiceClient;
  /** Stores a package and returns an EnvironmentSpec for it (override anything). */
  spec(files: Record<string, string>, overrides: Partial<proto.EnvironmentSpec>): Promise<proto.EnvironmentSpec>;
  start(spec: proto.EnvironmentSpec, deadlineMs?: number): Promise<proto.EnvironmentStatus>;
  stop(environmentId: string, graceMs?: number): Promise<proto.EnvironmentStatus>;
  list(): Promise<proto.ListEnvironmentsResponse>;
  invoke(request: Partial<proto.InvokeEnvironmentRequest> & { environmentId: string }, deadlineMs?: number): Promise<proto.InvokeEnvironmentResponse>;
  /** Invokes with a JSON event and parses the JSON result. */
  invokeJson(environmentId: string, event: unknown, extra?: Partial<proto.InvokeEnvironmentRequest>): Promise<{ result: any; response: proto.InvokeEnvironmentResponse }>;
  close(): Promise<void>;
}

let counter = 0;

/**
 * Starts an agent the way main.ts wires it, in-process: a real bus and code
 * store on the test NATS server (own prefix), the AgentService on a loopback
 * gRPC server, and a client of it. The data directory is world-searchable so
 * the sandbox user can reach its EEs, as under a real HEARTH_DATA_DIR.
 */
export async function startAgentFixture(tag: string, options: Partial<AgentOptions> = {}): Promise<AgentFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), `hearth-agent-${tag}-`));
  await chmod(dataDir, 0o755);
  const instanceId = `i-${tag}-${++counter}`;
  const workDir = join(dataDir, 'instances', instanceId);
  const bus = await connectBus({ url: testInfra().natsUrl, name: `agent-test-${tag}`, prefix: uniquePrefix(tag), logger: testLogger });
  const codeStore = await createCodeStore(bus);
  const agent = await createAgent({ instanceId, workDir, codeStore, bus, logger: testLogger, ...options });
  const server = new Server({ 'grpc.max_receive_message_length': 7 * 1024 * 1024 });
  server.addService(proto.AgentServiceService as unknown as ServiceDefinition, createAgentService(agent, testLogger));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const address = `127.0.0.1:${port}`;
  const client = createClient(proto.AgentServiceClient, address, { maxReceiveMessageBytes: 7 * 1024 * 1024 });
  agent.startLoadReports(address);

  const fixture: AgentFixture = {
    agent,
    bus,
    codeStore,
    instanceId,
    workDir,
    address,
    client,
    async spec(files, overrides) {
      const stored = await codeStore.put(zipOf(files));
      const environmentId = overrides.environmentId ?? `ee-${randomBytes(4).toString('hex')}`;
      const functionName = overrides.functionName ?? 'fn';
      return {
        environmentId,
        functionName,
        functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}:1`,
        version: '1',
        runtime: `nodejs${process.versions.node.split('.')[0]}.x`,
        handler: 'index.handler',
        memorySizeMb: 2048,
        timeoutSeconds: 3,
        maxConcurrency: 0,
        vcpus: 1,
        variables: {},
        codeSha256Hex: stored.sha256Hex,
        logGroup: '',
        initTimeoutMs: 0,
        region: 'us-east-1',
        revisionId: 'rev-1',
        ...overrides,
      };
    },
    start: (spec, deadlineMs = 30_000) => callUnary(client, client.startEnvironment, { spec }, { deadlineMs }),
    stop: (environmentId, graceMs = 0) => callUnary(client, client.stopEnvironment, { environmentId, graceMs }),
    list: () => callUnary(client, client.listEnvironments, {}),
    invoke: (request, deadlineMs = 30_000) =>
      callUnary(
        client,
        client.invokeEnvironment,
        { requestId: '', payload: Buffer.alloc(0), timeoutMs: 0, ...request },
        { deadlineMs },
      ),
    async invokeJson(environmentId, event, extra = {}) {
      const response = await fixture.invoke({ environmentId, payload: Buffer.from(JSON.stringify(event)), ...extra });
      return { result: JSON.parse(response.payload.toString('utf8')), response };
    },
    async close() {
      await agent.close();
      client.close();
      server.forceShutdown();
      await bus.jsm.streams.delete(`OBJ_${codeStore.bucket}`).catch(() => undefined);
      await bus.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** Processes of a process group that are still alive (zombies, already dead, are not counted). */
export function liveProcessesInGroup(pgid: number): number[] {
  const alive: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the parenthesised command: state ppid pgrp …
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') alive.push(Number(entry));
  }
  return alive;
}

/** Resident memory of a process group, MiB (the runtime and all its threads and children). */
export function groupRssMib(pgid: number): number {
  let kib = 0;
  for (const pid of liveProcessesInGroup(pgid)) {
    try {
      kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return kib / 1024;
}

/** An InvokeStream as a test drives it: invocations matched to their outcomes by request id. */
export interface TestInvokeStream {
  /** Sends one invocation and resolves with its outcome (result or rejection). */
  invoke(request: Partial<proto.AgentInvocation> & { requestId: string; environmentId: string }): Promise<proto.AgentInvocationOutcome>;
  /** Sends `cancel: true` for a request id; its promise never settles. */
  cancel(requestId: string): void;
  /** Every outcome received, in arrival order. */
  readonly received: proto.AgentInvocationOutcome[];
  /** Half-closes and resolves when the server has ended the stream. */
  end(): Promise<void>;
  /** Breaks the stream (cancels the call), as a router that died would. */
  break(): void;
}

/** Opens an InvokeStream on a fixture's client. */
export function openInvokeStream(client: proto.AgentServiceClient): TestInvokeStream {
  const call = client.invokeStream();
  const waiting = new Map<string, (outcome: proto.AgentInvocationOutcome) => void>();
  const received: proto.AgentInvocationOutcome[] = [];
  let ended: () => void = () => {};
  const endedPromise = new Promise<void>((resolve) => (ended = resolve));
  call.on('data', (outcome: proto.AgentInvocationOutcome) => {
    received.push(outcome);
    const resolve = waiting.get(outcome.requestId);
    waiting.delete(outcome.requestId);
    resolve?.(outcome);
  });
  call.on('end', () => ended());
  call.on('error', () => ended());
  return {
    received,
    invoke(request) {
      return new Promise((resolve) => {
        waiting.set(request.requestId, resolve);
        call.write({ payload: Buffer.from('{}'), deadlineUnixMs: 0, traceContext: {}, cancel: false, ...request });
      });
    },
    cancel(requestId) {
      waiting.delete(requestId);
      call.write({ requestId, environmentId: '', payload: Buffer.alloc(0), deadlineUnixMs: 0, traceContext: {}, cancel: true });
    },
    end() {
      call.end();
      return endedPromise;
    },
    break() {
      call.cancel();
    },
  };
}

/** The parsed JSON result of an outcome, or throws naming the rejection. */
export function resultOf(outcome: proto.AgentInvocationOutcome): { value: any; functionError: string | undefined; durationMs: number } {
  if (outcome.outcome?.$case !== 'result') throw new Error(`expected a result, got ${JSON.stringify(outcome.outcome)}`);
  const { payload, functionError, durationMs } = outcome.outcome.value;
  return { value: JSON.parse(payload.toString('utf8')), functionError, durationMs };
}
