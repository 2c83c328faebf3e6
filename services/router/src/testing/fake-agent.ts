/**
 * A stand-in agent for the router's tests and benchmarks: a real gRPC server
 * speaking `AgentService.InvokeStream`, with EEs whose speed, limit and
 * refusals are set by the test, publishing real load reports on NATS the
 * way agents do (`instance.<id>.load`, every 250 ms and at once on a Ready
 * change). It runs no code: an invocation is a timer.
 */
import { Server, ServerCredentials, status, type ServerDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import { agent as proto } from '@hearth/proto';
import type { EnvironmentLoad, LoadReport } from '../load-report.js';
import { loadSubject } from '../load-report.js';

/** One fake EE. */
export interface FakeEnvironmentSpec {
  environmentId: string;
  functionName: string;
  /** Default `1`. */
  version?: string;
  /** Slots; the next invocation is refused with ConcurrencyLimit. Default 8. */
  maxConcurrency?: number;
  /** Milliseconds an invocation takes. Default 0: answered in the same tick (a no-op handler). */
  serviceMs?: number;
  /** Refuse every invocation with this reason (ConcurrencyLimit, CPUPressure, MemoryPressure, NotReady, …). Default none. */
  reject?: string;
  /** Answer every invocation as a function error of this type. Default none. */
  functionError?: string;
}

/** Options of FakeAgent.start. */
export interface FakeAgentOptions {
  instanceId: string;
  /** Default `us-east-1a`. */
  zone?: string;
  environments: FakeEnvironmentSpec[];
  /** Where load reports go; without one, the agent does not report. */
  bus?: { publishLive(subject: string, data: unknown): void };
  /** Default 250, as agents. */
  reportIntervalMs?: number;
}

/** What a fake EE has done. */
export interface FakeEnvironmentState {
  readonly spec: Required<Omit<FakeEnvironmentSpec, 'reject' | 'functionError'>> & Pick<FakeEnvironmentSpec, 'reject' | 'functionError'>;
  ready: boolean;
  inFlight: number;
  /** Largest inFlight seen. */
  peakInFlight: number;
  completed: number;
  rejected: number;
  cancelled: number;
}

interface Running {
  timer: NodeJS.Timeout;
  environment: FakeEnvironmentState;
}

/** A fake agent (see the module comment). */
export class FakeAgent {
  readonly environments = new Map<string, FakeEnvironmentState>();
  private readonly streams = new Set<ServerDuplexStream<proto.AgentInvocation, proto.AgentInvocationOutcome>>();
  private reportTimer: NodeJS.Timeout | undefined;
  private reporting = true;
  /** Invocation messages received (cancels excluded). */
  received = 0;

  private constructor(
    private readonly options: FakeAgentOptions,
    private readonly server: Server,
    readonly address: string,
  ) {
    for (const spec of options.environments) this.add(spec);
  }

  /** Starts the gRPC server on a free loopback port and the report loop. */
  static async start(options: FakeAgentOptions): Promise<FakeAgent> {
    const server = new Server({ 'grpc.max_receive_message_length': 7 * 1024 * 1024 });
    let agent: FakeAgent | undefined;
    server.addService(proto.AgentServiceService as unknown as ServiceDefinition, {
      invokeStream: (call: ServerDuplexStream<proto.AgentInvocation, proto.AgentInvocationOutcome>) => agent?.serve(call),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    agent = new FakeAgent(options, server, `127.0.0.1:${port}`);
    agent.startReports();
    return agent;
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  /** Adds an EE (Ready). */
  add(spec: FakeEnvironmentSpec): FakeEnvironmentState {
    const state: FakeEnvironmentState = {
      spec: { version: '1', maxConcurrency: 8, serviceMs: 0, ...spec },
      ready: true,
      inFlight: 0,
      peakInFlight: 0,
      completed: 0,
      rejected: 0,
      cancelled: 0,
    };
    this.environments.set(spec.environmentId, state);
    return state;
  }

  /** The EE's state; throws for an unknown id. */
  environment(environmentId: string): FakeEnvironmentState {
    const state = this.environments.get(environmentId);
    if (!state) throw new Error(`no fake environment ${environmentId}`);
    return state;
  }

  /** Changes how an EE behaves from the next invocation on. */
  configure(environmentId: string, change: Partial<Pick<FakeEnvironmentSpec, 'serviceMs' | 'reject' | 'functionError' | 'maxConcurrency'>>): void {
    Object.assign(this.environment(environmentId).spec, change);
  }

  /** Marks an EE Ready or not, and reports at once (as agents do on a Ready change). */
  setReady(environmentId: string, ready: boolean): void {
    this.environment(environmentId).ready = ready;
    this.report();
  }

  /** Stops or resumes the periodic reports (a silent agent ages out of routing). */
  setReporting(on: boolean): void {
    this.reporting = on;
  }

  /** Publishes a load report now. */
  report(): void {
    if (!this.reporting || !this.options.bus) return;
    this.options.bus.publishLive(loadSubject(this.instanceId), this.loadReport());
  }

  /** The report this agent would publish now. */
  loadReport(): LoadReport {
    const environments: EnvironmentLoad[] = [...this.environments.values()].map((state) => ({
      environmentId: state.spec.environmentId,
      functionName: state.spec.functionName,
      version: state.spec.version,
      functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${state.spec.functionName}:${state.spec.version}`,
      state: state.ready ? 'Ready' : 'Starting',
      inFlight: state.inFlight,
      maxConcurrency: state.spec.maxConcurrency,
      cpuPercent: 0,
      memoryMiB: 0,
      rejectedSinceLastReport: 0,
    }));
    return {
      instanceId: this.instanceId,
      agentAddress: this.address,
      zone: this.options.zone ?? 'us-east-1a',
      at: Date.now(),
      cpu: { usedPercent: 0, environmentsPercent: 0 },
      memory: { usedMiB: 0, capacityMiB: 4096 },
      environments,
    };
  }

  /** Ends every open InvokeStream with UNAVAILABLE, as an agent going away would; invocations in flight never answer. */
  breakStreams(): void {
    // grpc-js ends a server stream with the status of an emitted error (destroy() would leave the client waiting).
    for (const stream of [...this.streams]) stream.emit('error', { code: status.UNAVAILABLE, details: 'fake agent broke the stream' });
    this.streams.clear();
  }

  /** Stops reporting and the server (at once: streams are cut). */
  async stop(): Promise<void> {
    clearInterval(this.reportTimer);
    this.reporting = false;
    this.server.forceShutdown();
  }

  private startReports(): void {
    this.report();
    this.reportTimer = setInterval(() => this.report(), this.options.reportIntervalMs ?? 250);
    this.reportTimer.unref();
  }

  private serve(call: ServerDuplexStream<proto.AgentInvocation, proto.AgentInvocationOutcome>): void {
    this.streams.add(call);
    const running = new Map<string, Running>();
    const write = (outcome: proto.AgentInvocationOutcome): void => {
      if (!call.destroyed && !call.writableEnded) call.write(outcome);
    };
    const reject = (requestId: string, reason: string, state?: FakeEnvironmentState): void => {
      if (state) state.rejected += 1;
      write({ requestId, outcome: { $case: 'rejected', value: { reason, message: `fake agent: ${reason}` } } });
    };
    const complete = (invocation: proto.AgentInvocation, state: FakeEnvironmentState, startedAt: number): void => {
      state.inFlight -= 1;
      state.completed += 1;
      const result: proto.InvokeEnvironmentResponse = { payload: invocation.payload, durationMs: Date.now() - startedAt };
      if (state.spec.functionError !== undefined) {
        result.functionError = 'Unhandled';
        result.payload = Buffer.from(JSON.stringify({ errorType: state.spec.functionError, errorMessage: 'fake failure' }));
      }
      write({ requestId: invocation.requestId, outcome: { $case: 'result', value: result } });
    };
    call.on('data', (invocation: proto.AgentInvocation) => {
      if (invocation.cancel) {
        const run = running.get(invocation.requestId);
        if (run) {
          clearTimeout(run.timer);
          running.delete(invocation.requestId);
          run.environment.inFlight -= 1;
          run.environment.cancelled += 1;
        }
        return;
      }
      this.received += 1;
      const state = this.environments.get(invocation.environmentId);
      if (!state) return reject(invocation.requestId, 'UnknownEnvironment');
      if (!state.ready) return reject(invocation.requestId, 'NotReady', state);
      if (state.spec.reject !== undefined) return reject(invocation.requestId, state.spec.reject, state);
      if (state.inFlight >= state.spec.maxConcurrency) return reject(invocation.requestId, 'ConcurrencyLimit', state);
      state.inFlight += 1;
      state.peakInFlight = Math.max(state.peakInFlight, state.inFlight);
      const startedAt = Date.now();
      if (state.spec.serviceMs <= 0) return complete(invocation, state, startedAt);
      const timer = setTimeout(() => {
        running.delete(invocation.requestId);
        complete(invocation, state, startedAt);
      }, state.spec.serviceMs);
      running.set(invocation.requestId, { timer, environment: state });
    });
    const drop = (): void => {
      this.streams.delete(call);
      for (const run of running.values()) {
        clearTimeout(run.timer);
        run.environment.inFlight -= 1;
      }
      running.clear();
    };
    call.on('end', () => {
      drop();
      call.end();
    });
    call.on('cancelled', drop);
    call.on('error', drop);
    call.on('close', drop);
  }
}
