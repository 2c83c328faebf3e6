import { describe, expect, it } from 'vitest';
import { capFleet, environmentsPerInstance, type ProviderCap, type VersionDemand } from '../src/decisions/index.js';
import { seededRandom } from './harness.js';

/** c7g.4xlarge: 16 vCPUs, 32 GiB; 1-vCPU EEs at 2 GiB: 15 fit after the reserve, each costs 16/15 vCPU. */
const c16 = { vCpus: 16, memoryMiB: 32_768 };
const oneVCpu = { vCpus: 1, memoryMiB: 2_048 };
const perEe = 16 / 15;

function demand(version: string, desired: number, minEnvironments = 3, overrides: Partial<VersionDemand> = {}): VersionDemand {
  return { version, desired, minEnvironments, environment: oneVCpu, ...overrides };
}

/** A cap worth exactly `environments` 1-vCPU EEs on c16. */
function capFor(environments: number): ProviderCap {
  return { maxVCpuCount: environments * perEe, instanceType: c16 };
}

function allowedOf(result: ReturnType<typeof capFleet>): Record<string, number> {
  return Object.fromEntries(result.versions.map((entry) => [entry.version, entry.allowed]));
}

describe('capFleet', () => {
  it('counts what an EE costs in instance vCPUs, reserve and fragmentation included', () => {
    expect(environmentsPerInstance(c16, oneVCpu)).toBe(15);
    expect(environmentsPerInstance({ vCpus: 4, memoryMiB: 8_192 }, oneVCpu)).toBe(3);
    expect(environmentsPerInstance({ vCpus: 4, memoryMiB: 8_192 }, { vCpus: 4, memoryMiB: 8_192 })).toBe(0);
    const result = capFleet([demand('a', 3)], { maxVCpuCount: 400, instanceType: { vCpus: 4, memoryMiB: 8_192 } });
    expect(result.versions[0]!.vCpusPerEnvironment).toBeCloseTo(4 / 3);
  });

  it('leaves desires alone when they fit', () => {
    const result = capFleet([demand('a', 100), demand('b', 50)], capFor(150));
    expect(allowedOf(result)).toEqual({ a: 100, b: 50 });
    expect(result.capped).toEqual([]);
    expect(result.versions.every((entry) => entry.reason === undefined)).toBe(true);
  });

  it('trims every version by the same fraction of its desire', () => {
    const result = capFleet([demand('a', 100), demand('b', 50)], capFor(75));
    expect(allowedOf(result)).toEqual({ a: 50, b: 25 });
    expect(result.capped).toEqual(['a', 'b']);
    expect(result.versions[0]!.reason).toBe('CapacityProviderScalingLimitExceeded');
    expect(result.allowedVCpus).toBeLessThanOrEqual(75 * perEe + 1e-9);
  });

  it('keeps every version at its min when the cap allows the mins', () => {
    // 90 EEs for desires of 200, 10 and 4: F × 4 would be below b's and c's mins.
    const result = capFleet([demand('a', 200), demand('b', 10, 8), demand('c', 4)], capFor(90));
    const allowed = allowedOf(result);
    expect(allowed.b).toBeGreaterThanOrEqual(8);
    expect(allowed.c).toBeGreaterThanOrEqual(3);
    expect(allowed.a! + allowed.b! + allowed.c!).toBe(90);
    // The rest is shared in proportion: a and the unpinned share the same fraction.
    expect(allowed.a! / 200).toBeCloseTo(0.395, 2);
  });

  it('shares the mins themselves when even they do not fit', () => {
    const result = capFleet([demand('a', 50, 10), demand('b', 50, 30)], capFor(20));
    expect(allowedOf(result)).toEqual({ a: 5, b: 15 });
    expect(result.capped).toEqual(['a', 'b']);
  });

  it('hands rounding leftovers to the largest remainders and never exceeds the cap', () => {
    const result = capFleet([demand('a', 10), demand('b', 10), demand('c', 10)], capFor(20));
    const allowed = Object.values(allowedOf(result));
    expect(allowed.reduce((sum, value) => sum + value, 0)).toBe(20);
    expect(Math.max(...allowed) - Math.min(...allowed)).toBeLessThanOrEqual(1);
  });

  it('weighs versions by what their EEs cost, and ignores deactivated ones', () => {
    const big = { vCpus: 4, memoryMiB: 8_192 };
    // 4-vCPU EEs on c16: 3 fit, 16/3 vCPUs each; 1-vCPU EEs 16/15 each.
    const result = capFleet([demand('small', 30), demand('big', 30, 3, { environment: big }), demand('off', 0, 0)], { maxVCpuCount: 96, instanceType: c16 });
    const allowed = allowedOf(result);
    expect(allowed.off).toBe(0);
    expect(result.capped).toEqual(['small', 'big']);
    expect(Math.abs(allowed.small! / 30 - allowed.big! / 30)).toBeLessThan(0.1);
    expect(allowed.small! * perEe + (allowed.big! * 16) / 3).toBeLessThanOrEqual(96 + 1e-6);
  });

  it('honours a version-specific instance type', () => {
    const result = capFleet([demand('a', 9, 3, { instanceType: { vCpus: 4, memoryMiB: 8_192 } })], { maxVCpuCount: 8, instanceType: c16 });
    // 4/3 vCPU per EE: 8 vCPUs hold 6.
    expect(result.versions[0]!.allowed).toBe(6);
  });

  it('is fair and within the cap on random fleets', () => {
    const random = seededRandom(11);
    for (let round = 0; round < 200; round++) {
      const demands = Array.from({ length: 1 + Math.floor(random() * 40) }, (_, index) => {
        const min = 1 + Math.floor(random() * 5);
        return demand(`v${index}`, min + Math.floor(random() * 300), min, { environment: random() < 0.5 ? oneVCpu : { vCpus: 2, memoryMiB: 4_096 } });
      });
      const cap: ProviderCap = { maxVCpuCount: 2 + Math.floor(random() * 3_000), instanceType: c16 };
      const result = capFleet(demands, cap);
      const minCost = result.versions.reduce((sum, entry, index) => sum + demands[index]!.minEnvironments * entry.vCpusPerEnvironment, 0);
      expect(result.versions.every((entry) => entry.allowed <= entry.desired && Number.isInteger(entry.allowed))).toBe(true);
      if (result.capped.length > 0) expect(result.allowedVCpus).toBeLessThanOrEqual(cap.maxVCpuCount + 1e-3);
      if (minCost <= cap.maxVCpuCount) {
        expect(result.versions.every((entry, index) => entry.allowed >= demands[index]!.minEnvironments)).toBe(true);
        // Same fraction for every version above its min, to within one EE of rounding.
        const fractions = result.versions
          .filter((entry, index) => entry.allowed > demands[index]!.minEnvironments)
          .map((entry) => ({ low: (entry.allowed - 1) / entry.desired, high: (entry.allowed + 1) / entry.desired }));
        if (fractions.length > 1) expect(Math.max(...fractions.map((f) => f.low))).toBeLessThanOrEqual(Math.min(...fractions.map((f) => f.high)) + 1e-9);
      }
    }
  });

  it('rejects an EE that fits no instance and bad figures', () => {
    expect(() => capFleet([demand('a', 3, 3, { environment: { vCpus: 16, memoryMiB: 32_768 } })], { maxVCpuCount: 400, instanceType: c16 })).toThrow(RangeError);
    expect(() => capFleet([demand('a', -1)], capFor(10))).toThrow(RangeError);
    expect(() => capFleet([demand('a', 1.5)], capFor(10))).toThrow(RangeError);
  });
});
