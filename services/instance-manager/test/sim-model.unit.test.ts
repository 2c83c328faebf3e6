import { describe, expect, it } from 'vitest';
import { functionModelOf, simMaxConcurrency, SimEnvironmentModel, type SimFunctionModel } from '../src/sim/sim-model.js';

const defaults = { latencyMs: 50, cpuMs: 5, initMs: 100 };
const admission = { cpuRejectPercent: 95, cpuWindowMs: 1_000, tickMs: 100 };

function readyModel(model: Partial<SimFunctionModel>, maxConcurrency = 8, vcpus = 1): SimEnvironmentModel {
  const environment = new SimEnvironmentModel({ ...defaults, ...model }, maxConcurrency, vcpus, admission);
  environment.state = 'Ready';
  return environment;
}

/** Runs `seconds` of model time in 100-ms ticks, the instance otherwise idle. */
function run(environment: SimEnvironmentModel, seconds: number): void {
  for (let i = 0; i < seconds * 10; i++) environment.tick(100, 0);
}

describe('functionModelOf', () => {
  it('reads latency, CPU and init time from the function variables over the defaults', () => {
    expect(functionModelOf({}, defaults)).toEqual(defaults);
    expect(functionModelOf({ HEARTH_SIM_LATENCY_MS: '250', HEARTH_SIM_CPU_MS: '20', HEARTH_SIM_INIT_MS: '0' }, defaults)).toEqual({
      latencyMs: 250,
      cpuMs: 20,
      initMs: 0,
    });
  });

  it('names the malformed variable and what is allowed', () => {
    expect(functionModelOf({ HEARTH_SIM_LATENCY_MS: 'fast' }, defaults)).toBe('HEARTH_SIM_LATENCY_MS="fast" is not a number of milliseconds in 0–900000');
    expect(functionModelOf({ HEARTH_SIM_CPU_MS: '-1' }, defaults)).toBe('HEARTH_SIM_CPU_MS="-1" is not a number of milliseconds in 0–900000');
  });
});

describe('simMaxConcurrency', () => {
  it('is the configured maximum, else the runtime default per vCPU as the agent computes it', () => {
    expect(simMaxConcurrency(7, 'nodejs20.x', 4)).toBe(7);
    expect(simMaxConcurrency(0, 'nodejs20.x', 2)).toBe(128);
    expect(simMaxConcurrency(0, 'python3.12', 2)).toBe(32);
    expect(simMaxConcurrency(0, 'nodejs20.x', 0.5)).toBe(64);
  });
});

describe('SimEnvironmentModel admission', () => {
  it('refuses at once when not Ready or stopping, and counts it', () => {
    const environment = new SimEnvironmentModel(defaults, 4, 1, admission);
    expect(environment.decide(0)).toBe('NotReady');
    environment.state = 'Ready';
    expect(environment.decide(0)).toBeUndefined();
    environment.stopping = true;
    expect(environment.decide(0)).toBe('NotReady');
    expect(environment.counters.rejectedByReason.NotReady).toBe(2);
  });

  it('admits up to max concurrency slots, then refuses with ConcurrencyLimit until one frees', () => {
    const environment = readyModel({ cpuMs: 0 }, 2);
    for (let i = 0; i < 2; i++) {
      expect(environment.decide(0)).toBeUndefined();
      environment.beginReal();
    }
    expect(environment.inFlight).toBe(2);
    expect(environment.decide(0)).toBe('ConcurrencyLimit');
    environment.endReal();
    expect(environment.decide(0)).toBeUndefined();
    expect(environment.counters.rejected).toBe(1);
  });

  it('refuses for CPU pressure only while work is in flight, on its own CPU or its instance’s', () => {
    const environment = readyModel({ latencyMs: 100, cpuMs: 100 }, 100);
    // An idle EE is admitted whatever its instance's CPU.
    expect(environment.decide(99)).toBeUndefined();
    environment.beginReal();
    expect(environment.decide(99)).toBe('CPUPressure');
    expect(environment.decide(50)).toBeUndefined();
    // One invocation wanting a whole core for its whole latency fills the EE's single vCPU.
    run(environment, 1);
    expect(environment.cpuPercent).toBeCloseTo(100, 5);
    expect(environment.decide(0)).toBe('CPUPressure');
    expect(environment.counters.rejectedByReason.CPUPressure).toBe(2);
  });
});

describe('SimEnvironmentModel CPU and latency', () => {
  it('serves a load within its slots and cores: in flight by Little’s law, CPU by demand, nothing refused', () => {
    // 10/s × 100 ms = 1 in flight; each wants 50 ms of CPU per 100 ms = 0.5 core of 1 vCPU.
    const environment = readyModel({ latencyMs: 100, cpuMs: 50 }, 8, 1);
    environment.offeredPerSecond = 10;
    run(environment, 3);
    expect(environment.inFlight).toBe(1);
    expect(environment.cpuPercent).toBeCloseTo(50, 0);
    expect(environment.counters.rejected).toBe(0);
    expect(environment.counters.admitted).toBe(30);
    expect(environment.counters.completed).toBeGreaterThanOrEqual(29);
  });

  it('slows every invocation down when they want more cores than it has, and then refuses for CPU', () => {
    // 40/s of 0.5-core invocations want 2 cores of 1: each runs twice as long, the CPU is full.
    const environment = readyModel({ latencyMs: 100, cpuMs: 50 }, 64, 1);
    expect(environment.stretch(3)).toBe(1.5);
    environment.offeredPerSecond = 40;
    run(environment, 5);
    // Near full: admission stops at 95 % over the window and resumes as the work drains.
    expect(environment.cpuPercent).toBeGreaterThan(85);
    expect(environment.counters.rejectedByReason.CPUPressure).toBeGreaterThan(0);
    expect(environment.counters.rejectedByReason.ConcurrencyLimit).toBe(0);
    // Throughput is held at what one core gives: 1 core / 50 ms of CPU = 20/s.
    const completedPerSecond = environment.counters.completed / 5;
    expect(completedPerSecond).toBeGreaterThan(12);
    expect(completedPerSecond).toBeLessThanOrEqual(21);
  });

  it('refuses beyond its slots with ConcurrencyLimit when the CPU is not the limit', () => {
    // 100/s × 200 ms = 20 wanted in flight, 4 slots: 20/s served, the rest refused.
    const environment = readyModel({ latencyMs: 200, cpuMs: 1 }, 4, 2);
    environment.offeredPerSecond = 100;
    run(environment, 4);
    expect(environment.inFlight).toBeLessThanOrEqual(4);
    expect(environment.counters.rejectedByReason.ConcurrencyLimit).toBeGreaterThan(250);
    expect(environment.counters.rejectedByReason.CPUPressure).toBe(0);
  });

  it('accounts for every offered invocation: admitted or refused, and the admitted complete', () => {
    const environment = readyModel({ latencyMs: 150, cpuMs: 30 }, 6, 1);
    environment.offeredPerSecond = 73;
    run(environment, 6);
    environment.offeredPerSecond = 0;
    run(environment, 2);
    const { offered, admitted, rejected, completed } = environment.counters;
    expect(Math.abs(offered - (admitted + rejected))).toBeLessThan(1);
    expect(completed).toBe(admitted);
    expect(environment.inFlight).toBe(0);
    // The window empties once nothing runs, and the EE stops needing ticks.
    run(environment, 1);
    expect(environment.cpuPercent).toBe(0);
    expect(environment.active).toBe(false);
  });

  it('drops synthetic work when its EE stops', () => {
    const environment = readyModel({ latencyMs: 1_000 }, 10);
    environment.offeredPerSecond = 50;
    run(environment, 1);
    expect(environment.inFlight).toBe(10);
    environment.dropSynthetic();
    expect(environment.inFlight).toBe(0);
  });
});
