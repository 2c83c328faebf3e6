import { ServiceUnavailableException, TooManyRequestsException } from '@hearth/errors';
import {
  RejectionReason,
  concurrencyAdmission,
  emptyUsage,
  type AdmissionDecision,
  type AdmissionPolicy,
  type EnvironmentLoad,
  type ResourceUsage,
} from './admission.js';
import { errorPayload, runtimeExitError, timeoutError, unhandledFunctionError, type LambdaErrorBody } from './invocation-errors.js';

/** One invocation as the Runtime API hands it to the runtime. */
export interface Invocation {
  readonly requestId: string;
  readonly payload: Buffer;
  /** Epoch ms by which the function must answer (`Lambda-Runtime-Deadline-Ms`). */
  readonly deadlineMs: number;
  /** The timeout that deadline came from, for the timeout message. */
  readonly timeoutMs: number;
  readonly traceHeader: string;
  readonly clientContext?: string | undefined;
}

/** How an invocation ended. */
export interface InvocationOutcome {
  /** The function's result, or Lambda's error JSON when `functionError` is set. */
  readonly payload: Buffer;
  /** `Unhandled` when the function or its runtime failed; absent on success. */
  readonly functionError?: string;
  /** From handing the event to the runtime (or, if it never got there, from admission) to the end. */
  readonly durationMs: number;
}

/**
 * When the runtime ran the handler of an invocation, epoch ms (fractions kept).
 * From the runtime's own report (the `Hearth-Handler-Timing` header of its
 * answer) when it sent a plausible one, else from when the agent handed the
 * event over to when the answer arrived.
 */
export interface HandlerTiming {
  readonly startMs: number;
  readonly endMs: number;
  readonly source: 'runtime' | 'agent';
}

/** Handler times as a runtime reports them, epoch ms. */
export interface ReportedTiming {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * How far (ms) a reported time may lie outside the agent's own window and still
 * be believed: the agent's clock reads whole ms, and a runtime's
 * (performance.timeOrigin + now() in a worker, time.time_ns() in Python) may
 * differ from it by a little. A believed time is then clamped into the window.
 */
const timingToleranceMs = 5;

/**
 * The handler's times: the runtime's report when it lies within the window
 * the agent saw (handed over → answered), else that window. A report outside
 * it (another clock, a runtime bug) would draw the handler outside its parent.
 */
export function handlerTiming(dispatchedAt: number, answeredAt: number, reported: ReportedTiming | undefined): HandlerTiming {
  if (
    reported !== undefined &&
    reported.startMs <= reported.endMs &&
    reported.startMs >= dispatchedAt - timingToleranceMs &&
    reported.endMs <= answeredAt + timingToleranceMs
  ) {
    const startMs = Math.min(Math.max(reported.startMs, dispatchedAt), answeredAt);
    return { startMs, endMs: Math.min(Math.max(reported.endMs, startMs), answeredAt), source: 'runtime' };
  }
  return { startMs: dispatchedAt, endMs: answeredAt, source: 'agent' };
}

/**
 * Where the end of an admitted invocation goes. Exactly one method is called,
 * once. Callers implement it on the object they keep per invocation anyway, so
 * admitting allocates no promise and no closures.
 */
export interface InvocationSink {
  /**
   * The invocation ended: the function's result or error, a timeout, or the
   * runtime's exit. `handler` says when the handler ran, when the runtime answered.
   */
  complete(outcome: InvocationOutcome, handler?: HandlerTiming): void;
  /**
   * The invocation never reached the runtime (the EE stopped taking work while it
   * was queued, or it was cancelled there): it is safe to run elsewhere.
   */
  refuse(reason: RejectionReason, message: string): void;
}

/** A waiting /next long-poll. */
export interface Poller {
  /** Writes the invocation to the runtime; false when the poll's connection is already gone. */
  deliver(invocation: Invocation): boolean;
}

/** Options of InvocationBroker. */
export interface InvocationBrokerOptions {
  environmentId: string;
  maxConcurrency: number;
  /** Default concurrencyAdmission. */
  admission?: AdmissionPolicy;
  /** The EE's resource use, kept current by the resource monitor. Default: nothing sampled (zeros). */
  usage?: ResourceUsage;
  /** The instance's resource use, kept current by the resource monitor. Default: nothing sampled (zeros). */
  instanceUsage?: ResourceUsage;
  /** Called on every refusal (metrics). Default none. */
  onReject?: (reason: RejectionReason) => void;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

/** Counters of a broker, for load reports and tests. */
export interface BrokerStats {
  /** Invocations refused at admission, by reason. */
  readonly rejected: Readonly<Record<string, number>>;
  readonly timedOut: number;
  readonly completed: number;
}

type EntryState = 'queued' | 'running' | 'timed-out';

/** One admitted invocation. A class, so that admitting allocates one object rather than a handful of closures. */
class Entry {
  state: EntryState = 'queued';
  dispatchedAt = 0;
  timer: NodeJS.Timeout | undefined;
  constructor(
    readonly invocation: Invocation,
    public sink: InvocationSink | undefined,
    readonly admittedAt: number,
  ) {}

  /** Hands the end to the sink, once. */
  complete(outcome: InvocationOutcome, handler?: HandlerTiming): void {
    const sink = this.sink;
    if (!sink) return;
    this.sink = undefined;
    clearTimeout(this.timer);
    sink.complete(outcome, handler);
  }

  refuse(reason: RejectionReason, message: string): void {
    const sink = this.sink;
    if (!sink) return;
    this.sink = undefined;
    clearTimeout(this.timer);
    sink.refuse(reason, message);
  }
}

/** Timer callback with its receivers as arguments: one shared function instead of a closure per invocation. */
function expireEntry(broker: InvocationBroker, entry: Entry): void {
  broker.expire(entry);
}

/** Settles a promise from sink calls: the unary InvokeEnvironment path. */
class PromiseSink implements InvocationSink {
  constructor(
    private readonly resolve: (outcome: InvocationOutcome) => void,
    private readonly rejectWith: (error: Error) => void,
  ) {}
  complete(outcome: InvocationOutcome): void {
    this.resolve(outcome);
  }
  refuse(_reason: RejectionReason, message: string): void {
    this.rejectWith(new ServiceUnavailableException(message));
  }
}

/**
 * Pairs invocations with the runtime's /next long-polls for one EE. An
 * invocation is admitted only while the admission policy allows (by default:
 * fewer than max concurrency slots taken); one that is not is refused at once
 * naming the reason, never queued. Admitted invocations go to a waiting poller
 * or wait in a queue that the admission bound keeps at most max concurrency
 * long. Each has a deadline: when it passes, the caller gets Lambda's timeout
 * error, and the slot stays taken until the runtime answers (an LMI EE keeps
 * running the code), unless the runtime proves the slot free by polling beyond
 * its concurrency.
 */
export class InvocationBroker {
  readonly environmentId: string;
  readonly maxConcurrency: number;
  private readonly admission: AdmissionPolicy;
  private readonly now: () => number;
  private readonly onReject: ((reason: RejectionReason) => void) | undefined;
  /** Admitted and not yet answered (queued, running, timed out), by request id, in admission order. */
  private readonly entries = new Map<string, Entry>();
  /** Admitted invocations waiting for a /next poll, oldest first. */
  private readonly queue: Entry[] = [];
  private readonly pollers: Poller[] = [];
  /** Reused for every admission decision (policies must not keep it). */
  private readonly load: { -readonly [K in keyof EnvironmentLoad]: EnvironmentLoad[K] };
  private closedWith: string | undefined;
  private readonly rejected: Record<string, number> = {};
  private rejectedCount = 0;
  private admittedCount = 0;
  private timedOut = 0;
  private completed = 0;
  private peak = 0;

  constructor(options: InvocationBrokerOptions) {
    this.environmentId = options.environmentId;
    this.maxConcurrency = options.maxConcurrency;
    this.admission = options.admission ?? concurrencyAdmission;
    this.now = options.now ?? Date.now;
    this.onReject = options.onReject;
    this.load = {
      environmentId: this.environmentId,
      maxConcurrency: this.maxConcurrency,
      occupied: 0,
      waitingPollers: 0,
      usage: options.usage ?? emptyUsage(),
      instance: options.instanceUsage ?? emptyUsage(),
    };
  }

  /** Slots taken: queued, running, and timed out but unanswered. */
  get occupied(): number {
    return this.entries.size;
  }

  /** /next polls waiting for work. */
  get waitingPollers(): number {
    return this.pollers.length;
  }

  /** Invocations refused at admission since the broker began, all reasons. */
  get rejectedTotal(): number {
    return this.rejectedCount;
  }

  /** Invocations admitted since the broker began. */
  get admittedTotal(): number {
    return this.admittedCount;
  }

  get stats(): BrokerStats {
    return { rejected: { ...this.rejected }, timedOut: this.timedOut, completed: this.completed };
  }

  /** The most slots taken at once since the last call (then reset to the slots taken now). */
  takePeak(): number {
    const peak = Math.max(this.peak, this.entries.size);
    this.peak = this.entries.size;
    return peak;
  }

  /** Counts a refusal decided outside the broker (the EE not Ready, a malformed request), for load reports. */
  countRejection(reason: RejectionReason): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
    this.rejectedCount += 1;
    this.onReject?.(reason);
  }

  /**
   * Admits one invocation or refuses it at once. When admitted, `sink` later
   * gets exactly one call: `complete` (result, function error, timeout, runtime
   * exit) or `refuse` (it never reached the runtime). A refusal calls nothing.
   */
  admit(invocation: Invocation, sink: InvocationSink): AdmissionDecision {
    if (this.closedWith !== undefined) {
      this.countRejection(RejectionReason.NotReady);
      return { admit: false, reason: RejectionReason.NotReady, message: this.closedWith };
    }
    if (this.entries.has(invocation.requestId)) {
      this.countRejection(RejectionReason.InvalidRequest);
      return {
        admit: false,
        reason: RejectionReason.InvalidRequest,
        message: `Request ${invocation.requestId} is already running on ${this.environmentId}`,
      };
    }
    this.load.occupied = this.entries.size;
    this.load.waitingPollers = this.pollers.length;
    const decision = this.admission.decide(this.load);
    if (!decision.admit) {
      this.countRejection(decision.reason);
      return decision;
    }
    const entry = new Entry(invocation, sink, this.now());
    this.admittedCount += 1;
    this.entries.set(invocation.requestId, entry);
    if (this.entries.size > this.peak) this.peak = this.entries.size;
    entry.timer = setTimeout(expireEntry, Math.max(0, invocation.deadlineMs - entry.admittedAt), this, entry);
    if (!this.dispatchToPoller(entry)) this.queue.push(entry);
    return decision;
  }

  /**
   * Admits and runs one invocation, as a promise. Rejects at once with
   * TooManyRequestsException (the reason attached) when not admitted, or
   * ServiceUnavailableException when the EE no longer takes work; `signal`
   * withdraws an invocation still waiting in the queue.
   */
  submit(invocation: Invocation, signal?: AbortSignal): Promise<InvocationOutcome> {
    return new Promise<InvocationOutcome>((resolve, reject) => {
      const decision = this.admit(invocation, new PromiseSink(resolve, reject));
      if (!decision.admit) {
        if (decision.reason === RejectionReason.NotReady || decision.reason === RejectionReason.InvalidRequest) {
          reject(new ServiceUnavailableException(decision.message));
        } else {
          reject(new TooManyRequestsException(decision.message, { reason: decision.reason }));
        }
        return;
      }
      if (signal?.aborted) {
        this.cancel(invocation.requestId);
      } else if (signal) {
        const onAbort = () => this.cancel(invocation.requestId);
        signal.addEventListener('abort', onAbort, { once: true });
        // The listener must not outlive the invocation on a long-lived signal.
        const entry = this.entries.get(invocation.requestId);
        const sink = entry?.sink;
        if (entry && sink) {
          entry.sink = {
            complete: (outcome, handler) => {
              signal.removeEventListener('abort', onAbort);
              sink.complete(outcome, handler);
            },
            refuse: (reason, message) => {
              signal.removeEventListener('abort', onAbort);
              sink.refuse(reason, message);
            },
          };
        }
      }
    });
  }

  /**
   * The caller went away. An invocation still queued is withdrawn (its sink is
   * refused with `Cancelled`; it never ran) and true is returned; one the
   * runtime holds keeps running, as LMI lets handlers finish, and keeps its
   * slot until the runtime answers (its outcome then goes to the sink, which
   * may ignore it).
   */
  cancel(requestId: string): boolean {
    const entry = this.entries.get(requestId);
    if (!entry || entry.state !== 'queued') return false;
    this.removeQueued(entry);
    this.entries.delete(requestId);
    entry.refuse(RejectionReason.Cancelled, `Invocation ${requestId} was cancelled before it started`);
    return true;
  }

  /**
   * A /next poll arrived: hands it the oldest queued invocation, or keeps it
   * waiting until one is admitted (withdraw() it when its connection closes).
   */
  poll(poller: Poller): void {
    // A stopping EE hands out no more work; its polls simply wait until the process ends.
    if (this.closedWith !== undefined) return;
    this.retireOrphans();
    const queued = this.queue.shift();
    if (queued) {
      // A poll whose connection died under us leaves the invocation at the front.
      if (!this.dispatch(queued, poller)) this.queue.unshift(queued);
      return;
    }
    this.pollers.push(poller);
  }

  /** A waiting poll's connection closed: it takes no invocation. No-op for one that is not waiting. */
  withdraw(poller: Poller): void {
    const index = this.pollers.indexOf(poller);
    if (index >= 0) this.pollers.splice(index, 1);
  }

  /**
   * The runtime answered an invocation (/response or /error). False when the id
   * is not one the runtime holds (unknown, or answered already).
   */
  answer(
    requestId: string,
    result: { payload: Buffer; errorBody?: undefined } | { errorBody: LambdaErrorBody | Buffer; payload?: undefined },
    reported?: ReportedTiming,
  ): boolean {
    const entry = this.entries.get(requestId);
    if (!entry || entry.state === 'queued') return false;
    this.entries.delete(requestId);
    if (entry.state === 'timed-out') return true;
    this.completed += 1;
    const answeredAt = this.now();
    const durationMs = answeredAt - entry.dispatchedAt;
    const handler = handlerTiming(entry.dispatchedAt, answeredAt, reported);
    if (result.errorBody === undefined) {
      entry.complete({ payload: result.payload, durationMs }, handler);
    } else {
      const payload = Buffer.isBuffer(result.errorBody) ? result.errorBody : errorPayload(result.errorBody);
      entry.complete({ payload, functionError: unhandledFunctionError, durationMs }, handler);
    }
    return true;
  }

  /** Whether the runtime holds this request id (running or timed out, unanswered). */
  holds(requestId: string): boolean {
    const entry = this.entries.get(requestId);
    return entry !== undefined && entry.state !== 'queued';
  }

  /**
   * The EE stopped taking work (stopped, failed, or its process ended): running
   * invocations end with Lambda's Runtime.ExitError (they may have run part of
   * the way), queued ones are refused as NotReady (they never started, so a
   * retry elsewhere is safe), and later admissions are refused too.
   */
  close(exit: string, reason: string): void {
    this.stopAdmitting(reason);
    const now = this.now();
    for (const [requestId, entry] of this.entries) {
      if (entry.state === 'running') {
        entry.complete({
          payload: errorPayload(runtimeExitError(requestId, exit)),
          functionError: unhandledFunctionError,
          durationMs: now - entry.dispatchedAt,
        });
      }
    }
    this.entries.clear();
  }

  /**
   * Takes no more work (the EE is stopping): later admissions and queued
   * invocations are refused as NotReady, since they never started; running ones
   * continue until answered or close() ends them. Idempotent.
   */
  stopAdmitting(reason: string): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = `Execution environment ${this.environmentId} is not taking invocations: ${reason}`;
    for (const entry of this.queue.splice(0)) {
      this.entries.delete(entry.invocation.requestId);
      entry.refuse(RejectionReason.NotReady, this.closedWith);
    }
    this.pollers.splice(0);
  }

  /** The deadline of an admitted invocation passed. Called by its timer. */
  expire(entry: Entry): void {
    if (!entry.sink || this.entries.get(entry.invocation.requestId) !== entry) return;
    this.timedOut += 1;
    const outcome = {
      payload: errorPayload(timeoutError(entry.invocation.requestId, entry.invocation.timeoutMs)),
      functionError: unhandledFunctionError,
      durationMs: entry.invocation.timeoutMs,
    };
    if (entry.state === 'queued') {
      this.removeQueued(entry);
      this.entries.delete(entry.invocation.requestId);
    } else {
      entry.state = 'timed-out';
    }
    entry.complete(outcome);
  }

  private dispatchToPoller(entry: Entry): boolean {
    while (this.pollers.length > 0) {
      const poller = this.pollers.shift() as Poller;
      if (this.dispatch(entry, poller)) return true;
    }
    return false;
  }

  private dispatch(entry: Entry, poller: Poller): boolean {
    // Read before the hand-over: the runtime may start the handler before this process runs its next line.
    const at = this.now();
    if (!poller.deliver(entry.invocation)) return false;
    entry.state = 'running';
    entry.dispatchedAt = at;
    return true;
  }

  private removeQueued(entry: Entry): void {
    const index = this.queue.indexOf(entry);
    if (index >= 0) this.queue.splice(index, 1);
  }

  /**
   * A runtime runs at most max concurrency /next loops, each holding at most one
   * invocation; a poll that would exceed that proves some timed-out invocation's
   * loop is gone (its worker crashed or dropped it), so the oldest such slot is freed.
   */
  private retireOrphans(): void {
    let excess = this.entries.size - this.queue.length + this.pollers.length + 1 - this.maxConcurrency;
    if (excess <= 0) return;
    for (const [requestId, entry] of this.entries) {
      if (excess <= 0) break;
      if (entry.state !== 'timed-out') continue;
      this.entries.delete(requestId);
      excess -= 1;
    }
  }
}
