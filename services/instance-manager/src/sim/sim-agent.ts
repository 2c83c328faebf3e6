/**
 * A simulated agent: the EEs of one simulated instance, living in the
 * instance-manager's process. It keeps the real agent's contract for what
 * placement, the router, the scaler and the instance-manager use:
 * StartEnvironment (Ready after the function's simulated init time, or Failed
 * with Lambda's reason code), StopEnvironment (drain up to the grace, then
 * stop), ListEnvironments, invocations admitted or refused at once by the EE's
 * model (sim-model.ts) and answered after the simulated latency with the
 * request's payload echoed back, heartbeats and load reports on the real
 * subjects in the real format (sim-wire.ts). No process, no code package, no
 * Runtime API: nothing of the function runs.
 */
import { InvalidParameterValueException, ResourceConflictException } from '@hearth/errors';
import type { agent } from '@hearth/proto';
import type { Logger } from '@hearth/telemetry';
import type { InstanceSpec } from '../instance-events.js';
import { functionModelOf, simMaxConcurrency, SimEnvironmentModel, type SimEnvironmentState, type SimRejectionReason } from './sim-model.js';
import type { SimSettings } from './sim-settings.js';
import {
  heartbeatSubject,
  loadReportSubject,
  type SimEnvironmentHeartbeat,
  type SimEnvironmentLoadReport,
  type SimHeartbeat,
  type SimLoadReport,
} from './sim-wire.js';

/** Where live messages go: the bus's `${prefix}.live.<subject>`. */
export interface LivePublisher {
  publishLive(subject: string, data: unknown): void;
}

/** What the fleet (sim-fleet.ts) learns from an agent. */
export interface SimFleetHooks {
  /** An EE became Ready (true) or left Ready (false): synthetic load is spread over Ready EEs only. */
  readyChanged(environment: SimEnvironment, ready: boolean): void;
  /** An EE has work or load: tick it. */
  activate(environment: SimEnvironment): void;
}

/** A refusal: the invocation never ran, the router may try another EE. */
export interface SimRefusal {
  reason: SimRejectionReason | 'UnknownEnvironment' | 'InvalidRequest';
  message: string;
}

/** A real invocation in flight, as its caller holds it. */
export interface SimInvocationHandle {
  /** The caller went away: nothing will be answered; the invocation still holds its slot until it ends (LMI). */
  cancel(): void;
}

/** One invocation as InvokeStream or InvokeEnvironment carries it. */
export interface SimInvocationRequest {
  requestId: string;
  payload: Buffer;
  /** Absolute deadline, epoch ms; 0 = now + the function's timeout. */
  deadlineUnixMs: number;
}

const environmentIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const sha256Pattern = /^[0-9a-f]{64}$/;
const requestIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Lambda's synchronous payload limit, as the agent's Runtime API enforces it. */
const maxPayloadBytes = 6 * 1024 * 1024;
/** How often a stopping EE checks whether its invocations are done. */
const drainPollMs = 20;
/** Stopped and Failed EEs listed before the oldest is forgotten (the agent's default). */
const maxRetained = 256;
/** Resident memory the simulated agent itself reports, MiB. */
const agentMemoryMiB = 48;

/** Lambda's error body of an invocation past its deadline. */
function timeoutPayload(requestId: string, timeoutMs: number): Buffer {
  return Buffer.from(
    JSON.stringify({ errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`, errorType: 'Sandbox.Timedout' }),
  );
}

/** Lambda's error body of an invocation whose runtime ended under it. */
function exitPayload(requestId: string, why: string): Buffer {
  return Buffer.from(JSON.stringify({ errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${why}`, errorType: 'Runtime.ExitError' }));
}

/** A real invocation running on a simulated EE. */
class RealInvocation implements SimInvocationHandle {
  answered = false;
  cancelled = false;
  private answerTimer: NodeJS.Timeout | undefined;
  private endTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly environment: SimEnvironment,
    readonly requestId: string,
    private readonly payload: Buffer,
    private readonly done: (outcome: agent.InvokeEnvironmentResponse) => void,
  ) {}

  /** Starts it: answered after `durationMs`, or with the timeout result after `allowedMs` (its slot stays taken until it ends). */
  run(durationMs: number, allowedMs: number): void {
    if (durationMs <= allowedMs) {
      this.endTimer = setTimeout(() => {
        this.end();
        this.answer({ payload: this.payload, durationMs: Math.round(durationMs) });
      }, durationMs);
      return;
    }
    this.answerTimer = setTimeout(
      () => this.answer({ payload: timeoutPayload(this.requestId, allowedMs), functionError: 'Unhandled', durationMs: Math.round(allowedMs) }),
      allowedMs,
    );
    this.endTimer = setTimeout(() => this.end(), durationMs);
  }

  cancel(): void {
    this.cancelled = true;
  }

  /** Its EE stopped under it: answered with Runtime.ExitError, slot released. */
  abort(why: string): void {
    clearTimeout(this.answerTimer);
    clearTimeout(this.endTimer);
    this.end();
    this.answer({ payload: exitPayload(this.requestId, why), functionError: 'Unhandled', durationMs: 0 });
  }

  private end(): void {
    if (!this.environment.running.delete(this)) return;
    this.environment.model.endReal();
  }

  private answer(outcome: agent.InvokeEnvironmentResponse): void {
    if (this.answered) return;
    this.answered = true;
    if (!this.cancelled) this.done(outcome);
  }
}

/** One simulated EE. */
export class SimEnvironment {
  readonly id: string;
  readonly model: SimEnvironmentModel;
  reasonCode: string | undefined;
  reason: string | undefined;
  initDurationMs = 0;
  /** Real invocations holding a slot. */
  readonly running = new Set<RealInvocation>();
  /** Rejections already published in a load report. */
  reportedRejections = 0;
  /** Admissions already reported (synthetic load admits fractions: the remainder waits for the next report). */
  reportedAdmissions = 0;
  /** Resolves once start is over (Ready, Failed, or stop requested). */
  readonly settled: Promise<void>;
  private settle: () => void = () => {};
  private initTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private readonly startedAt = performance.now();

  constructor(
    readonly spec: agent.EnvironmentSpec,
    readonly agent: SimAgent,
    settings: SimSettings,
  ) {
    this.id = spec.environmentId;
    const model = functionModelOf(spec.variables ?? {}, settings);
    const maxConcurrency = simMaxConcurrency(spec.maxConcurrency, spec.runtime, spec.vcpus);
    this.model = new SimEnvironmentModel(
      typeof model === 'string' ? { latencyMs: 0, cpuMs: 0, initMs: 0 } : model,
      maxConcurrency,
      spec.vcpus,
      { cpuRejectPercent: settings.cpuRejectPercent, cpuWindowMs: settings.cpuWindowMs, tickMs: settings.tickMs },
    );
    this.settled = new Promise<void>((resolve) => (this.settle = resolve));
    if (typeof model === 'string') {
      // As a runtime that cannot start: Failed at once with the reason.
      queueMicrotask(() => this.fail('FunctionError.RuntimeInitError', `Simulated runtime cannot start: ${model}`));
      return;
    }
    const initTimeoutMs = spec.initTimeoutMs > 0 ? spec.initTimeoutMs : Math.max(130_000, spec.timeoutSeconds * 1000);
    if (model.initMs > initTimeoutMs) {
      this.initTimer = setTimeout(
        () =>
          this.fail(
            'FunctionError.InitTimeout',
            `Init did not complete within ${initTimeoutMs} ms (the simulated init takes ${model.initMs} ms); the runtime was stopped`,
          ),
        initTimeoutMs,
      );
    } else {
      this.initTimer = setTimeout(() => this.becomeReady(), model.initMs);
    }
  }

  get state(): SimEnvironmentState {
    return this.model.state;
  }

  /** Whether it takes invocations. */
  get isReady(): boolean {
    return this.model.state === 'Ready' && !this.model.stopping;
  }

  /** The state load reports give; undefined once Failed or Stopped. */
  get reportedState(): string | undefined {
    if (this.model.state === 'Failed' || this.model.state === 'Stopped') return undefined;
    return this.model.stopping ? 'Stopping' : this.model.state;
  }

  /** Memory the EE reports, MiB: a quarter of its MemorySize plus 1 MiB per invocation in flight (a model, not a measurement). */
  get memoryMiB(): number {
    return Math.round(this.spec.memorySizeMb / 4) + this.model.inFlight;
  }

  /** `functionName\0version`: the key synthetic load is set by. */
  get versionKey(): string {
    return `${this.spec.functionName}\u0000${this.spec.version}`;
  }

  private becomeReady(): void {
    if (this.model.state !== 'Starting' || this.model.stopping) return;
    this.model.state = 'Ready';
    this.initDurationMs = Math.round(performance.now() - this.startedAt);
    this.settle();
    this.agent.changed(this);
  }

  private fail(reasonCode: string, reason: string): void {
    if (this.model.state !== 'Starting') return;
    this.model.state = 'Failed';
    this.reasonCode = reasonCode;
    this.reason = reason;
    this.settle();
    this.agent.changed(this);
  }

  /**
   * Admits one real invocation or refuses it at once; when admitted, `done`
   * gets exactly one outcome unless the handle is cancelled first.
   */
  invoke(request: SimInvocationRequest, done: (outcome: agent.InvokeEnvironmentResponse) => void): SimRefusal | SimInvocationHandle {
    if (request.payload.byteLength > maxPayloadBytes) {
      return { reason: 'InvalidRequest', message: `Request must be smaller than ${maxPayloadBytes} bytes for the InvokeFunction operation` };
    }
    if (!requestIdPattern.test(request.requestId)) {
      return { reason: 'InvalidRequest', message: `request_id ${JSON.stringify(request.requestId)} is not 1–128 letters, digits, '.', '_', ':' or '-'` };
    }
    const refused = this.model.decide(this.agent.cpuPercent());
    if (refused !== undefined) return { reason: refused, message: refusalMessage(this, refused) };
    const now = Date.now();
    const timeoutMs = (this.spec.timeoutSeconds || 3) * 1000;
    const allowedMs = request.deadlineUnixMs > 0 ? Math.max(0, Math.min(timeoutMs, request.deadlineUnixMs - now)) : timeoutMs;
    const invocation = new RealInvocation(this, request.requestId, request.payload, done);
    this.running.add(invocation);
    const durationMs = this.model.beginReal();
    this.agent.hooks.activate(this);
    invocation.run(durationMs, allowedMs);
    return invocation;
  }

  /**
   * Stops the EE: no new work, then up to `graceMs` for what it runs to end,
   * then Stopped (invocations still running end with Runtime.ExitError). Idempotent.
   */
  stop(graceMs: number): Promise<void> {
    this.stopping ??= (async () => {
      const wasReady = this.isReady;
      this.model.stopping = true;
      clearTimeout(this.initTimer);
      this.settle();
      if (wasReady) this.agent.hooks.readyChanged(this, false);
      this.agent.changed(this);
      const until = Date.now() + graceMs;
      while (this.model.inFlight > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, drainPollMs));
      this.halt('signal: terminated');
    })();
    return this.stopping;
  }

  /** Ends the EE now (its agent was killed or stopped): Stopped, whatever ran ends with Runtime.ExitError. */
  halt(why: string): void {
    if (this.model.state === 'Stopped') return;
    clearTimeout(this.initTimer);
    const wasReady = this.isReady;
    this.model.stopping = true;
    for (const invocation of [...this.running]) invocation.abort(why);
    this.model.dropSynthetic();
    this.model.offeredPerSecond = 0;
    if (this.model.state !== 'Failed') {
      this.model.state = 'Stopped';
      this.reasonCode = undefined;
      this.reason = undefined;
    }
    this.settle();
    if (wasReady) this.agent.hooks.readyChanged(this, false);
    this.agent.changed(this);
  }

  /** This EE as AgentService reports it. */
  status(): agent.EnvironmentStatus {
    const status: agent.EnvironmentStatus = {
      environmentId: this.id,
      state: this.model.state,
      maxConcurrency: this.model.maxConcurrency,
      initDurationMs: this.initDurationMs,
      pid: 0,
      runtimeApi: '',
      functionArn: this.spec.functionArn,
      version: this.spec.version,
      inFlight: this.model.state === 'Ready' ? this.model.inFlight : 0,
    };
    if (this.reasonCode !== undefined) status.reasonCode = this.reasonCode;
    if (this.reason !== undefined) status.reason = this.reason;
    return status;
  }
}

function refusalMessage(environment: SimEnvironment, reason: SimRejectionReason): string {
  const { model, id } = environment;
  switch (reason) {
    case 'NotReady':
      return `Execution environment ${id} is ${model.stopping && model.state === 'Ready' ? 'stopping' : model.state}, not Ready`;
    case 'ConcurrencyLimit':
      return `Execution environment ${id} is at its maximum concurrency (${model.maxConcurrency} in flight); retry on another environment`;
    case 'CPUPressure':
      return `Execution environment ${id} or its instance is at its CPU limit with ${model.inFlight} in flight; retry on another environment`;
  }
}

/** Options of SimAgent. */
export interface SimAgentOptions {
  instance: InstanceSpec;
  publisher: LivePublisher;
  settings: SimSettings;
  hooks: SimFleetHooks;
  logger: Logger;
}

/** The simulated agent of one instance. */
export class SimAgent {
  readonly instanceId: string;
  readonly instance: InstanceSpec;
  readonly hooks: SimFleetHooks;
  /** host:port of its gRPC server; set once bound. */
  agentAddress = '';
  readonly environments = new Map<string, SimEnvironment>();
  private readonly retained: string[] = [];
  private readonly settings: SimSettings;
  private readonly publisher: LivePublisher;
  private readonly logger: Logger;
  private timers: NodeJS.Timeout[] = [];
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  private publishFailures = 0;

  constructor(options: SimAgentOptions) {
    this.instance = options.instance;
    this.instanceId = options.instance.instanceId;
    this.hooks = options.hooks;
    this.settings = options.settings;
    this.publisher = options.publisher;
    this.logger = options.logger;
  }

  /** Starts heartbeats and load reports, each at a random phase so a thousand agents do not publish in step. */
  startReporting(agentAddress: string): void {
    this.agentAddress = agentAddress;
    const every = (intervalMs: number, publish: () => void) => {
      const first = setTimeout(() => {
        publish();
        const interval = setInterval(publish, intervalMs);
        interval.unref();
        this.timers.push(interval);
      }, Math.random() * intervalMs);
      first.unref();
      this.timers.push(first);
    };
    this.publishHeartbeat();
    this.publishLoadReport(true);
    every(this.settings.heartbeatIntervalMs, () => this.publishHeartbeat());
    every(this.settings.loadReportIntervalMs, () => this.publishLoadReport(true));
  }

  /** CPU of the instance over the window, percent of its vCPUs (the EEs' work; the simulated agent uses none). */
  cpuPercent(): number {
    let used = 0;
    for (const environment of this.environments.values()) used += environment.model.cpuWindowMs;
    const capacity = this.settings.cpuWindowMs * Math.max(1, this.instance.vcpus);
    return Math.min(100, (100 * used) / capacity);
  }

  /** Starts an EE and resolves once it is Ready or Failed. Idempotent by environment id. */
  async startEnvironment(spec: agent.EnvironmentSpec | undefined): Promise<agent.EnvironmentStatus> {
    const valid = validate(spec);
    if (this.closed) throw new ResourceConflictException(`Agent of ${this.instanceId} is shutting down`);
    let environment = this.environments.get(valid.environmentId);
    if (environment) {
      if (environment.spec.functionArn !== valid.functionArn || environment.spec.codeSha256Hex !== valid.codeSha256Hex) {
        throw new ResourceConflictException(
          `Environment ${valid.environmentId} already runs ${environment.spec.functionArn} (code ${environment.spec.codeSha256Hex.slice(0, 12)}…)`,
        );
      }
    } else {
      environment = new SimEnvironment(valid, this, this.settings);
      this.environments.set(valid.environmentId, environment);
      this.soon();
    }
    await environment.settled;
    return environment.status();
  }

  /** Stops an EE (drain up to `graceMs`, default 2000). Unknown ids answer Stopped. */
  async stopEnvironment(environmentId: string, graceMs: number): Promise<agent.EnvironmentStatus> {
    const environment = this.environments.get(environmentId);
    if (!environment) return stoppedStatus(environmentId);
    await environment.stop(graceMs > 0 ? graceMs : 2_000);
    return environment.status();
  }

  listEnvironments(): agent.EnvironmentStatus[] {
    return [...this.environments.values()].map((environment) => environment.status());
  }

  /** Called by an EE on every change of state: the fleet's index, and a heartbeat and load report soon. */
  changed(environment: SimEnvironment): void {
    if (environment.isReady) this.hooks.readyChanged(environment, true);
    if (environment.state === 'Failed' || environment.state === 'Stopped') this.retain(environment.id);
    this.soon();
  }

  private retain(environmentId: string): void {
    if (this.retained.includes(environmentId)) return;
    this.retained.push(environmentId);
    while (this.retained.length > maxRetained) this.environments.delete(this.retained.shift() as string);
  }

  /** A heartbeat and a load report on the next turn of the event loop (coalesced). */
  private soon(): void {
    if (this.closed || this.immediate || !this.agentAddress) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      if (this.closed) return;
      this.publishHeartbeat();
      this.publishLoadReport(true);
    });
  }

  private publish(subject: string, data: unknown): void {
    try {
      this.publisher.publishLive(subject, data);
    } catch (error) {
      this.publishFailures += 1;
      if (this.publishFailures % 240 === 1) this.logger.warn({ err: error, instanceId: this.instanceId, failures: this.publishFailures }, 'sim: live message not published');
    }
  }

  private publishHeartbeat(): void {
    const environments: SimEnvironmentHeartbeat[] = [];
    for (const environment of this.environments.values()) {
      if (environment.state === 'Stopped') continue;
      const entry: SimEnvironmentHeartbeat = {
        environmentId: environment.id,
        functionArn: environment.spec.functionArn,
        version: environment.spec.version,
        state: environment.state,
        inFlight: environment.state === 'Ready' ? environment.model.inFlight : 0,
        maxConcurrency: environment.model.maxConcurrency,
      };
      if (environment.reasonCode !== undefined) entry.reasonCode = environment.reasonCode;
      environments.push(entry);
    }
    const beat: SimHeartbeat = { instanceId: this.instanceId, at: Date.now(), environments };
    this.publish(heartbeatSubject(this.instanceId), beat);
  }

  /** The load report as the real agent builds it (rejections counted since the previous report). */
  buildLoadReport(includeEnvironments: boolean): SimLoadReport {
    const environments: SimEnvironmentLoadReport[] = [];
    let memory = agentMemoryMiB;
    if (includeEnvironments) {
      for (const environment of this.environments.values()) {
        const state = environment.reportedState;
        if (state === undefined) continue;
        const total = environment.model.counters.rejected;
        const admitted = Math.max(0, Math.floor(environment.model.counters.admitted - environment.reportedAdmissions));
        environment.reportedAdmissions += admitted;
        const entry: SimEnvironmentLoadReport = {
          environmentId: environment.id,
          functionName: environment.spec.functionName,
          version: environment.spec.version,
          functionArn: environment.spec.functionArn,
          state,
          inFlight: environment.model.inFlight,
          maxConcurrency: environment.model.maxConcurrency,
          cpuPercent: round1(environment.model.cpuPercent),
          memoryMiB: environment.memoryMiB,
          rejectedSinceLastReport: total - environment.reportedRejections,
          admittedSinceLastReport: admitted,
        };
        environment.reportedRejections = total;
        if (environment.spec.revisionId) entry.revisionId = environment.spec.revisionId;
        memory += entry.memoryMiB;
        environments.push(entry);
      }
    }
    const cpu = round1(this.cpuPercent());
    return {
      instanceId: this.instanceId,
      agentAddress: this.agentAddress,
      zone: this.instance.zone,
      capacityProviderArn: this.instance.capacityProviderArn,
      at: Date.now(),
      cpu: { usedPercent: cpu, environmentsPercent: cpu },
      memory: { usedMiB: memory, capacityMiB: this.instance.memoryMib },
      environments,
    };
  }

  private publishLoadReport(includeEnvironments: boolean): void {
    this.publish(loadReportSubject(this.instanceId), this.buildLoadReport(includeEnvironments));
  }

  private stopReporting(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
  }

  /** Graceful: stops every EE (each drained up to `graceMs`), then one last empty load report and heartbeat. Idempotent. */
  async close(graceMs: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.environments.values()].map((environment) => environment.stop(graceMs)));
    this.stopReporting();
    this.publishLoadReport(false);
    this.publishHeartbeat();
  }

  /** Killed: every EE ends now; nothing more is published (a dead agent says nothing). Idempotent. */
  kill(): void {
    this.stopReporting();
    for (const environment of this.environments.values()) environment.halt('signal: killed');
  }
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

function validate(spec: agent.EnvironmentSpec | undefined): agent.EnvironmentSpec {
  if (!spec) throw new InvalidParameterValueException('StartEnvironment needs a spec');
  if (!environmentIdPattern.test(spec.environmentId)) {
    throw new InvalidParameterValueException(
      `environment_id ${JSON.stringify(spec.environmentId)} is not 1–128 letters, digits, '.', '_' or '-' starting with a letter or digit`,
    );
  }
  if (!sha256Pattern.test(spec.codeSha256Hex)) {
    throw new InvalidParameterValueException(`code_sha256_hex ${JSON.stringify(spec.codeSha256Hex)} is not a lower-case hex sha256`);
  }
  for (const field of ['functionName', 'functionArn', 'version', 'runtime', 'handler'] as const) {
    if (!spec[field]) throw new InvalidParameterValueException(`spec.${field} is required`);
  }
  if (!(spec.memorySizeMb > 0)) throw new InvalidParameterValueException('spec.memory_size_mb must be positive');
  if (spec.maxConcurrency < 0 || spec.initTimeoutMs < 0 || spec.timeoutSeconds < 0) {
    throw new InvalidParameterValueException('spec.max_concurrency, timeout_seconds and init_timeout_ms must not be negative');
  }
  return spec;
}

function stoppedStatus(environmentId: string): agent.EnvironmentStatus {
  return { environmentId, state: 'Stopped', maxConcurrency: 0, initDurationMs: 0, pid: 0, runtimeApi: '', functionArn: '', version: '', inFlight: 0 };
}
