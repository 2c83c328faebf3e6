import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RuntimeInterpreter } from '@hearth/config';
import { InvalidParameterValueException, RequestTooLargeException, ServiceUnavailableException } from '@hearth/errors';
import type { agent } from '@hearth/proto';
import { spanAttributes, type Logger } from '@hearth/telemetry';
import type { Attributes } from '@opentelemetry/api';
import { emptyUsage, reject, RejectionReason, type AdmissionDecision, type AdmissionPolicy, type Rejection, type ResourceUsage } from './admission.js';
import { effectiveMaxConcurrency, type RuntimeFamily } from './concurrency.js';
import { buildEnvironmentVariables, logStreamName } from './ee-variables.js';
import { EnvironmentFailure } from './environment-failure.js';
import type { InterpreterPlanner } from './interpreter-plan.js';
import { InvocationBroker, type BrokerStats, type InvocationOutcome, type InvocationSink } from './invocation-broker.js';
import type { LambdaErrorBody } from './invocation-errors.js';
import { createOutputCapture, type CapturedLine, type OutputCapture } from './output-capture.js';
import { environmentMetricAttributes, type AgentMetrics, type EnvironmentMetricAttributes } from './metrics.js';
import { extractPackage } from './package-unzip.js';
import { defaultMaxBodyBytes, startRuntimeApiServer, type RuntimeApiServer } from './runtime-api-server.js';
import { describeExit, spawnRuntime, type RuntimeExit, type RuntimeProcess } from './runtime-process.js';


/** How often a stopping EE checks whether its admitted invocations have finished. */
const drainPollMs = 20;
/** The states of an EE, as AgentService reports them. */
export type EnvironmentState = 'Starting' | 'Ready' | 'Failed' | 'Stopped';

/** What every EE of an agent shares. */
export interface EnvironmentContext {
  /** `<workdir>/environments`: each EE gets `<id>/task`, `<id>/tmp` and `<id>/output.log` in it. */
  environmentsDir: string;
  /** Region of EEs whose spec names none. */
  region: string;
  /** The package bytes for a sha256, or undefined when the code store has none. */
  fetchCode(sha256Hex: string): Promise<Uint8Array | undefined>;
  runtimes: ReadonlyMap<string, RuntimeInterpreter>;
  /** Directory holding `nodejs/bootstrap.mjs` and `python/bootstrap.py`. */
  runtimesDir: string;
  planner: InterpreterPlanner;
  admission: AdmissionPolicy;
  /** The instance's resource use, kept current by the resource monitor (admission reads it). */
  instanceUsage: ResourceUsage;
  metrics: AgentMetrics;
  /** The instance and where it is, for span attributes; the capacity provider's name, for metric dimensions. */
  instanceId: string;
  zone: string;
  capacityProviderName: string;
  logger: Logger;
  /** Size at which an EE's output.log rotates, bytes. */
  outputLogMaxBytes: number;
  /** Receives every captured output line of every EE (the function log publisher); must not block. Default none. */
  onOutputLine?: ((line: CapturedLine) => void) | undefined;
  /** Called whenever an EE changes state, and when its stop begins (heartbeats and load reports go out sooner). */
  onChange(environment: ExecutionEnvironment): void;
}

/** One invocation as AgentService receives it. */
export interface InvokeRequest {
  requestId: string;
  payload: Buffer;
  /** 0 = the function's timeout. */
  timeoutMs: number;
  clientContext?: string | undefined;
  /** `Lambda-Runtime-Trace-Id` to hand the runtime. */
  traceHeader: string;
}

/** One invocation as InvokeStream receives it: admitted or refused at once, never thrown. */
export interface AdmitRequest {
  requestId: string;
  payload: Buffer;
  /** Absolute deadline, epoch ms; 0 = now + the function's timeout. A later deadline is capped at the function's timeout. */
  deadlineUnixMs: number;
  clientContext?: string | undefined;
  /** `Lambda-Runtime-Trace-Id` to hand the runtime. */
  traceHeader: string;
}

/** How long init may take when the spec does not say: max(130 s, function timeout), as Lambda. */
export function defaultInitTimeoutMs(timeoutSeconds: number): number {
  return Math.max(130_000, timeoutSeconds * 1000);
}

/** The Lambda state reason code of an init error the runtime reported. */
export function initErrorReasonCode(errorType: string): string {
  return errorType === 'Runtime.HandlerNotFound' || errorType === 'Runtime.MalformedHandlerName'
    ? 'FunctionError.InvalidEntryPoint'
    : 'FunctionError.RuntimeInitError';
}

const bootstraps: Record<RuntimeFamily, string> = { nodejs: 'nodejs/bootstrap.mjs', python: 'python/bootstrap.py' };
const requestIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const headerSafe = /^[\t\x20-\x7e]*$/;
/** How long the agent waits for a killed process to be reaped before it gives up waiting. */
const reapTimeoutMs = 5_000;

type InitOutcome = { kind: 'ready' } | { kind: 'failed'; failure: EnvironmentFailure } | { kind: 'stopped' };

/**
 * One execution environment: its private directories, its unpacked package,
 * its Runtime API server and its runtime process, from StartEnvironment to
 * stop. Init completes at the runtime's first /next (Ready); a reported init
 * error, an exit, or the init deadline make it Failed with Lambda's reason code,
 * and nothing of it keeps running. A runtime that dies after Ready makes it
 * Failed too (placement replaces it); its in-flight invocations end with
 * Runtime.ExitError.
 */
export class ExecutionEnvironment {
  readonly id: string;
  readonly spec: agent.EnvironmentSpec;
  readonly maxConcurrency: number;
  state: EnvironmentState = 'Starting';
  reasonCode: string | undefined;
  reason: string | undefined;
  initDurationMs = 0;
  /** Resolves once start is over: Ready, or Failed with everything released, or stop requested. */
  readonly settled: Promise<void>;

  /** The EE's CPU and memory, written by the resource monitor. */
  readonly usage: ResourceUsage = emptyUsage();
  /** LMI's metric dimensions of this EE. */
  readonly metricAttributes: EnvironmentMetricAttributes;
  /** Attributes of each invocation's span: function, version, EE, instance, zone. */
  readonly spanAttributes: Attributes;

  private readonly ctx: EnvironmentContext;
  private readonly family: RuntimeFamily | undefined;
  private readonly broker: InvocationBroker;
  private readonly logger: Logger;
  private readonly dir: string;
  private server: RuntimeApiServer | undefined;
  private process: RuntimeProcess | undefined;
  private output: OutputCapture | undefined;
  private spawnedAt = 0;
  private initTimer: NodeJS.Timeout | undefined;
  private settleInit: (outcome: InitOutcome) => void = () => {};
  private stopping: Promise<void> | undefined;
  private released: Promise<void> | undefined;

  constructor(spec: agent.EnvironmentSpec, ctx: EnvironmentContext) {
    this.id = spec.environmentId;
    this.spec = spec;
    this.ctx = ctx;
    this.family = ctx.runtimes.get(spec.runtime)?.family;
    this.maxConcurrency = effectiveMaxConcurrency(spec.maxConcurrency, this.family ?? 'nodejs', spec.vcpus);
    this.metricAttributes = environmentMetricAttributes(ctx.capacityProviderName, spec.functionName, spec.version);
    this.spanAttributes = Object.freeze({
      [spanAttributes.faasName]: spec.functionName,
      [spanAttributes.faasVersion]: spec.version,
      [spanAttributes.faasInstance]: spec.environmentId,
      [spanAttributes.hostId]: ctx.instanceId,
      [spanAttributes.cloudAvailabilityZone]: ctx.zone,
      [spanAttributes.function]: spec.functionName,
      [spanAttributes.version]: spec.version,
      [spanAttributes.environmentId]: spec.environmentId,
      [spanAttributes.instanceId]: ctx.instanceId,
      [spanAttributes.zone]: ctx.zone,
    });
    const attributes = this.metricAttributes;
    this.broker = new InvocationBroker({
      environmentId: this.id,
      maxConcurrency: this.maxConcurrency,
      admission: ctx.admission,
      usage: this.usage,
      instanceUsage: ctx.instanceUsage,
      onReject: (reason) => ctx.metrics.recordRejection(attributes, reason),
    });
    this.logger = ctx.logger.child({ environmentId: this.id, function: spec.functionName, version: spec.version });
    this.dir = join(ctx.environmentsDir, this.id);
    this.settled = this.start();
  }

  /** Whether StopEnvironment was called. */
  get stopRequested(): boolean {
    return this.stopping !== undefined;
  }

  /** Slots taken (queued, running, timed out and unanswered). */
  get inFlight(): number {
    return this.broker.occupied;
  }

  /** Whether the EE takes invocations: Ready and no stop requested. */
  get isReady(): boolean {
    return this.state === 'Ready' && this.stopping === undefined;
  }

  /** The state load reports give: Starting, Ready or Stopping; undefined once Failed or Stopped (the EE is gone). */
  get reportedState(): string | undefined {
    if (this.state === 'Failed' || this.state === 'Stopped') return undefined;
    return this.stopping !== undefined ? 'Stopping' : this.state;
  }

  /** The EE's process group while its runtime runs, for the resource monitor. */
  get processGroup(): number | undefined {
    const proc = this.process;
    if (!proc || proc.hasExited || proc.pid <= 0) return undefined;
    return this.state === 'Starting' || this.state === 'Ready' ? proc.pid : undefined;
  }

  get vcpus(): number {
    return this.spec.vcpus > 0 ? this.spec.vcpus : 1;
  }

  get memorySizeMb(): number {
    return this.spec.memorySizeMb;
  }

  get functionName(): string {
    return this.spec.functionName;
  }

  get version(): string {
    return this.spec.version;
  }

  get functionArn(): string {
    return this.spec.functionArn;
  }

  /** The version's RevisionId this EE runs, when placement gave one. */
  get revisionId(): string | undefined {
    return this.spec.revisionId || undefined;
  }

  get cpuPercent(): number {
    return this.usage.cpuPercent;
  }

  get memoryMiB(): number {
    return this.usage.memoryMiB;
  }

  get memoryPercent(): number {
    return this.usage.memoryPercent;
  }

  /** Invocations this EE refused since it began, all reasons. */
  get rejectedTotal(): number {
    return this.broker.rejectedTotal;
  }

  /** Invocations this EE admitted since it began. */
  get admittedTotal(): number {
    return this.broker.admittedTotal;
  }

  /** Invocations refused by reason, timed out, and completed by the runtime, since the EE began. */
  get stats(): BrokerStats {
    return this.broker.stats;
  }

  /** The most invocations in flight at once since the previous call. */
  takePeakInFlight(): number {
    return this.broker.takePeak();
  }

  /** This EE as AgentService reports it. */
  status(): agent.EnvironmentStatus {
    const status: agent.EnvironmentStatus = {
      environmentId: this.id,
      state: this.state,
      maxConcurrency: this.maxConcurrency,
      initDurationMs: this.initDurationMs,
      pid: this.process?.pid ?? 0,
      runtimeApi: this.server?.address ?? '',
      functionArn: this.spec.functionArn,
      version: this.spec.version,
      inFlight: this.state === 'Ready' ? this.broker.occupied : 0,
    };
    if (this.reasonCode !== undefined) status.reasonCode = this.reasonCode;
    if (this.reason !== undefined) status.reason = this.reason;
    return status;
  }

  /**
   * Admits one invocation (InvokeStream's path) or refuses it at once with a
   * reason, never throwing and never queueing beyond the EE's concurrency. When
   * admitted, `sink` later gets exactly one call (see InvocationSink).
   */
  admit(request: AdmitRequest, sink: InvocationSink): AdmissionDecision {
    const refused = this.refusal(request.requestId, request.payload, request.clientContext);
    if (refused) return refused;
    const now = Date.now();
    const functionTimeoutMs = (this.spec.timeoutSeconds || 3) * 1000;
    let deadlineMs = now + functionTimeoutMs;
    let timeoutMs = functionTimeoutMs;
    // The caller's deadline wins when it is sooner; the function's timeout always applies.
    if (request.deadlineUnixMs > 0 && request.deadlineUnixMs < deadlineMs) {
      deadlineMs = request.deadlineUnixMs;
      timeoutMs = Math.max(0, deadlineMs - now);
    }
    return this.broker.admit(
      { requestId: request.requestId, payload: request.payload, deadlineMs, timeoutMs, traceHeader: request.traceHeader, clientContext: request.clientContext },
      sink,
    );
  }

  /**
   * The caller of an invocation went away: one still queued is withdrawn (true);
   * one the runtime holds keeps running to its end, as in LMI.
   */
  cancel(requestId: string): boolean {
    return this.broker.cancel(requestId);
  }

  /**
   * Runs one invocation through the Runtime API (InvokeEnvironment's path).
   * Refuses at once, without queueing beyond the EE's concurrency, when the EE
   * is not Ready or is full: TooManyRequestsException with the reason,
   * ServiceUnavailableException when not Ready, InvalidParameterValueException
   * or RequestTooLargeException for a malformed request.
   */
  invoke(request: InvokeRequest, signal?: AbortSignal): Promise<InvocationOutcome> {
    const refused = this.refusal(request.requestId, request.payload, request.clientContext);
    if (refused) {
      if (refused.reason === RejectionReason.NotReady) return Promise.reject(new ServiceUnavailableException(refused.message));
      if (request.payload.byteLength > defaultMaxBodyBytes) return Promise.reject(new RequestTooLargeException(refused.message));
      return Promise.reject(new InvalidParameterValueException(refused.message));
    }
    const timeoutMs = request.timeoutMs > 0 ? request.timeoutMs : (this.spec.timeoutSeconds || 3) * 1000;
    return this.broker.submit(
      {
        requestId: request.requestId,
        payload: request.payload,
        deadlineMs: Date.now() + timeoutMs,
        timeoutMs,
        traceHeader: request.traceHeader,
        clientContext: request.clientContext,
      },
      signal,
    );
  }

  /** Why this EE refuses an invocation before admission proper (not Ready, malformed), counted as a rejection; undefined to go on. */
  private refusal(requestId: string, payload: Buffer, clientContext: string | undefined): Rejection | undefined {
    let refused: Rejection | undefined;
    if (this.state !== 'Ready' || this.stopping !== undefined) {
      refused = reject(
        RejectionReason.NotReady,
        `Execution environment ${this.id} is ${this.stopping !== undefined && this.state === 'Ready' ? 'stopping' : this.state}, not Ready`,
      );
    } else if (payload.byteLength > defaultMaxBodyBytes) {
      refused = reject(RejectionReason.InvalidRequest, `Request must be smaller than ${defaultMaxBodyBytes} bytes for the InvokeFunction operation`);
    } else if (!requestIdPattern.test(requestId)) {
      refused = reject(RejectionReason.InvalidRequest, `request_id ${JSON.stringify(requestId)} is not 1–128 letters, digits, '.', '_', ':' or '-'`);
    } else if (clientContext !== undefined && !headerSafe.test(clientContext)) {
      refused = reject(RejectionReason.InvalidRequest, 'client_context must be printable ASCII (base64-encoded JSON, as X-Amz-Client-Context)');
    }
    if (refused) this.broker.countRejection(refused.reason);
    return refused;
  }

  /**
   * Stops the EE: no new work, then up to `graceMs` for the invocations already
   * admitted to finish (a drain: scale-in must not drop admitted work), then
   * SIGTERM to its process group and SIGKILL after `graceMs`; invocations still
   * running then end with Runtime.ExitError. Idempotent.
   */
  stop(graceMs: number): Promise<void> {
    if (this.stopping === undefined) {
      this.stopping = this.doStop(graceMs);
      // A Ready EE that begins to stop leaves the routing table now, not when its process is gone.
      this.ctx.onChange(this);
    }
    return this.stopping;
  }

  private async doStop(graceMs: number): Promise<void> {
    this.settleInit({ kind: 'stopped' });
    this.broker.stopAdmitting('the environment is stopping');
    await this.settled;
    await this.drain(graceMs);
    const exit = await this.terminate(graceMs);
    this.broker.close(exit ? describeExit(exit) : 'signal: terminated', 'the environment stopped');
    await this.release();
    this.state = 'Stopped';
    this.reasonCode = undefined;
    this.reason = undefined;
    this.logger.info({ event: 'environment.stopped', exit: exit ? describeExit(exit) : undefined }, 'execution environment stopped');
    this.ctx.onChange(this);
  }

  /** Waits until no admitted invocation is left, or `deadlineMs` passes. */
  private async drain(deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    while (this.broker.occupied > 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, drainPollMs));
    }
  }

  private async start(): Promise<void> {
    const outcome = new Promise<InitOutcome>((resolve) => {
      let done = false;
      this.settleInit = (result) => {
        if (done) return;
        done = true;
        clearTimeout(this.initTimer);
        if (result.kind === 'ready') this.becomeReady();
        else if (result.kind === 'failed') this.becomeFailed(result.failure);
        resolve(result);
      };
    });
    try {
      await this.launch();
    } catch (error) {
      this.settleInit({ kind: 'failed', failure: asFailure(error) });
    }
    const result = await outcome;
    if (result.kind === 'failed') {
      await this.terminate(0);
      this.broker.close('init failed', result.failure.message);
      await this.release();
    }
  }

  private async launch(): Promise<void> {
    const interpreter = this.ctx.runtimes.get(this.spec.runtime);
    if (!interpreter || !this.family) {
      throw new EnvironmentFailure(
        'InvalidRuntime',
        `Runtime ${this.spec.runtime} is not available on this instance (available: ${[...this.ctx.runtimes.keys()].join(', ') || 'none'})`,
      );
    }
    const bootstrap = join(this.ctx.runtimesDir, bootstraps[this.family]);
    const plan = await this.ctx.planner.plan(interpreter, bootstrap, this.ctx.environmentsDir);
    const taskDir = join(this.dir, 'task');
    const tmpDir = join(this.dir, 'tmp');
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(taskDir, { recursive: true, mode: 0o755 });
    await mkdir(tmpDir, { mode: 0o700 });
    // Node.js decides whether a .js file is ESM from the nearest package.json above it. In
    // Lambda, /var/task has no parent package; here the EE directory may sit inside a
    // project whose package.json says "type": "module". A neutral package.json above the
    // task directory stops the lookup, so a package without one is CommonJS, as in Lambda.
    await writeFile(join(this.dir, 'package.json'), '{}\n', { mode: 0o644 });
    if (plan.runAs) await chown(tmpDir, plan.runAs.uid, plan.runAs.gid);
    if (this.stopRequested) return;

    const code = await this.fetch();
    await extractPackage(code, taskDir);
    if (this.stopRequested) return;

    this.server = await startRuntimeApiServer({
      broker: this.broker,
      functionArn: this.spec.functionArn,
      logger: this.logger,
      events: {
        onNext: () => {
          if (this.state === 'Starting' && !this.stopRequested) this.settleInit({ kind: 'ready' });
          return this.state === 'Ready' && !this.stopRequested;
        },
        onInitError: (error) => this.onInitError(error),
      },
    });
    const { env, ignored } = buildEnvironmentVariables({
      functionName: this.spec.functionName,
      version: this.spec.version,
      memorySizeMb: this.spec.memorySizeMb,
      maxConcurrency: this.maxConcurrency,
      vcpus: this.spec.vcpus,
      runtime: this.spec.runtime,
      family: this.family,
      handler: this.spec.handler,
      region: this.spec.region || this.ctx.region,
      logGroup: this.spec.logGroup || `/aws/lambda/${this.spec.functionName}`,
      logStream: logStreamName(this.spec.version, this.id),
      runtimeApi: this.server.address,
      taskRoot: taskDir,
      runtimeDir: join(bootstrap, '..'),
      tmpDir,
      interpreter: plan.executable,
      variables: this.spec.variables,
    });
    if (ignored.length > 0) this.logger.warn({ ignored }, 'function variables with reserved names were ignored');
    this.output = createOutputCapture({
      file: join(this.dir, 'output.log'),
      environmentId: this.id,
      functionName: this.spec.functionName,
      version: this.spec.version,
      maxFileBytes: this.ctx.outputLogMaxBytes,
      ...(this.ctx.onOutputLine ? { onLine: this.ctx.onOutputLine } : {}),
    });
    const initTimeoutMs = this.spec.initTimeoutMs > 0 ? this.spec.initTimeoutMs : defaultInitTimeoutMs(this.spec.timeoutSeconds);
    this.spawnedAt = performance.now();
    this.process = spawnRuntime({
      executable: plan.executable,
      args: [bootstrap],
      cwd: taskDir,
      env,
      runAs: plan.runAs,
      output: this.output,
    });
    void this.process.exited.then((exit) => this.onExit(exit));
    this.initTimer = setTimeout(() => {
      this.settleInit({
        kind: 'failed',
        failure: new EnvironmentFailure(
          'FunctionError.InitTimeout',
          `Init did not complete within ${initTimeoutMs} ms (the runtime never asked for an invocation); the runtime was stopped`,
        ),
      });
    }, initTimeoutMs);
    this.logger.info(
      { event: 'environment.spawned', pid: this.process.pid, runtimeApi: this.server.address, runAs: plan.runAs?.uid, initTimeoutMs },
      'runtime started',
    );
  }

  private async fetch(): Promise<Uint8Array> {
    let code: Uint8Array | undefined;
    try {
      code = await this.ctx.fetchCode(this.spec.codeSha256Hex);
    } catch (error) {
      throw new EnvironmentFailure('InternalError', `Could not fetch code ${this.spec.codeSha256Hex} from the code store: ${(error as Error).message}`);
    }
    if (!code) throw new EnvironmentFailure('InternalError', `Code ${this.spec.codeSha256Hex} is not in the code store`);
    return code;
  }

  private onInitError(error: LambdaErrorBody): void {
    if (this.state !== 'Starting') {
      this.logger.warn({ errorType: error.errorType, errorMessage: error.errorMessage }, 'init error reported after init completed');
      return;
    }
    const message = `${error.errorType}: ${error.errorMessage}`.slice(0, 2_000);
    this.settleInit({ kind: 'failed', failure: new EnvironmentFailure(initErrorReasonCode(error.errorType), message) });
  }

  private onExit(exit: RuntimeExit): void {
    const how = describeExit(exit);
    const spawnError = this.process?.spawnError;
    if (this.state === 'Starting') {
      const failure = spawnError
        ? new EnvironmentFailure('FunctionError.RuntimeInitError', `Could not start the runtime: ${spawnError.message}`)
        : new EnvironmentFailure('FunctionError.RuntimeInitError', `Runtime exited before init completed: ${how}${this.tailNote()}`);
      this.settleInit({ kind: 'failed', failure });
      return;
    }
    if (this.state === 'Ready' && !this.stopRequested) {
      this.state = 'Failed';
      this.reasonCode = 'Runtime.ExitError';
      this.reason = `Runtime exited with error: ${how}${this.tailNote()}`;
      this.logger.warn({ event: 'environment.failed', reasonCode: this.reasonCode, reason: this.reason, exit: how }, 'runtime exited after init');
      this.broker.close(how, this.reason);
      // The survivors of a dying group (forked workers) must not linger.
      this.process?.signal('SIGKILL');
      void this.process?.groupGone(reapTimeoutMs);
      void this.release();
      this.ctx.onChange(this);
    }
  }

  private tailNote(): string {
    const tail = (this.output?.tail('stderr') || this.output?.tail('stdout') || '').trim();
    return tail ? `. Last output: ${tail.slice(-1_500)}` : '';
  }

  private becomeReady(): void {
    this.state = 'Ready';
    this.initDurationMs = Math.round(performance.now() - this.spawnedAt);
    this.logger.info({ event: 'environment.ready', initDurationMs: this.initDurationMs, maxConcurrency: this.maxConcurrency }, 'execution environment ready');
    this.ctx.onChange(this);
  }

  private becomeFailed(failure: EnvironmentFailure): void {
    this.state = 'Failed';
    this.reasonCode = failure.reasonCode;
    this.reason = failure.message;
    this.broker.stopAdmitting(failure.message);
    this.logger.warn({ event: 'environment.failed', reasonCode: failure.reasonCode, reason: failure.message }, 'execution environment failed');
    this.ctx.onChange(this);
  }

  /** Ends the process group: SIGTERM and up to `graceMs`, then SIGKILL; resolves with the exit (undefined if none was started). */
  private async terminate(graceMs: number): Promise<RuntimeExit | undefined> {
    const proc = this.process;
    if (!proc) return undefined;
    if (!proc.hasExited) {
      proc.signal(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
      if (graceMs > 0 && (await within(proc.exited, graceMs)) === undefined) proc.signal('SIGKILL');
    }
    const exit = await within(proc.exited, reapTimeoutMs);
    if (exit === undefined) this.logger.error({ pid: proc.pid }, `runtime did not exit within ${reapTimeoutMs} ms of SIGKILL`);
    // A leader that exited on SIGTERM may leave children that ignored it.
    proc.signal('SIGKILL');
    if (!(await proc.groupGone(reapTimeoutMs))) this.logger.error({ pgid: proc.pid }, 'processes of the runtime survived SIGKILL');
    return exit;
  }

  /** Closes the Runtime API and output file and removes the package and /tmp (output.log stays). Idempotent. */
  private release(): Promise<void> {
    this.released ??= (async () => {
      await this.server?.close();
      await within(this.output?.close() ?? Promise.resolve(), reapTimeoutMs);
      await rm(join(this.dir, 'task'), { recursive: true, force: true }).catch(() => undefined);
      await rm(join(this.dir, 'tmp'), { recursive: true, force: true }).catch(() => undefined);
    })();
    return this.released;
  }

  /** Removes everything the EE left on disk, output.log included (when the agent forgets it). */
  async removeFiles(): Promise<void> {
    await this.release();
    await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function asFailure(error: unknown): EnvironmentFailure {
  if (error instanceof EnvironmentFailure) return error;
  return new EnvironmentFailure('InternalError', `Could not prepare the execution environment: ${(error as Error)?.message ?? String(error)}`);
}

/** The promise's value, or undefined when `ms` pass first. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
