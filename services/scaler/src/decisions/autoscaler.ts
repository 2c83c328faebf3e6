/**
 * The per-version autoscaler: a pure state machine modelled on Knative's KPA
 * (pkg/autoscaler/scaling/autoscaler.go), run on two metrics as LMI does
 * (spec §4: CPU and concurrency saturation). Each step takes the version's
 * {@link VersionObservation} and the time, and returns the desired number of
 * EEs, why, and the inputs for the decision log.
 *
 * 1. **Demand**: the step's sample is the in-flight invocations and the CPU
 *    of the Ready EEs (mean % × Ready EEs), both scaled up by the demand the
 *    rejections stand for: a throttle is evidence of saturation that the
 *    in-flight count, capped by the slots, and the CPU, capped by the vCPUs,
 *    cannot show. With admissions reported the factor is measured,
 *    (admitted + rejected) / admitted; otherwise the refused invocations'
 *    concurrency is estimated by Little's law (rejections per second ×
 *    `rejectionHoldSeconds`) and the CPU scaled by the same ratio, since a
 *    refused invocation would have used the CPU an admitted one does.
 * 2. **Two windows**: averages over the stable window (60 s) and the burst
 *    window (6 s). Per window and metric, the KPA form
 *    `ceil(ready × observed / target)`: for concurrency
 *    `ceil(demand / (slots per EE × target utilisation))`, for CPU
 *    `ceil(EE-percent / target %)`. The window's desire is the larger.
 * 3. **Panic**: when the burst desire reaches `panicThreshold` (2) × the Ready
 *    EEs, the version panics: the burst desire rules, never below the previous
 *    desire (no scale-down while panicking), until the burst desire has stayed
 *    under the threshold for a whole stable window. Otherwise the stable
 *    desire rules.
 * 4. **Rate limits**: up to `maxScaleUpRate` (×10) the Ready EEs per step, at
 *    least +1. Down only once the lower desire has held for the whole
 *    scale-down delay (5 min: the target is the largest desire of the delay
 *    window), and by at most `maxScaleDownFraction` (50 %) per step: scale-in
 *    drains EEs and may empty instances, so it is slow on purpose.
 * 5. **Limits**: clamped to [min, max] of the FunctionScalingConfig; a lowered
 *    max or raised min applies at once (the operator asked). min = max = 0
 *    deactivates: desired 0 and the windows forgotten, so a reactivated
 *    version starts over at its min.
 *
 * The state is immutable; the same states, observations and times give the
 * same decisions. Cost per step: O(samples in the stable window + held
 * desires), a few dozen at a 2-s tick, independent of the number of EEs.
 */
import { resolveAutoscalerConfig, type AutoscalerConfig, type ResolvedAutoscalerConfig } from './config.js';
import type { VersionObservation } from './observation.js';
import { appendSample, averageOver, heldMaximum, holdDesire, type DemandSample, type HeldDesire } from './windows.js';

/**
 * Why the desire is what it is, for the decision log and the version's state:
 * - `Deactivated`: min = max = 0.
 * - `NoReadyEnvironments`: nothing to measure (EEs starting); the desire holds.
 * - `Steady`: unchanged.
 * - `ScaleUp`: the stable window wants more.
 * - `PanicScaleUp`: the burst window wants at least twice the Ready EEs.
 * - `Panic`: panicking and holding: no scale-down until the panic ends.
 * - `ScaleDownDelayed`: less is wanted, not yet for the whole scale-down delay.
 * - `ScaleDown`: less has been wanted for the whole delay.
 * - `AtMinimum` / `AtMaximum`: the FunctionScalingConfig's bound decides.
 * (The fleet cap adds `CapacityProviderScalingLimitExceeded`, see fleet-cap.ts.)
 */
export type ScalingReason =
  | 'Deactivated'
  | 'NoReadyEnvironments'
  | 'Steady'
  | 'ScaleUp'
  | 'PanicScaleUp'
  | 'Panic'
  | 'ScaleDownDelayed'
  | 'ScaleDown'
  | 'AtMinimum'
  | 'AtMaximum';

/** The autoscaler's memory of one version. Create with {@link createAutoscaler}; never mutated. */
export interface AutoscalerState {
  readonly config: ResolvedAutoscalerConfig;
  /** The desire of the last step (before any fleet cap): the base of the rate limits. */
  readonly desired: number;
  /** Samples of the stable window, oldest first. */
  readonly samples: readonly DemandSample[];
  /** Monotonic queue of the scale-down delay window's desires. */
  readonly held: readonly HeldDesire[];
  /** When the current panic began; undefined when not panicking. */
  readonly panicSince: number | undefined;
  /** The last step whose burst desire was over the panic threshold. */
  readonly overThresholdAt: number | undefined;
  readonly lastStepAt: number | undefined;
  /** Slots per Ready EE last seen (PerExecutionEnvironmentMaxConcurrency), for steps where none is Ready. */
  readonly environmentConcurrency: number | undefined;
}

/** One window's averages and what each metric wants. */
export interface WindowDesire {
  /** Mean demand in concurrent invocations. */
  readonly concurrency: number;
  /** Mean CPU in EE-percent. */
  readonly cpu: number;
  readonly byConcurrency: number;
  readonly byCpu: number;
  /** The larger of the two. */
  readonly desired: number;
}

/** Everything a decision was made from: log it with the decision. */
export interface ScalingInputs {
  readonly observation: VersionObservation;
  /** The concurrency the rejected invocations would have used. */
  readonly rejectedConcurrency: number;
  /** Offered over admitted load, by which the step's samples were scaled (1 without rejections). */
  readonly demandFactor: number;
  /** Whether `demandFactor` was measured from admissions rather than estimated. */
  readonly demandMeasured: boolean;
  readonly environmentConcurrency: number | undefined;
  readonly stable: WindowDesire;
  readonly burst: WindowDesire;
  readonly panicking: boolean;
  /** The previous step's desire. */
  readonly previous: number;
  /** The ruling window's desire after the scale-up limit, before scale-down rules and limits. */
  readonly candidate: number;
  /** The largest candidate of the scale-down delay window. */
  readonly held: number;
  /** True when the scale-up limit cut the desire. */
  readonly rateLimited: boolean;
}

/** The outcome of a {@link step}. */
export interface ScalingDecision {
  readonly state: AutoscalerState;
  /** EEs the version should have: a non-negative integer within its limits. */
  readonly desired: number;
  readonly reason: ScalingReason;
  readonly inputs: ScalingInputs;
}

/**
 * Rejections are turned into a rate over at least one load-report interval
 * (250 ms): two steps closer together than that would otherwise turn a
 * handful of refusals into an enormous rate.
 */
const minimumRejectionPeriodMs = 250;

/** Where an autoscaler resumes from: the EEs a version has when the scaler (re)starts. */
export interface ResumeFrom {
  /** The desire to start from, e.g. the version's current EE count. */
  readonly desired: number;
  /** When, ms: the scale-down delay counts from here. */
  readonly at: number;
}

/**
 * A fresh autoscaler, desiring the version's min (0 when deactivated); or,
 * with `resume`, the given desire clamped to the limits, held as if it had
 * been wanted at `resume.at`. Without that, a restarted scaler would have no
 * scale-down history and could halve a busy fleet on its first steps. Throws
 * RangeError on a bad config or a negative or fractional desire.
 */
export function createAutoscaler(config: AutoscalerConfig = {}, resume?: ResumeFrom): AutoscalerState {
  const resolved = resolveAutoscalerConfig(config);
  if (resume !== undefined && (!Number.isInteger(resume.desired) || resume.desired < 0)) {
    throw new RangeError(`autoscaler resume desired must be a non-negative integer (got ${resume.desired})`);
  }
  const desired = resolved.maxEnvironments === 0 ? 0 : clamp(resume?.desired ?? resolved.minEnvironments, resolved);
  return {
    config: resolved,
    desired,
    samples: [],
    held: resume === undefined || desired === 0 ? [] : [{ at: resume.at, desired }],
    panicSince: undefined,
    overThresholdAt: undefined,
    lastStepAt: undefined,
    environmentConcurrency: undefined,
  };
}

/**
 * The state with `changes` applied to its config (PutFunctionScalingConfig,
 * UpdateCapacityProvider's TargetValue): the windows are kept, and the next
 * step applies the new limits at once.
 */
export function reconfigure(state: AutoscalerState, changes: AutoscalerConfig): AutoscalerState {
  return { ...state, config: resolveAutoscalerConfig({ ...state.config, ...changes }) };
}

/** ceil, forgiving the floating-point dust of a quotient that is really an integer. */
function ceilDesire(value: number): number {
  return value <= 0 ? 0 : Math.ceil(value - 1e-9);
}

function windowDesire(
  average: { concurrency: number; cpu: number },
  environmentConcurrency: number | undefined,
  config: ResolvedAutoscalerConfig,
): WindowDesire {
  const byConcurrency = environmentConcurrency === undefined ? 0 : ceilDesire(average.concurrency / (environmentConcurrency * config.targetConcurrencyUtilization));
  const byCpu = ceilDesire(average.cpu / config.targetCpuPercent);
  return { concurrency: average.concurrency, cpu: average.cpu, byConcurrency, byCpu, desired: Math.max(byConcurrency, byCpu) };
}

const noDesire: WindowDesire = Object.freeze({ concurrency: 0, cpu: 0, byConcurrency: 0, byCpu: 0, desired: 0 });

function checkObservation(observation: VersionObservation): void {
  for (const key of ['readyEnvironments', 'inFlight', 'capacity', 'cpuPercent', 'rejected'] as const) {
    const value = observation[key];
    if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`autoscaler observation ${key} must be a finite number ≥ 0 (got ${value})`);
  }
  const admitted = observation.admitted;
  if (admitted !== undefined && (!(admitted >= 0) || !Number.isFinite(admitted))) {
    throw new RangeError(`autoscaler observation admitted must be a finite number ≥ 0 (got ${admitted})`);
  }
  if (!Number.isInteger(observation.readyEnvironments)) throw new RangeError(`autoscaler observation readyEnvironments must be an integer (got ${observation.readyEnvironments})`);
}

/**
 * The demand the step's rejections stand for: measured from the admissions
 * when the observation has them (and some were admitted), else estimated.
 * Rejections include the router's retries of one invocation on other EEs, so
 * the measured factor leans high: the safe side while invocations are refused.
 */
function rejectedDemand(
  observation: VersionObservation,
  state: AutoscalerState,
  now: number,
): { rejectedConcurrency: number; demandFactor: number; demandMeasured: boolean } {
  const { inFlight, rejected, admitted } = observation;
  if (rejected === 0) return { rejectedConcurrency: 0, demandFactor: 1, demandMeasured: admitted !== undefined };
  if (admitted !== undefined && admitted > 0) {
    const demandFactor = (admitted + rejected) / admitted;
    return { rejectedConcurrency: inFlight * (demandFactor - 1), demandFactor, demandMeasured: true };
  }
  const periodMs = state.lastStepAt === undefined ? state.config.firstStepIntervalMs : Math.max(now - state.lastStepAt, minimumRejectionPeriodMs);
  const rejectedConcurrency = (rejected / (periodMs / 1_000)) * state.config.rejectionHoldSeconds;
  return { rejectedConcurrency, demandFactor: inFlight > 0 ? (inFlight + rejectedConcurrency) / inFlight : 1, demandMeasured: false };
}

function clamp(value: number, config: ResolvedAutoscalerConfig): number {
  return Math.min(Math.max(value, config.minEnvironments), config.maxEnvironments);
}

/**
 * One step of the autoscaler at time `now` (ms, never earlier than the
 * previous step's); see the module comment for the rules. Throws RangeError
 * for an observation with negative or non-finite figures.
 */
export function step(state: AutoscalerState, observation: VersionObservation, now: number): ScalingDecision {
  checkObservation(observation);
  if (state.lastStepAt !== undefined && now < state.lastStepAt) {
    throw new RangeError(`autoscaler step at ${now} is earlier than the previous step at ${state.lastStepAt}`);
  }
  const config = state.config;
  const previous = state.desired;
  const ready = observation.readyEnvironments;
  const environmentConcurrency = ready > 0 && observation.capacity > 0 ? observation.capacity / ready : state.environmentConcurrency;
  const { rejectedConcurrency, demandFactor, demandMeasured } = rejectedDemand(observation, state, now);
  const quiet = (held: number): ScalingInputs => ({
    observation,
    rejectedConcurrency,
    demandFactor,
    demandMeasured,
    environmentConcurrency,
    stable: noDesire,
    burst: noDesire,
    panicking: false,
    previous,
    candidate: previous,
    held,
    rateLimited: false,
  });

  if (config.maxEnvironments === 0) {
    // Deactivated: forget the windows so that a reactivation starts from min, not from old load.
    const next: AutoscalerState = { ...createAutoscaler(config), lastStepAt: now, environmentConcurrency };
    return { state: next, desired: 0, reason: 'Deactivated', inputs: quiet(0) };
  }
  if (ready === 0) {
    // No Ready EE: no slots to relate the demand to, and the EEs wanted are still starting. Hold.
    const desired = clamp(previous, config);
    const reason: ScalingReason = desired > previous ? 'AtMinimum' : desired < previous ? 'AtMaximum' : 'NoReadyEnvironments';
    return { state: { ...state, desired, lastStepAt: now, environmentConcurrency }, desired, reason, inputs: quiet(heldMaximum(state.held)) };
  }

  const sample: DemandSample = { at: now, concurrency: observation.inFlight + rejectedConcurrency, cpu: observation.cpuPercent * ready * demandFactor };
  const samples = appendSample(state.samples, sample, now, config.stableWindowMs);
  const stable = windowDesire(averageOver(samples, now, config.stableWindowMs), environmentConcurrency, config);
  const burst = windowDesire(averageOver(samples, now, config.burstWindowMs), environmentConcurrency, config);

  // Panic begins when the burst window wants panicThreshold × the Ready EEs, and ends only
  // after a whole stable window without that: the stable average then covers the new level.
  const over = burst.desired >= config.panicThreshold * ready;
  const overThresholdAt = over ? now : state.overThresholdAt;
  let panicSince = state.panicSince;
  if (over) panicSince ??= now;
  else if (panicSince !== undefined && overThresholdAt !== undefined && now - overThresholdAt >= config.stableWindowMs) panicSince = undefined;
  const panicking = panicSince !== undefined;

  const raw = panicking ? Math.max(burst.desired, previous) : stable.desired;
  // Never below the previous desire: EEs already asked for (perhaps still starting) are not a step up.
  const upLimit = Math.max(previous, Math.ceil(ready * config.maxScaleUpRate), ready + 1);
  const candidate = Math.min(raw, upLimit);
  const held = holdDesire(state.held, candidate, now, config.scaleDownDelayMs);
  const heldMax = heldMaximum(held);

  let desired: number;
  let motive: ScalingReason;
  if (candidate > previous) {
    desired = candidate;
    motive = panicking ? 'PanicScaleUp' : 'ScaleUp';
  } else if (candidate === previous) {
    desired = previous;
    motive = panicking ? 'Panic' : 'Steady';
  } else if (heldMax >= previous) {
    desired = previous;
    motive = 'ScaleDownDelayed';
  } else {
    // The whole delay wanted at most heldMax; shed at most maxScaleDownFraction of the previous desire.
    desired = Math.max(heldMax, Math.ceil(previous * (1 - config.maxScaleDownFraction)));
    motive = 'ScaleDown';
  }

  const clamped = clamp(desired, config);
  let reason: ScalingReason = motive;
  if (clamped > desired) reason = 'AtMinimum';
  else if (clamped < desired) reason = 'AtMaximum';
  else if (clamped === previous && candidate < config.minEnvironments && clamped === config.minEnvironments) reason = 'AtMinimum';
  else if (clamped === previous && raw > config.maxEnvironments && clamped === config.maxEnvironments) reason = 'AtMaximum';

  const next: AutoscalerState = {
    config,
    desired: clamped,
    samples,
    held,
    panicSince,
    overThresholdAt,
    lastStepAt: now,
    environmentConcurrency,
  };
  return {
    state: next,
    desired: clamped,
    reason,
    inputs: { observation, rejectedConcurrency, demandFactor, demandMeasured, environmentConcurrency, stable, burst, panicking, previous, candidate, held: heldMax, rateLimited: raw > upLimit },
  };
}
