import { describe, expect, it } from 'vitest';
import {
  createAutoscaler,
  reconfigure,
  step,
  type AutoscalerState,
  type ScalingDecision,
  type VersionObservation,
} from '../src/decisions/index.js';
import { needed, runLoop, seededRandom } from './harness.js';

const minute = 60_000;

/** An observation of `ready` EEs of 10 slots each. */
function observe(ready: number, inFlight: number, extra: Partial<VersionObservation> = {}): VersionObservation {
  return { readyEnvironments: ready, inFlight, capacity: ready * 10, cpuPercent: 0, rejected: 0, ...extra };
}

/** Steps the same observation every 2 s from `from` for `durationMs`; returns the last decision. */
function hold(state: AutoscalerState, observation: VersionObservation, from: number, durationMs: number): ScalingDecision {
  let decision: ScalingDecision | undefined;
  for (let t = from; t < from + durationMs; t += 2_000) {
    decision = step(decision?.state ?? state, observation, t);
  }
  return decision!;
}

/** Deep-freezes a state so a step that mutated its input would throw. */
function frozen<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) frozen(inner);
    Object.freeze(value);
  }
  return value;
}

describe('autoscaler: steady load', () => {
  it('keeps the size under noisy steady load and never throttles', () => {
    const random = seededRandom(7);
    const noise = Array.from({ length: 1_000 }, () => 0.9 + 0.2 * random());
    const { records } = runLoop({ demand: (t) => 100 * noise[t / 2_000]!, initial: needed(100), durationMs: 20 * minute });
    const settled = records.filter((record) => record.t > 2 * minute);
    const sizes = new Set(settled.map((record) => record.desired));
    // ±10 % noise around 100 at 5 per EE: the stable window and the scale-down delay hold one size.
    expect(sizes.size).toBe(1);
    expect([...sizes][0]).toBeGreaterThanOrEqual(needed(100));
    expect(Math.max(...records.map((record) => record.rejected))).toBe(0);
    expect(settled.every((record) => !record.panicking)).toBe(true);
  });

  it('reports Steady when nothing changes', () => {
    const decision = hold(createAutoscaler(), observe(20, 100), 0, minute);
    expect(decision.desired).toBe(20);
    expect(decision.reason).toBe('Steady');
  });
});

describe('autoscaler: growth', () => {
  it('grows ahead of a 2× ramp over five minutes: saturation never reaches 1.0, no throttles', () => {
    const ramp = (t: number): number => (t < 2 * minute ? 100 : t < 7 * minute ? 100 * (1 + (t - 2 * minute) / (5 * minute)) : 200);
    const { records } = runLoop({ demand: ramp, initial: needed(100), durationMs: 12 * minute });
    expect(Math.max(...records.map((record) => record.saturation))).toBeLessThan(1);
    expect(Math.max(...records.map((record) => record.rejected))).toBe(0);
    // Capacity grows during the ramp, not only after it.
    const atRampEnd = records.find((record) => record.t === 7 * minute)!;
    expect(atRampEnd.ready).toBeGreaterThan(needed(100));
    expect(records.at(-1)!.desired).toBeGreaterThanOrEqual(needed(200));
  });

  it('also absorbs an exponential doubling in five minutes and a 2× step with no throttle', () => {
    const exponential = runLoop({
      demand: (t) => (t < minute ? 100 : 100 * 2 ** (Math.min(t - minute, 5 * minute) / (5 * minute))),
      initial: needed(100),
      durationMs: 8 * minute,
    });
    expect(Math.max(...exponential.records.map((record) => record.saturation))).toBeLessThan(1);
    const stepped = runLoop({ demand: (t) => (t < minute ? 100 : 200), initial: needed(100), durationMs: 4 * minute });
    expect(Math.max(...stepped.records.map((record) => record.rejected))).toBe(0);
    // ...and restores the 2× headroom at the new level within seconds.
    const restoredAt = stepped.records.find((record) => record.t > minute && record.desired >= needed(200))!.t;
    expect(restoredAt - minute).toBeLessThanOrEqual(10_000);
  });

  it('measures the demand from admissions when they are reported', () => {
    const base = { ...createAutoscaler({ minEnvironments: 1 }), desired: 10 };
    // Saturated, and 3 refused for every one admitted: 4× the in-flight load is offered.
    const decision = step(base, observe(10, 100, { rejected: 300, admitted: 100 }), 0);
    expect(decision.inputs.demandMeasured).toBe(true);
    expect(decision.inputs.demandFactor).toBe(4);
    expect(decision.inputs.rejectedConcurrency).toBe(300);
    expect(decision.desired).toBe(80);
    // Everything refused: nothing to measure with, so the estimate is used.
    const refused = step(base, observe(10, 100, { rejected: 300, admitted: 0 }), 0);
    expect(refused.inputs.demandMeasured).toBe(false);
  });

  it('scales the CPU by the demand the rejections stand for', () => {
    const base = { ...createAutoscaler({ minEnvironments: 1 }), desired: 10 };
    // CPU-bound at 100 %, few slots used, 4 refused per admitted: 5 × 1,000 EE-% at 50 % = 100 EEs.
    const measured = step(base, observe(10, 10, { cpuPercent: 100, rejected: 400, admitted: 100 }), 0);
    expect(measured.inputs.burst.byCpu).toBe(100);
    expect(measured.desired).toBe(100);
    // Estimated: 80 refusals in 2 s at 0.25 s = 10 more in flight on 10: CPU × 2, 40 EEs.
    const estimated = step(base, observe(10, 10, { cpuPercent: 100, rejected: 80 }), 0);
    expect(estimated.inputs.demandFactor).toBe(2);
    expect(estimated.inputs.burst.byCpu).toBe(40);
  });

  it('still converges when rejections under-count the demand (invocations of 4 s)', () => {
    const { records } = runLoop({ demand: (t) => (t < 2 * minute ? 100 : 400), initial: needed(100), latencyMs: 4_000, durationMs: 4 * minute });
    const reachedAt = records.find((record) => record.t >= 2 * minute && record.desired >= needed(400))!.t;
    // Saturation alone doubles per EE start-up (10 s): two doublings, a few steps each.
    expect((reachedAt - 2 * minute) / 2_000).toBeLessThanOrEqual(10);
    const lastRejection = Math.max(...records.filter((record) => record.rejected > 0).map((record) => record.t));
    expect(lastRejection - 2 * minute).toBeLessThanOrEqual(20_000);
  });

  it('panics on a 4× step and reaches the needed size in a few steps', () => {
    const { records } = runLoop({ demand: (t) => (t < 2 * minute ? 100 : 400), initial: needed(100), durationMs: 6 * minute });
    const after = records.filter((record) => record.t >= 2 * minute);
    expect(after[0]!.panicking).toBe(true);
    expect(after[0]!.reason).toBe('PanicScaleUp');
    const reachedAt = after.find((record) => record.desired >= needed(400))!.t;
    expect((reachedAt - 2 * minute) / 2_000).toBeLessThanOrEqual(4);
    // Throttles stop once the EEs asked for are Ready (startup 10 s): within 20 s of the step.
    const lastRejection = Math.max(...records.filter((record) => record.rejected > 0).map((record) => record.t));
    expect(lastRejection - 2 * minute).toBeLessThanOrEqual(20_000);
    // No runaway: the rejection evidence does not compound over steps.
    expect(Math.max(...records.map((record) => record.desired))).toBeLessThanOrEqual(2 * needed(400));
  });

  it('never scales down while panicking, and panics for at least a stable window', () => {
    let state = createAutoscaler();
    state = step(state, observe(10, 20), 0).state;
    const panic = step(state, observe(10, 100, { rejected: 1_600 }), 2_000);
    expect(panic.inputs.panicking).toBe(true);
    let decision = panic;
    for (let t = 4_000; t < 2_000 + 60_000; t += 2_000) {
      decision = step(decision.state, observe(panic.desired, 1), t);
      expect(decision.inputs.panicking).toBe(true);
      expect(decision.desired).toBe(panic.desired);
    }
    decision = step(decision.state, observe(panic.desired, 1), 2_000 + 60_000);
    expect(decision.inputs.panicking).toBe(false);
    expect(decision.reason).toBe('ScaleDownDelayed');
  });

  it('limits scale-up to ×10 the Ready EEs per step, at least +1', () => {
    const state = createAutoscaler({ minEnvironments: 1 });
    const burst = step({ ...state, desired: 2 }, observe(2, 20, { rejected: 100_000 }), 0);
    expect(burst.desired).toBe(20);
    expect(burst.inputs.rateLimited).toBe(true);
    const slow = createAutoscaler({ minEnvironments: 1, maxScaleUpRate: 1 });
    expect(step({ ...slow, desired: 2 }, observe(2, 20, { rejected: 1_000 }), 0).desired).toBe(3);
  });

  it('counts throttles as demand', () => {
    const state = createAutoscaler({ minEnvironments: 1 });
    const base = { ...state, desired: 10 };
    // 10 EEs at 50 % saturation: exactly on target, unless invocations are being refused.
    expect(step(base, observe(10, 50), 0).desired).toBe(10);
    const throttled = step(base, observe(10, 50, { rejected: 160 }), 0);
    // 160 refusals in the first 2-s period, 0.25 s each: 20 more in flight, 70 / (10 × 0.5) = 14.
    expect(throttled.inputs.rejectedConcurrency).toBe(20);
    expect(throttled.desired).toBe(14);
    expect(throttled.reason).toBe('ScaleUp');
  });
});

describe('autoscaler: CPU', () => {
  it('scales a CPU-bound version on CPU while its concurrency is low', () => {
    const decision = hold(createAutoscaler({ minEnvironments: 1 }), observe(10, 10, { cpuPercent: 90 }), 0, minute);
    expect(decision.inputs.stable.byConcurrency).toBe(2);
    expect(decision.inputs.stable.byCpu).toBe(18);
    expect(decision.desired).toBe(18);
  });

  it('follows the Manual TargetValue', () => {
    const decision = hold(createAutoscaler({ minEnvironments: 1, targetCpuPercent: 30 }), observe(10, 10, { cpuPercent: 90 }), 0, minute);
    expect(decision.desired).toBe(30);
  });

  it('keeps a CPU-bound version saturating its vCPUs from throttling through a 2× ramp', () => {
    // 1 vCPU per EE, each invocation needs 0.2 vCPU: CPU wants twice the EEs the 10 slots do.
    const { records } = runLoop({
      demand: (t) => (t < minute ? 20 : t < 6 * minute ? 20 * (1 + (t - minute) / (5 * minute)) : 40),
      cpu: (_t, inFlight, ready) => (ready > 0 ? (inFlight * 0.2 * 100) / ready : 0),
      initial: 8,
      config: { minEnvironments: 1 },
      durationMs: 9 * minute,
    });
    // The CPU the demand needs per Ready EE never exceeds the EE's vCPU.
    const cpuPerEe = records.map((record) => (record.demand * 0.2 * 100) / record.ready);
    expect(Math.max(...cpuPerEe)).toBeLessThan(100);
    expect(records.at(-1)!.desired).toBe(16);
  });
});

describe('autoscaler: scale-down', () => {
  it('waits the scale-down delay, then shrinks by at most half per step down to min', () => {
    const drop = 5 * minute;
    const { records } = runLoop({ demand: (t) => (t < drop ? 400 : 0), initial: needed(400), durationMs: drop + 10 * minute });
    // The last step before the drop wanted 400's size; five minutes later that desire leaves the window.
    const before = records.filter((record) => record.t < drop - 2_000 + 5 * minute);
    expect(before.every((record) => record.desired === needed(400))).toBe(true);
    expect(records.filter((record) => record.t >= drop && record.t < drop - 2_000 + 5 * minute).every((record) => ['ScaleDownDelayed', 'Steady'].includes(record.reason))).toBe(true);
    for (let index = 1; index < records.length; index++) {
      const [previous, current] = [records[index - 1]!, records[index]!];
      expect(current.desired).toBeLessThanOrEqual(previous.desired);
      expect(current.desired).toBeGreaterThanOrEqual(Math.ceil(previous.desired / 2));
    }
    const shrinking = records.filter((record) => record.reason === 'ScaleDown');
    expect(shrinking.length).toBeGreaterThan(1);
    expect(records.at(-1)!.desired).toBe(3);
    expect(records.at(-1)!.reason).toBe('AtMinimum');
  });

  it('settles at the lower level after a partial drop, without flapping', () => {
    const { records } = runLoop({ demand: (t) => (t < 3 * minute ? 400 : 100), initial: needed(400), durationMs: 20 * minute });
    const tail = records.filter((record) => record.t > 12 * minute);
    expect(new Set(tail.map((record) => record.desired))).toEqual(new Set([needed(100)]));
    expect(Math.max(...records.map((record) => record.rejected))).toBe(0);
  });

  it('a load that returns within the delay cancels the scale-down', () => {
    const { records } = runLoop({ demand: (t) => (t >= 2 * minute && t < 5 * minute ? 10 : 200), initial: needed(200), durationMs: 10 * minute });
    expect(records.every((record) => record.desired === needed(200))).toBe(true);
  });
});

describe('autoscaler: limits', () => {
  it('never goes below min or above max', () => {
    const low = hold(createAutoscaler({ minEnvironments: 10, maxEnvironments: 20 }), observe(10, 0), 0, 10 * minute);
    expect(low.desired).toBe(10);
    expect(low.reason).toBe('AtMinimum');
    const high = hold(createAutoscaler({ minEnvironments: 10, maxEnvironments: 20 }), observe(10, 100, { rejected: 500 }), 0, minute);
    expect(high.desired).toBe(20);
    expect(high.reason).toBe('AtMaximum');
  });

  it('applies a lowered max or a raised min at once', () => {
    const busy = hold(createAutoscaler(), observe(20, 100), 0, minute);
    expect(busy.desired).toBe(20);
    const lowered = step(reconfigure(busy.state, { maxEnvironments: 8 }), observe(20, 100), minute);
    expect(lowered.desired).toBe(8);
    expect(lowered.reason).toBe('AtMaximum');
    // Raised again, the windows still hold the load (8 EEs now at 100 %, a panic): it grows back.
    const unbounded = step(reconfigure(lowered.state, { maxEnvironments: 30 }), observe(8, 80), minute + 2_000);
    expect(unbounded.desired).toBeGreaterThan(8);
    expect(unbounded.desired).toBeLessThanOrEqual(20);
    expect(unbounded.reason).toBe('PanicScaleUp');
    const idle = hold(createAutoscaler(), observe(3, 0), 0, minute);
    expect(idle.desired).toBe(3);
    const raised = step(reconfigure(idle.state, { minEnvironments: 12 }), observe(3, 0), minute);
    expect(raised.desired).toBe(12);
    expect(raised.reason).toBe('AtMinimum');
  });

  it('min = max = 0 deactivates; a later config reactivates at min', () => {
    expect(createAutoscaler({ minEnvironments: 0, maxEnvironments: 0 }).desired).toBe(0);
    const busy = hold(createAutoscaler(), observe(20, 100), 0, minute);
    const off = step(reconfigure(busy.state, { minEnvironments: 0, maxEnvironments: 0 }), observe(20, 100, { rejected: 50 }), minute);
    expect(off.desired).toBe(0);
    expect(off.reason).toBe('Deactivated');
    expect(off.state.samples).toEqual([]);
    const stillOff = step(off.state, observe(0, 0, { rejected: 500 }), minute + 2_000);
    expect(stillOff.desired).toBe(0);
    const back = step(reconfigure(stillOff.state, { minEnvironments: 3, maxEnvironments: 50 }), observe(0, 0), minute + 4_000);
    expect(back.desired).toBe(3);
    expect(back.reason).toBe('AtMinimum');
  });

  it('a resumed autoscaler waits the scale-down delay from where it resumed', () => {
    let decision = step(createAutoscaler({}, { desired: 40, at: 0 }), observe(40, 0), 2_000);
    expect(decision.desired).toBe(40);
    expect(decision.reason).toBe('ScaleDownDelayed');
    decision = hold(decision.state, observe(40, 0), 4_000, 5 * minute - 4_000);
    expect(decision.desired).toBe(40);
    expect(step(decision.state, observe(40, 0), 5 * minute).desired).toBe(20);
    expect(createAutoscaler({ maxEnvironments: 10 }, { desired: 40, at: 0 }).desired).toBe(10);
  });

  it('holds while no EE is Ready', () => {
    const decision = step(createAutoscaler({ minEnvironments: 5 }), observe(0, 0, { rejected: 100 }), 0);
    expect(decision.desired).toBe(5);
    expect(decision.reason).toBe('NoReadyEnvironments');
  });
});

describe('autoscaler: purity', () => {
  it('does not change its input state and repeats itself', () => {
    const base = hold(createAutoscaler(), observe(10, 80, { cpuPercent: 40 }), 0, minute).state;
    const input = frozen(structuredClone(base));
    const first = step(input, observe(10, 120, { rejected: 3, cpuPercent: 60 }), minute + 2_000);
    const second = step(input, observe(10, 120, { rejected: 3, cpuPercent: 60 }), minute + 2_000);
    expect(second).toEqual(first);
  });

  it('rejects bad observations, times and configs', () => {
    const state = step(createAutoscaler(), observe(3, 0), 10_000).state;
    expect(() => step(state, observe(3, 0), 9_000)).toThrow(RangeError);
    expect(() => step(state, observe(3, -1), 12_000)).toThrow(RangeError);
    expect(() => step(state, observe(3, Number.NaN), 12_000)).toThrow(RangeError);
    expect(() => step(state, observe(3, 0, { admitted: -1 }), 12_000)).toThrow(RangeError);
    expect(() => createAutoscaler({ minEnvironments: 0, maxEnvironments: 5 })).toThrow(RangeError);
    expect(() => createAutoscaler({ minEnvironments: 6, maxEnvironments: 5 })).toThrow(RangeError);
    expect(() => createAutoscaler({ targetConcurrencyUtilization: 0 })).toThrow(RangeError);
    expect(() => createAutoscaler({ burstWindowMs: 120_000 })).toThrow(RangeError);
  });
});
