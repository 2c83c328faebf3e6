/**
 * The two time windows the autoscaler keeps, as immutable arrays (a step
 * returns new arrays and never changes its input state):
 *
 * - **samples**: the observed demand of each step, averaged over the stable
 *   and the burst windows. A step's observation stands for the period since
 *   the previous one, so with evenly spaced steps the plain mean equals the
 *   time-weighted mean; the scaler steps on a fixed tick.
 * - **held desires**: a monotonic queue (values strictly decreasing from
 *   the front) whose front is the largest desire of the scale-down delay
 *   window, so "the most wanted during the last five minutes" costs O(1)
 *   amortised per step instead of a scan of every step's desire.
 */

/** Demand observed at one step, in absolute units. */
export interface DemandSample {
  /** When it was observed, ms. */
  readonly at: number;
  /** In-flight invocations plus the concurrency the rejected ones would have used. */
  readonly concurrency: number;
  /** CPU used by the Ready EEs, in EE-percent (mean CPU % × Ready EEs). */
  readonly cpu: number;
}

/** A desire and when it was wanted. */
export interface HeldDesire {
  readonly at: number;
  readonly desired: number;
}

/** `samples` without those older than `horizonMs` before `now`, with `sample` appended. */
export function appendSample(samples: readonly DemandSample[], sample: DemandSample, now: number, horizonMs: number): DemandSample[] {
  let first = 0;
  // Samples are in time order: the old ones are a prefix.
  while (first < samples.length && samples[first]!.at <= now - horizonMs) first++;
  const kept = samples.slice(first);
  kept.push(sample);
  return kept;
}

/** The mean concurrency and CPU of the samples taken after `now - windowMs`; zeros when none. */
export function averageOver(samples: readonly DemandSample[], now: number, windowMs: number): { concurrency: number; cpu: number; count: number } {
  let concurrency = 0;
  let cpu = 0;
  let count = 0;
  for (let index = samples.length - 1; index >= 0; index--) {
    const sample = samples[index]!;
    if (sample.at <= now - windowMs) break;
    concurrency += sample.concurrency;
    cpu += sample.cpu;
    count += 1;
  }
  return count === 0 ? { concurrency: 0, cpu: 0, count } : { concurrency: concurrency / count, cpu: cpu / count, count };
}

/**
 * Adds `desired` at `now` to the monotonic queue and drops what fell out of
 * the window: entries older than `windowMs`, and entries at the back no
 * larger than the new one (they can never be the maximum again).
 */
export function holdDesire(held: readonly HeldDesire[], desired: number, now: number, windowMs: number): HeldDesire[] {
  let first = 0;
  while (first < held.length && held[first]!.at <= now - windowMs) first++;
  let last = held.length;
  while (last > first && held[last - 1]!.desired <= desired) last--;
  const kept = held.slice(first, last);
  kept.push({ at: now, desired });
  return kept;
}

/** The largest desire held; the queue is never empty after {@link holdDesire}. */
export function heldMaximum(held: readonly HeldDesire[]): number {
  return held[0]?.desired ?? 0;
}
