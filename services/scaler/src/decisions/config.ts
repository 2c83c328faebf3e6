/**
 * The autoscaler's tuning, the version's limits, and the provider's CPU
 * target, each with its default and the reason for it.
 *
 * ## Why the concurrency target is 0.5
 *
 * LMI promises that a version's traffic may double within five minutes
 * without throttles (spec §4). Capacity cannot follow instantly: the stable
 * window (60 s) plus starting EEs (seconds) or launching instances (about a
 * minute) make a reaction time R of about 60 s, during which the version
 * runs on the capacity it had. Whatever part of a doubling can arrive within
 * R must therefore fit into the headroom kept at steady state.
 *
 * - A smooth exponential doubling over 300 s grows by 2^(R/300) = 2^0.2 ≈ 1.15
 *   within R; a linear one by 1 + R/300 = 1.2. Targets of 0.87 or 0.83 would do.
 * - But "within five minutes" does not promise a smooth curve: the whole
 *   doubling may arrive at once. Only a target of at most 1/2 absorbs a 2×
 *   step with no reaction at all, so 0.5 is the largest target that keeps the
 *   promise for every shape of doubling.
 *
 * And 0.5 keeps it repeatedly: after a 2× step the utilisation reads 1.0, the
 * burst window (6 s) sees it, and the desire of 2× ready EEs is exactly the
 * panic threshold, so the headroom is restored at the new level within
 * seconds of EEs starting, long before the next doubling is due (R is a fifth
 * of five minutes). It is also consistent with the third-party observation
 * that LMI absorbs a 50 % spike immediately (spec §4). The price is that half
 * of the EEs' slots are idle at steady state; the target is configurable.
 *
 * ## Why the CPU target is 50 % in Auto mode
 *
 * The same argument for CPU-bound work: twice the requests need twice the
 * CPU, and at a mean of 50 % a doubling reaches 100 % of the EEs' vCPUs
 * without exceeding it. In Manual mode the operator's TargetValue replaces it
 * (LMI's documented example is 30 %).
 */

/** Target utilisation of the EEs' concurrency slots (in-flight / capacity). */
export const defaultTargetConcurrencyUtilization = 0.5;
/** Target mean EE CPU % when the provider's ScalingMode is Auto. */
export const defaultAutoTargetCpuPercent = 50;
/** MinExecutionEnvironments when the scaling config omits it: 3, one per zone (spec §2). */
export const defaultMinEnvironments = 3;
/** MaxExecutionEnvironments when the scaling config omits it: unbounded (spec §2). */
export const defaultMaxEnvironments = Number.POSITIVE_INFINITY;
/** The stable window (Knative KPA's default): long enough that noise averages out. */
export const defaultStableWindowMs = 60_000;
/** The burst (panic) window: a tenth of the stable window, as in Knative (panic-window-percentage 10). */
export const defaultBurstWindowMs = 6_000;
/** Burst desire over Ready EEs at which panic starts (Knative's 200 %). */
export const defaultPanicThreshold = 2;
/** At most this many times the Ready EEs per step (Knative allows ×1000; EEs cost memory on shared instances, so less). */
export const defaultMaxScaleUpRate = 10;
/** At most this fraction of the desired EEs is shed per step (Knative's ÷2). */
export const defaultMaxScaleDownFraction = 0.5;
/** How long a lower desire must hold before EEs are stopped (spec §4: scale-down is conservative). */
export const defaultScaleDownDelayMs = 300_000;
/**
 * How long a rejected request would have held a slot, in seconds, for load
 * reports without admission counts (the agent's today). The concurrency the
 * rejected invocations would have used is then estimated by Little's law as
 * rejections per second × this, and their CPU by the same ratio. 0.25 s is
 * one load-report interval, so each rejection in a report counts as one
 * invocation in flight, and it is below most functions' mean duration (half
 * of all functions average under 1 s, Shahrad et al., ATC'20).
 *
 * Under-counting is cheap: a saturated version's utilisation reads 1.0,
 * which already doubles it every step in panic, and rejections only speed
 * that up. Over-counting is not: it overshoots for short invocations, and
 * the surplus stays for the scale-down delay. In bench/scaler.mjs (latencies
 * 20 ms–1 s, 10× step on 25 of 500 functions) throttles stop 80–94 s after
 * the step for every value from 0 to 2 s, since instance launches bound it,
 * while the peak is 1.05× the EEs needed at 0, 1.16× at 0.25 s, 1.42× at
 * 0.5 s, 2.05× at 1 s and 3.2× at 2 s. That is this repository's own load
 * model, not a measurement of LMI. With admissions reported (see
 * VersionObservation.admitted) nothing is assumed: the same step then stops
 * throttling after 66 s (launch + EE start) with a peak of 1.07×.
 */
export const defaultRejectionHoldSeconds = 0.25;
/** Assumed time since the previous step on the very first step, for the rejection rate. */
export const defaultStepIntervalMs = 2_000;

/** Tuning of the autoscaler; every member is optional and defaults as named. */
export interface AutoscalerConfig {
  /** MinExecutionEnvironments. Default {@link defaultMinEnvironments} (3). */
  readonly minEnvironments?: number;
  /** MaxExecutionEnvironments. Default unbounded. min = max = 0 deactivates the version. */
  readonly maxEnvironments?: number;
  /** In-flight / capacity to aim for, in (0, 1]. Default {@link defaultTargetConcurrencyUtilization} (0.5). */
  readonly targetConcurrencyUtilization?: number;
  /** Mean EE CPU % to aim for, > 0. Default {@link defaultAutoTargetCpuPercent} (50); see {@link cpuTargetPercent}. */
  readonly targetCpuPercent?: number;
  /** Default {@link defaultStableWindowMs} (60 s). */
  readonly stableWindowMs?: number;
  /** Default {@link defaultBurstWindowMs} (6 s); at most the stable window. */
  readonly burstWindowMs?: number;
  /** Default {@link defaultPanicThreshold} (2). */
  readonly panicThreshold?: number;
  /** Default {@link defaultMaxScaleUpRate} (10). */
  readonly maxScaleUpRate?: number;
  /** In (0, 1]. Default {@link defaultMaxScaleDownFraction} (0.5). */
  readonly maxScaleDownFraction?: number;
  /** Default {@link defaultScaleDownDelayMs} (5 min). */
  readonly scaleDownDelayMs?: number;
  /** Default {@link defaultRejectionHoldSeconds} (0.25 s). */
  readonly rejectionHoldSeconds?: number;
  /** Default {@link defaultStepIntervalMs} (2 s). */
  readonly firstStepIntervalMs?: number;
}

/** {@link AutoscalerConfig} with every default filled in and checked. */
export type ResolvedAutoscalerConfig = { readonly [K in keyof AutoscalerConfig]-?: number };

function check(name: string, value: number, valid: boolean): number {
  if (!valid || Number.isNaN(value)) throw new RangeError(`autoscaler ${name} is out of range (got ${value})`);
  return value;
}

/**
 * Fills in the defaults and checks the ranges; a bad value is a caller bug,
 * so it throws RangeError. min must not exceed max, and min 0 is only valid
 * with max 0 (spec §2).
 */
export function resolveAutoscalerConfig(config: AutoscalerConfig = {}): ResolvedAutoscalerConfig {
  const min = config.minEnvironments ?? defaultMinEnvironments;
  const max = config.maxEnvironments ?? defaultMaxEnvironments;
  check('minEnvironments', min, Number.isInteger(min) && min >= 0);
  check('maxEnvironments', max, (Number.isInteger(max) || max === Number.POSITIVE_INFINITY) && max >= min);
  if (min === 0 && max !== 0) throw new RangeError(`autoscaler minEnvironments 0 is only valid with maxEnvironments 0 (got max ${max})`);
  const stableWindowMs = config.stableWindowMs ?? defaultStableWindowMs;
  const burstWindowMs = config.burstWindowMs ?? defaultBurstWindowMs;
  check('stableWindowMs', stableWindowMs, stableWindowMs > 0);
  check('burstWindowMs', burstWindowMs, burstWindowMs > 0 && burstWindowMs <= stableWindowMs);
  const target = config.targetConcurrencyUtilization ?? defaultTargetConcurrencyUtilization;
  const cpu = config.targetCpuPercent ?? defaultAutoTargetCpuPercent;
  const panic = config.panicThreshold ?? defaultPanicThreshold;
  const up = config.maxScaleUpRate ?? defaultMaxScaleUpRate;
  const down = config.maxScaleDownFraction ?? defaultMaxScaleDownFraction;
  const delay = config.scaleDownDelayMs ?? defaultScaleDownDelayMs;
  const hold = config.rejectionHoldSeconds ?? defaultRejectionHoldSeconds;
  const first = config.firstStepIntervalMs ?? defaultStepIntervalMs;
  return {
    minEnvironments: min,
    maxEnvironments: max,
    targetConcurrencyUtilization: check('targetConcurrencyUtilization', target, target > 0 && target <= 1),
    targetCpuPercent: check('targetCpuPercent', cpu, cpu > 0),
    stableWindowMs,
    burstWindowMs,
    panicThreshold: check('panicThreshold', panic, panic > 1),
    maxScaleUpRate: check('maxScaleUpRate', up, up >= 1),
    maxScaleDownFraction: check('maxScaleDownFraction', down, down > 0 && down <= 1),
    scaleDownDelayMs: check('scaleDownDelayMs', delay, delay >= 0),
    rejectionHoldSeconds: check('rejectionHoldSeconds', hold, hold >= 0),
    firstStepIntervalMs: check('firstStepIntervalMs', first, first > 0),
  };
}

/** A version's FunctionScalingConfig as LMI names it (spec §2). */
export interface FunctionScalingConfig {
  readonly MinExecutionEnvironments?: number;
  readonly MaxExecutionEnvironments?: number;
}

/**
 * The autoscaler's limits from a FunctionScalingConfig: an omitted member
 * reverts to its default (min 3, max unbounded), as LMI does when only one of
 * the pair is set.
 */
export function scalingLimits(config: FunctionScalingConfig | undefined): Pick<AutoscalerConfig, 'minEnvironments' | 'maxEnvironments'> {
  return {
    minEnvironments: config?.MinExecutionEnvironments ?? defaultMinEnvironments,
    maxEnvironments: config?.MaxExecutionEnvironments ?? defaultMaxEnvironments,
  };
}

/** The provider's CapacityProviderScalingConfig members the CPU target depends on. */
export interface ProviderScalingPolicy {
  /** Default `Auto`. */
  readonly ScalingMode?: 'Auto' | 'Manual';
  readonly ScalingPolicies?: readonly { readonly PredefinedMetricType: string; readonly TargetValue: number }[];
}

/** The only predefined metric LMI has: the provider's average CPU utilisation. */
export const cpuMetricType = 'LambdaCapacityProviderAverageCPUUtilization';

/**
 * The mean EE CPU % to aim for: in Manual mode the TargetValue of the CPU
 * policy (the lowest, should several be given: target tracking with several
 * policies follows whichever wants the most capacity), floored at 1 % because
 * the API accepts 0 and a target of 0 would divide by zero; in Auto mode, or
 * Manual without a CPU policy, {@link defaultAutoTargetCpuPercent}.
 */
export function cpuTargetPercent(scaling: ProviderScalingPolicy | undefined): number {
  if (scaling?.ScalingMode !== 'Manual') return defaultAutoTargetCpuPercent;
  const targets = (scaling.ScalingPolicies ?? []).filter((policy) => policy.PredefinedMetricType === cpuMetricType).map((policy) => policy.TargetValue);
  if (targets.length === 0) return defaultAutoTargetCpuPercent;
  return Math.min(100, Math.max(1, Math.min(...targets)));
}
