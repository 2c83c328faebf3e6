import { ServiceUnavailableException, TooManyRequestsException } from '@hearth/errors';
import { concurrencyAdmission, type AdmissionPolicy } from './admission.js';
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
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

type Entry = {
  readonly invocation: Invocation;
  state: 'queued' | 'running' | 'timed-out';
  readonly admittedAt: number;
  dispatchedAt?: number;
  timer?: NodeJS.Timeout;
  settle(outcome: InvocationOutcome): void;
  fail(error: Error): void;
};

/** Counters of a broker, for load reports and tests. */
export interface BrokerStats {
  /** Invocations refused at admission, by reason. */
  readonly rejected: Readonly<Record<string, number>>;
  readonly timedOut: number;
  readonly completed: number;
}

/**
 * Pairs invocations with the runtime's /next long-polls for one EE. An
 * invocation is admitted only while the admission policy allows (by default:
 * fewer than max concurrency slots taken); one that is not is refused at once
 * with TooManyRequestsException naming the reason, never queued. Admitted
 * invocations go to a waiting poller or wait in a queue that the admission bound
 * keeps at most max concurrency long. Each has a deadline: when it passes, the
 * caller gets Lambda's timeout error, and the slot stays taken until the
 * runtime answers (an LMI EE keeps running the code), unless the runtime proves
 * the slot free by polling beyond its concurrency.
 */
export class InvocationBroker {
  readonly environmentId: string;
  readonly maxConcurrency: number;
  private readonly admission: AdmissionPolicy;
  private readonly now: () => number;
  private readonly queue: Entry[] = [];
  private readonly pollers: Poller[] = [];
  /** Handed to the runtime and not yet answered, including timed-out ones, in dispatch order. */
  private readonly active = new Map<string, Entry>();
  private closedWith: Error | undefined;
  private readonly rejected: Record<string, number> = {};
  private timedOut = 0;
  private completed = 0;

  constructor(options: InvocationBrokerOptions) {
    this.environmentId = options.environmentId;
    this.maxConcurrency = options.maxConcurrency;
    this.admission = options.admission ?? concurrencyAdmission;
    this.now = options.now ?? Date.now;
  }

  /** Slots taken: queued, running, and timed out but unanswered. */
  get occupied(): number {
    return this.queue.length + this.active.size;
  }

  /** /next polls waiting for work. */
  get waitingPollers(): number {
    return this.pollers.length;
  }

  get stats(): BrokerStats {
    return { rejected: { ...this.rejected }, timedOut: this.timedOut, completed: this.completed };
  }

  /**
   * Admits and runs one invocation. Rejects at once with TooManyRequestsException
   * when not admitted, or ServiceUnavailableException when the EE no longer takes
   * work; `signal` withdraws an invocation still waiting in the queue.
   */
  submit(invocation: Invocation, signal?: AbortSignal): Promise<InvocationOutcome> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.active.has(invocation.requestId) || this.queue.some((entry) => entry.invocation.requestId === invocation.requestId)) {
      return Promise.reject(new ServiceUnavailableException(`Request ${invocation.requestId} is already running on ${this.environmentId}`));
    }
    const decision = this.admission.decide({
      environmentId: this.environmentId,
      maxConcurrency: this.maxConcurrency,
      occupied: this.occupied,
      waitingPollers: this.pollers.length,
    });
    if (!decision.admit) {
      this.rejected[decision.reason] = (this.rejected[decision.reason] ?? 0) + 1;
      return Promise.reject(new TooManyRequestsException(decision.message, { reason: decision.reason }));
    }
    return new Promise<InvocationOutcome>((resolve, reject) => {
      let done = false;
      const finish = () => {
        done = true;
        clearTimeout(entry.timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const entry: Entry = {
        invocation,
        state: 'queued',
        admittedAt: this.now(),
        settle: (outcome) => {
          if (done) return;
          finish();
          resolve(outcome);
        },
        fail: (error) => {
          if (done) return;
          finish();
          reject(error);
        },
      };
      const onAbort = () => {
        if (entry.state !== 'queued') return;
        this.removeQueued(entry);
        entry.fail(new ServiceUnavailableException(`Invocation ${invocation.requestId} was cancelled before it started`));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      entry.timer = setTimeout(() => this.expire(entry), Math.max(0, invocation.deadlineMs - this.now()));
      if (!this.dispatchToPoller(entry)) this.queue.push(entry);
    });
  }

  /**
   * A /next poll arrived: hands it the oldest queued invocation, or keeps it
   * waiting. Returns a function that withdraws a waiting poll (its connection closed).
   */
  poll(poller: Poller): () => void {
    // A stopping EE hands out no more work; its polls simply wait until the process ends.
    if (this.closedWith) return () => {};
    this.retireOrphans();
    const queued = this.queue.shift();
    if (queued) {
      // A poll whose connection died under us leaves the invocation at the front.
      if (!this.dispatch(queued, poller)) this.queue.unshift(queued);
      return () => {};
    }
    this.pollers.push(poller);
    return () => {
      const index = this.pollers.indexOf(poller);
      if (index >= 0) this.pollers.splice(index, 1);
    };
  }

  /**
   * The runtime answered an invocation (/response or /error). False when the id
   * is not one the runtime holds (unknown, or answered already).
   */
  answer(requestId: string, result: { payload: Buffer; errorBody?: undefined } | { errorBody: LambdaErrorBody | Buffer; payload?: undefined }): boolean {
    const entry = this.active.get(requestId);
    if (!entry) return false;
    this.active.delete(requestId);
    if (entry.state === 'timed-out') return true;
    this.completed += 1;
    const durationMs = this.now() - (entry.dispatchedAt ?? entry.admittedAt);
    if (result.errorBody === undefined) {
      entry.settle({ payload: result.payload, durationMs });
    } else {
      const payload = Buffer.isBuffer(result.errorBody) ? result.errorBody : errorPayload(result.errorBody);
      entry.settle({ payload, functionError: unhandledFunctionError, durationMs });
    }
    return true;
  }

  /** Whether the runtime holds this request id (running or timed out, unanswered). */
  holds(requestId: string): boolean {
    return this.active.has(requestId);
  }

  /**
   * The EE stopped taking work (stopped, failed, or its process ended): running
   * invocations end with Lambda's Runtime.ExitError (they may have run part of
   * the way), queued ones are refused with ServiceUnavailableException (they never
   * started, so a retry elsewhere is safe), and later submits are refused too.
   */
  close(exit: string, reason: string): void {
    this.stopAdmitting(reason);
    for (const [requestId, entry] of this.active) {
      if (entry.state === 'running') {
        entry.settle({
          payload: errorPayload(runtimeExitError(requestId, exit)),
          functionError: unhandledFunctionError,
          durationMs: this.now() - (entry.dispatchedAt ?? entry.admittedAt),
        });
      }
    }
    this.active.clear();
  }

  /**
   * Takes no more work (the EE is stopping): later submits and queued
   * invocations are refused with ServiceUnavailableException, since they never
   * started; running ones continue until answered or close() ends them. Idempotent.
   */
  stopAdmitting(reason: string): void {
    if (this.closedWith) return;
    this.closedWith = new ServiceUnavailableException(`Execution environment ${this.environmentId} is not taking invocations: ${reason}`);
    for (const entry of this.queue.splice(0)) entry.fail(this.closedWith);
    this.pollers.splice(0);
  }

  private dispatchToPoller(entry: Entry): boolean {
    while (this.pollers.length > 0) {
      const poller = this.pollers.shift() as Poller;
      if (this.dispatch(entry, poller)) return true;
    }
    return false;
  }

  private dispatch(entry: Entry, poller: Poller): boolean {
    if (!poller.deliver(entry.invocation)) return false;
    entry.state = 'running';
    entry.dispatchedAt = this.now();
    this.active.set(entry.invocation.requestId, entry);
    return true;
  }

  private expire(entry: Entry): void {
    this.timedOut += 1;
    const outcome = {
      payload: errorPayload(timeoutError(entry.invocation.requestId, entry.invocation.timeoutMs)),
      functionError: unhandledFunctionError,
      durationMs: entry.invocation.timeoutMs,
    };
    if (entry.state === 'queued') this.removeQueued(entry);
    else entry.state = 'timed-out';
    entry.settle(outcome);
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
    let excess = this.active.size + this.pollers.length + 1 - this.maxConcurrency;
    if (excess <= 0) return;
    for (const [requestId, entry] of this.active) {
      if (excess <= 0) break;
      if (entry.state !== 'timed-out') continue;
      this.active.delete(requestId);
      excess -= 1;
    }
  }
}
