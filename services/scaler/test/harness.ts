/**
 * A closed loop for autoscaler tests: one version whose demand follows a
 * function of time, EEs that become Ready `startupMs` after they are asked
 * for and leave at once when no longer wanted (drained), and a step every
 * `stepMs`. Demand is in concurrent invocations; invocations last
 * `latencyMs`, so when demand exceeds the slots the excess is refused at
 * (excess / latency) per second.
 */
import { createAutoscaler, step, type AutoscalerConfig, type AutoscalerState, type ScalingReason, type VersionObservation } from '../src/decisions/index.js';

export interface LoopOptions {
  /** Concurrent invocations wanted at time t (ms). */
  readonly demand: (t: number) => number;
  /** Mean EE CPU % at time t given the in-flight invocations and Ready EEs. Default: none (0). */
  readonly cpu?: (t: number, inFlight: number, ready: number) => number;
  readonly config?: AutoscalerConfig;
  /** Slots per EE. Default 10. */
  readonly maxConcurrency?: number;
  /** EEs Ready at t = 0 (and desired). Default the config's min. */
  readonly initial?: number;
  /** Default 2,000. */
  readonly stepMs?: number;
  /** Default 10,000. */
  readonly startupMs?: number;
  /** Default 250: with the default rejectionHoldSeconds (0.25) the refused concurrency is estimated exactly. */
  readonly latencyMs?: number;
  readonly durationMs: number;
}

export interface LoopRecord {
  readonly t: number;
  readonly demand: number;
  readonly ready: number;
  readonly capacity: number;
  /** In-flight / capacity seen by the step. */
  readonly saturation: number;
  readonly rejected: number;
  readonly desired: number;
  readonly reason: ScalingReason;
  readonly panicking: boolean;
}

/** Runs the loop and returns one record per step. */
export function runLoop(options: LoopOptions): { records: LoopRecord[]; state: AutoscalerState } {
  const stepMs = options.stepMs ?? 2_000;
  const startupMs = options.startupMs ?? 10_000;
  const latencyMs = options.latencyMs ?? 250;
  const maxConcurrency = options.maxConcurrency ?? 10;
  let state = createAutoscaler(options.config);
  const initial = options.initial ?? state.desired;
  state = { ...state, desired: initial };
  /** Ready times of the EEs asked for, Ready ones included; sorted. */
  let environments: number[] = Array.from({ length: initial }, () => 0);
  const records: LoopRecord[] = [];
  for (let t = stepMs; t <= options.durationMs; t += stepMs) {
    const ready = environments.filter((readyAt) => readyAt <= t).length;
    const capacity = ready * maxConcurrency;
    const demand = options.demand(t);
    const inFlight = Math.min(demand, capacity);
    const rejected = ((demand - inFlight) / (latencyMs / 1_000)) * (stepMs / 1_000);
    const observation: VersionObservation = {
      readyEnvironments: ready,
      inFlight,
      capacity,
      cpuPercent: options.cpu?.(t, inFlight, ready) ?? 0,
      rejected,
    };
    const decision = step(state, observation, t);
    state = decision.state;
    if (decision.desired > environments.length) {
      environments = [...environments, ...Array.from({ length: decision.desired - environments.length }, () => t + startupMs)];
    } else if (decision.desired < environments.length) {
      // Stop the newest first: those still starting serve nothing yet.
      environments = environments.slice(0, decision.desired);
    }
    records.push({
      t,
      demand,
      ready,
      capacity,
      saturation: capacity > 0 ? inFlight / capacity : 0,
      rejected,
      desired: decision.desired,
      reason: decision.reason,
      panicking: decision.inputs.panicking,
    });
  }
  return { records, state };
}

/** mulberry32: a tiny seeded PRNG with values in [0, 1), identical on every run. */
export function seededRandom(seed: number): () => number {
  let value = seed >>> 0;
  return () => {
    value = (value + 0x6d2b79f5) >>> 0;
    let t = value;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Ready EE count the scaler needs for `demand` at 10 slots per EE and the 0.5 target. */
export function needed(demand: number, maxConcurrency = 10, target = 0.5): number {
  return Math.ceil(demand / (maxConcurrency * target));
}
