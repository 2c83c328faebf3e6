/**
 * Why an invocation is throttled and when to retry: the `Throttled` answer
 * the api turns into HTTP 429 TooManyRequestsException with `Reason` and
 * `Retry-After`.
 */
import type { router as proto } from '@hearth/proto';
import type { PickContext } from './picker.js';
import type { RefusalReason, Route } from './routing-table.js';

/** The documented throttle reasons (router.proto `Throttled.reason`). */
export type ThrottleReason = 'ConcurrentInvocationLimitExceeded' | 'CPUThrottle' | 'MemoryThrottle' | 'NoReadyEnvironment';

/** Tie order: the reason a caller can act on first. */
const priority: readonly ThrottleReason[] = ['ConcurrentInvocationLimitExceeded', 'CPUThrottle', 'MemoryThrottle', 'NoReadyEnvironment'];

/** The throttle reason an agent's refusal stands for. */
export function throttleReasonOf(refusal: RefusalReason): ThrottleReason {
  switch (refusal) {
    case 'ConcurrencyLimit':
    case 'AgentStreamFull':
      return 'ConcurrentInvocationLimitExceeded';
    case 'CPUPressure':
      return 'CPUThrottle';
    case 'MemoryPressure':
      return 'MemoryThrottle';
    case 'NotReady':
    case 'UnknownEnvironment':
    case 'AgentUnavailable':
      return 'NoReadyEnvironment';
  }
}

/** How many EEs of a large route the reason looks at: a throttle must stay cheap when 15,000 EEs are full. */
const classifyAtMost = 64;

/**
 * The reason most EEs of the route could not take the invocation: each
 * refusal this invocation received counts as its reason, and every other EE
 * as why it was no candidate (full, pressure back-off, agent down or stale
 * report). Ties go to the reason earlier in `priority`.
 */
export function throttleReason(
  route: Route | undefined,
  refusals: ReadonlyMap<string, RefusalReason>,
  ctx: PickContext,
): ThrottleReason {
  const counts: Record<ThrottleReason, number> = {
    ConcurrentInvocationLimitExceeded: 0,
    CPUThrottle: 0,
    MemoryThrottle: 0,
    NoReadyEnvironment: 0,
  };
  for (const refusal of refusals.values()) counts[throttleReasonOf(refusal)] += 1;
  const entries = route?.entries ?? [];
  const step = Math.max(1, Math.floor(entries.length / classifyAtMost));
  for (let i = 0; i < entries.length; i += step) {
    const entry = entries[i];
    if (!entry || refusals.has(entry.environmentId)) continue;
    if (!entry.instance.agentUp || entry.reportedAt <= ctx.now - ctx.staleMs) counts.NoReadyEnvironment += 1;
    else if (entry.blockedUntil > ctx.now && entry.blockedReason) counts[throttleReasonOf(entry.blockedReason)] += 1;
    else if (entry.free <= 0) counts.ConcurrentInvocationLimitExceeded += 1;
    // Otherwise a candidate left untried (the attempt budget ran out): it says nothing about why.
  }
  let best: ThrottleReason = 'NoReadyEnvironment';
  let bestCount = 0;
  for (const reason of priority) {
    if (counts[reason] > bestCount) {
      best = reason;
      bestCount = counts[reason];
    }
  }
  return best;
}

/** What a throttle's retry hint is computed from. */
export interface RetryHintOptions {
  /** NoReadyEnvironment: EEs take a while to appear (placement, scaling). */
  noReadyRetryAfterMs: number;
  /** CPU and memory throttles: how long the router itself keeps a pressured EE out. */
  pressureBackoffMs: number;
}

/**
 * `retry_after_ms`: for concurrency, the version's average invocation
 * duration (by then every slot has turned over once), clamped to 10–1000 ms,
 * 100 ms while unknown; for pressure, the router's own back-off (at least
 * 50 ms); for no ready EE, `noReadyRetryAfterMs`.
 */
export function retryAfterMs(reason: ThrottleReason, route: Route | undefined, options: RetryHintOptions): number {
  switch (reason) {
    case 'ConcurrentInvocationLimitExceeded': {
      const average = route?.durationEwmaMs ?? 0;
      return average > 0 ? Math.min(1_000, Math.max(10, Math.round(average))) : 100;
    }
    case 'CPUThrottle':
    case 'MemoryThrottle':
      return Math.max(50, options.pressureBackoffMs);
    case 'NoReadyEnvironment':
      return options.noReadyRetryAfterMs;
  }
}

const messages: Record<ThrottleReason, string> = {
  ConcurrentInvocationLimitExceeded: 'Every execution environment of this version is at its maximum concurrency.',
  CPUThrottle: 'The execution environments of this version are refusing work under CPU pressure.',
  MemoryThrottle: 'The execution environments of this version are refusing work under memory pressure.',
  NoReadyEnvironment: 'No execution environment of this version is ready.',
};

/** The Throttled message of a reason. */
export function throttled(reason: ThrottleReason, retryAfter: number): proto.Throttled {
  return { reason, message: messages[reason], retryAfterMs: retryAfter };
}
