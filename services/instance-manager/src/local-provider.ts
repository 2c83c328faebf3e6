/**
 * The `local` provider: an instance is an agent process on this host,
 * `node <agentEntry>`, in its own process group (so stopping it also stops its
 * EEs), tied to this process by @hearth/cluster's orphan reaper (so agents die
 * with the instance-manager, however it dies), its output in
 * `<dataDir>/instances/<id>/agent.log` (bounded).
 *
 * Every instance runs on this host's CPU and memory whatever its type,
 * architecture, vCPUs and memory say: those are passed to the agent as labels
 * and limits to report, not emulated.
 */
import { join } from 'node:path';
import { ManagedProcess, isReadyLine } from '@hearth/cluster';
import type { InstanceSpec } from './instance-events.js';
import { BoundedLogFile } from './bounded-log-file.js';
import { InstanceLaunchError, describeExit, type InstanceExit, type InstanceProvider, type LaunchedInstance } from './provider.js';

/** Options of createLocalProvider. */
export interface LocalProviderOptions {
  /** The agent's JavaScript entry (`HEARTH_AGENT_ENTRY`; the service default is `<repo>/services/agent/dist/main.js`). */
  agentEntry: string;
  /** Node.js executable that runs it. Default: the one running this process. */
  nodePath?: string;
  /** Directory under which each instance gets `instances/<id>/` (the agent's work directory and `agent.log`); the agent's `HEARTH_DATA_DIR`. */
  dataDir: string;
  /** NATS URL the agent publishes heartbeats to. */
  natsUrl: string;
  /** Subject prefix the agent uses (`HEARTH_NATS_PREFIX`), the same as the instance-manager's. */
  natsPrefix: string;
  /** `HEARTH_REGION` of the agent. */
  region: string;
  /** `HEARTH_LOG_LEVEL` of the agent. Default `info`. */
  logLevel?: string;
  /**
   * Environment every agent inherits (PATH, HEARTH_RUNTIMES, OTEL_*, …);
   * `DATABASE_URL` is removed (an agent has no business in the event store)
   * and the per-instance variables are set over it. Default `process.env`.
   */
  baseEnv?: NodeJS.ProcessEnv;
  /** Bytes `agent.log` and `agent.log.1` may hold together. Default 10 MiB. */
  maxLogBytes?: number;
}

/** Milliseconds the log file stays open after the agent exits, for output still in its pipes. */
const logLingerMs = 500;

/** The provider that runs instances as agent processes on this host. */
export function createLocalProvider(options: LocalProviderOptions): InstanceProvider {
  const { DATABASE_URL: _noDatabase, ...inherited } = options.baseEnv ?? process.env;
  return {
    name: 'local',
    async launch(spec, { deadlineMs }) {
      const directory = join(options.dataDir, 'instances', spec.instanceId);
      const log = new BoundedLogFile({ path: join(directory, 'agent.log'), maxBytes: options.maxLogBytes });
      const env: NodeJS.ProcessEnv = {
        ...inherited,
        HEARTH_INSTANCE_ID: spec.instanceId,
        HEARTH_INSTANCE_TYPE: spec.instanceType,
        HEARTH_ZONE: spec.zone,
        HEARTH_CAPACITY_PROVIDER_ARN: spec.capacityProviderArn,
        HEARTH_INSTANCE_ARCHITECTURE: spec.architecture,
        HEARTH_INSTANCE_VCPUS: String(spec.vcpus),
        HEARTH_INSTANCE_MEMORY_MIB: String(spec.memoryMib),
        HEARTH_GRPC_PORT: '0',
        // Many agents share this host: each takes a free port for its Prometheus endpoint (when that
        // exporter is on) and names it in its ready line; the instance-manager's discovery document lists them.
        OTEL_EXPORTER_PROMETHEUS_PORT: '0',
        NATS_URL: options.natsUrl,
        HEARTH_NATS_PREFIX: options.natsPrefix,
        // The agent keeps its files in `<HEARTH_DATA_DIR>/instances/<id>/`, the directory holding agent.log.
        HEARTH_DATA_DIR: options.dataDir,
        HEARTH_REGION: options.region,
        HEARTH_LOG_LEVEL: options.logLevel ?? 'info',
      };
      let announce: (line: ReadyLine) => void = () => {};
      const ready = new Promise<ReadyLine>((resolve) => (announce = resolve));
      let child: ManagedProcess;
      try {
        child = await ManagedProcess.start({
          name: `agent of ${spec.instanceId}`,
          command: options.nodePath ?? process.execPath,
          args: [options.agentEntry],
          env,
          cwd: directory,
          onLine(line) {
            log.write(line);
            if (isReadyLine(line)) announce(readyLineOf(line));
          },
        });
      } catch (error) {
        await log.close();
        throw new InstanceLaunchError('the agent process could not be started', error instanceof Error ? error.message : String(error));
      }
      void child.exited.then(() => setTimeout(() => void log.close(), logLingerMs).unref());
      const describeOutput = (lines = 20): string => `${child.describeOutput(lines)}\n(full log: ${log.path})`;

      const outcome = await firstOf(ready, child.exited, deadlineMs);
      if (outcome.kind !== 'ready' || outcome.address === '') {
        await child.stop({ signal: 'SIGKILL' });
        throw new InstanceLaunchError(whyNotReady(outcome, deadlineMs), describeOutput());
      }

      const launched: LaunchedInstance = {
        agentAddress: outcome.address,
        metricsAddress: outcome.metricsAddress,
        pid: child.pid,
        exited: child.exited,
        stop: ({ timeoutMs }) => child.stop({ signal: 'SIGTERM', timeoutMs }),
        kill: () => child.stop({ signal: 'SIGKILL' }),
        describeOutput,
      };
      return launched;
    },
  };
}

/** What the agent's ready line says of where it answers. */
interface ReadyLine {
  /** The `grpc` field (`127.0.0.1:PORT`), or '' when absent. */
  grpc: string;
  /** The `metrics` field (its Prometheus endpoint's `host:port`), when it has one. */
  metrics: string | undefined;
}

/** The addresses of a ready line (`{"event":"service.ready","grpc":"127.0.0.1:PORT","metrics":"127.0.0.1:PORT"}`). */
function readyLineOf(line: string): ReadyLine {
  try {
    const { grpc, metrics } = JSON.parse(line) as { grpc?: unknown; metrics?: unknown };
    return { grpc: typeof grpc === 'string' ? grpc : '', metrics: typeof metrics === 'string' && metrics !== '' ? metrics : undefined };
  } catch {
    return { grpc: '', metrics: undefined };
  }
}

/** The launch failure reason for an outcome other than a usable ready line. */
function whyNotReady(outcome: Outcome, deadlineMs: number): string {
  if (outcome.kind === 'timeout') return `the agent printed no "service.ready" line within ${deadlineMs} ms`;
  if (outcome.kind === 'exited') return `the agent ${describeExit(outcome.exit)} before it was ready`;
  return 'the agent\'s ready line carries no "grpc" address';
}

type Outcome = { kind: 'ready'; address: string; metricsAddress: string | undefined } | { kind: 'exited'; exit: InstanceExit } | { kind: 'timeout' };

/** Which comes first: the ready line, the exit, or the deadline. */
async function firstOf(ready: Promise<ReadyLine>, exited: Promise<InstanceExit>, ms: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race<Outcome>([
      ready.then((line) => ({ kind: 'ready', address: line.grpc, metricsAddress: line.metrics })),
      exited.then((exit) => ({ kind: 'exited', exit })),
      new Promise<Outcome>((resolve) => {
        timer = setTimeout(() => resolve({ kind: 'timeout' }), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
