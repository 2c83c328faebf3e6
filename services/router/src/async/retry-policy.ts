/**
 * What happens to an asynchronous event after each attempt, as Lambda does it
 * (invocation-async-error-handling):
 * - a function error is retried after a delay (about 1 minute, then 2) up to
 *   MaximumRetryAttempts times, then its record goes to OnFailure
 *   (`RetriesExhausted`);
 * - a throttle or a system error (5xx, no answer) is retried with exponential
 *   backoff (1 s doubling to 5 min, or the router's hint if longer) and does not
 *   count against MaximumRetryAttempts; only MaximumEventAgeInSeconds ends it;
 * - an event older than MaximumEventAgeInSeconds is not run again; its record
 *   goes to OnFailure (`EventAgeExceeded`);
 * - success sends the record to OnSuccess (`Success`);
 * - a function or version that no longer exists drops the event (Lambda
 *   discards events of deleted functions); any other client error ends it as
 *   `RetriesExhausted`, since retrying cannot help.
 * Pure: time and randomness come in as arguments.
 */
import type { AsyncInvocation, AsyncInvokeSettings, EventDestination } from '@hearth/domain';
import type { router } from '@hearth/proto';

/** Delays of the policy. */
export interface RetryDelays {
  /** Before the first retry after a function error; doubles for each further one. Lambda: about 60000 ms. */
  readonly functionErrorDelayMs: number;
  /** After the first throttle or system error; doubles per consecutive one. Lambda: 1000 ms. */
  readonly throttleDelayMs: number;
  /** Longest throttle backoff. Lambda: 300000 ms (5 minutes). */
  readonly throttleMaxDelayMs: number;
  /** Throttle delays vary by ± this fraction, so events throttled together do not return together. Default 0.2. */
  readonly jitter?: number;
}

/** Lambda's delays. */
export const lambdaRetryDelays: RetryDelays = Object.freeze({ functionErrorDelayMs: 60_000, throttleDelayMs: 1_000, throttleMaxDelayMs: 300_000, jitter: 0.2 });

/** What one attempt came to. */
export type AttemptOutcome =
  /** The function ran and returned. */
  | { readonly kind: 'success'; readonly result: router.InvocationResult }
  /** The function ran and failed (error, crash, timeout). */
  | { readonly kind: 'functionError'; readonly result: router.InvocationResult }
  /** Every environment refused. */
  | { readonly kind: 'throttled'; readonly reason: string; readonly retryAfterMs: number }
  /** The platform failed (5xx, no answer in time, router unreachable): worth retrying like a throttle. */
  | { readonly kind: 'systemError'; readonly exception: string; readonly message: string }
  /** The function or version is gone: the event is dropped. */
  | { readonly kind: 'gone'; readonly exception: string; readonly message: string }
  /** A client error retrying cannot fix. */
  | { readonly kind: 'rejected'; readonly exception: string; readonly message: string };

/** Lambda exceptions worth retrying like throttles: the platform, not the request, failed. */
const systemExceptions = new Set(['ServiceException', 'ServiceUnavailableException', 'TooManyRequestsException', 'ResourceConflictException']);

/**
 * Classifies the router's answer (undefined or a thrown error: no answer).
 * ResourceConflictException counts as a system error: a version that is not
 * Active now (being republished, deactivated) may be again before the event's age runs out.
 */
export function classifyAttempt(answer: router.RouteResponse | undefined | Error): AttemptOutcome {
  if (answer === undefined || answer instanceof Error) {
    return { kind: 'systemError', exception: 'ServiceException', message: answer?.message ?? 'The router gave no answer.' };
  }
  const outcome = answer.outcome;
  switch (outcome?.$case) {
    case 'result':
      return outcome.value.functionError ? { kind: 'functionError', result: outcome.value } : { kind: 'success', result: outcome.value };
    case 'throttled':
      return { kind: 'throttled', reason: outcome.value.reason, retryAfterMs: outcome.value.retryAfterMs };
    case 'error': {
      const { exception, message } = outcome.value;
      if (exception === 'ResourceNotFoundException') return { kind: 'gone', exception, message };
      return { kind: systemExceptions.has(exception) || exception === '' ? 'systemError' : 'rejected', exception: exception || 'ServiceException', message };
    }
    default:
      return { kind: 'systemError', exception: 'ServiceException', message: 'The router answered without an outcome.' };
  }
}

/** Why a record is sent, as Lambda names it. */
export type RecordCondition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded';

/** What to do with the event now. */
export type AsyncDecision =
  /** Done: send a record (if a destination is configured) and acknowledge. */
  | {
      readonly kind: 'record';
      readonly condition: RecordCondition;
      readonly destination?: EventDestination;
      /** `approximateInvokeCount` of the record. */
      readonly invocations: number;
    }
  /** Re-enqueue `next` (counters advanced, not before `next.notBeforeMs`) and acknowledge this one. */
  | { readonly kind: 'retry'; readonly next: AsyncInvocation; readonly delayMs: number }
  /** Acknowledge without a record. */
  | { readonly kind: 'drop'; readonly why: 'functionGone' };

/** The moment an event's age runs out, epoch ms. */
export function ageDeadline(invocation: AsyncInvocation, settings: AsyncInvokeSettings): number {
  return invocation.enqueuedAtMs + settings.MaximumEventAgeInSeconds * 1000;
}

/** Before an attempt: run it, or end the event because it is too old. */
export function decideBeforeAttempt(invocation: AsyncInvocation, settings: AsyncInvokeSettings, now: number): AsyncDecision | undefined {
  if (now < ageDeadline(invocation, settings)) return undefined;
  return { kind: 'record', condition: 'EventAgeExceeded', ...failureDestination(settings), invocations: invocation.invocations };
}

function failureDestination(settings: AsyncInvokeSettings): { destination?: EventDestination } {
  return settings.OnFailure === undefined ? {} : { destination: settings.OnFailure };
}

/** The throttle backoff after `throttles` consecutive throttles (0 for the first): doubling, capped, jittered, never below the hint. */
export function throttleDelay(throttles: number, retryAfterMs: number, delays: RetryDelays, random: () => number): number {
  const base = Math.min(delays.throttleMaxDelayMs, delays.throttleDelayMs * 2 ** Math.min(throttles, 30));
  const jitter = delays.jitter ?? 0.2;
  const jittered = base * (1 - jitter + 2 * jitter * random());
  return Math.round(Math.max(retryAfterMs, jittered));
}

/** After an attempt: what becomes of the event. */
export function decideAfterAttempt(
  invocation: AsyncInvocation,
  outcome: AttemptOutcome,
  settings: AsyncInvokeSettings,
  now: number,
  delays: RetryDelays,
  random: () => number,
): AsyncDecision {
  const deadline = ageDeadline(invocation, settings);
  const ran = outcome.kind === 'success' || outcome.kind === 'functionError';
  const invocations = invocation.invocations + (ran ? 1 : 0);
  const retryAt = (delayMs: number, next: Partial<AsyncInvocation>): AsyncDecision => {
    // A retry that would start after the event's age ran out ends it now, with this attempt's response.
    if (now + delayMs >= deadline) return { kind: 'record', condition: 'EventAgeExceeded', ...failureDestination(settings), invocations };
    return {
      kind: 'retry',
      delayMs,
      next: { ...invocation, ...next, invocations, generation: invocation.generation + 1, notBeforeMs: now + delayMs },
    };
  };
  switch (outcome.kind) {
    case 'success':
      return { kind: 'record', condition: 'Success', ...(settings.OnSuccess === undefined ? {} : { destination: settings.OnSuccess }), invocations };
    case 'functionError':
      if (invocation.retries >= settings.MaximumRetryAttempts) {
        return { kind: 'record', condition: 'RetriesExhausted', ...failureDestination(settings), invocations };
      }
      return retryAt(delays.functionErrorDelayMs * 2 ** invocation.retries, { retries: invocation.retries + 1, throttles: 0 });
    case 'throttled':
    case 'systemError':
      return retryAt(throttleDelay(invocation.throttles, outcome.kind === 'throttled' ? outcome.retryAfterMs : 0, delays, random), {
        throttles: invocation.throttles + 1,
      });
    case 'gone':
      return { kind: 'drop', why: 'functionGone' };
    case 'rejected':
      return { kind: 'record', condition: 'RetriesExhausted', ...failureDestination(settings), invocations };
  }
}
