/** Builders and a seeded PRNG for placement unit tests. */
import type { FleetEnvironment, FleetInstance, InstanceState } from '../src/decisions/index.js';
import { defaultCatalog, type InstanceType } from '../src/decisions/index.js';

/** A catalog type by name; throws for a typo so tests fail loudly. */
export function type(name: string): InstanceType {
  const found = defaultCatalog.get(name);
  if (found === undefined) throw new Error(`no instance type ${name} in the catalog`);
  return found;
}

/** An EE of `vCpus` at 2 GiB per vCPU unless memory is given. */
export function ee(id: string, version: string, vCpus = 1, memoryMiB = vCpus * 2048): FleetEnvironment {
  return { id, version, vCpus, memoryMiB };
}

/** An instance of a catalog type. */
export function instance(id: string, zone: string, typeName = 'c7g.xlarge', environments: FleetEnvironment[] = [], state: InstanceState = 'Running'): FleetInstance {
  const { vCpus, memoryMiB } = type(typeName);
  return { id, type: typeName, zone, vCpus, memoryMiB, state, environments };
}

/** `i-new-0`, `i-new-1`, …: a deterministic id generator. */
export function sequentialIds(prefix = 'i-new-'): (zone: string, sequence: number) => string {
  return (_zone, sequence) => `${prefix}${sequence}`;
}

/** mulberry32: a tiny seeded PRNG with values in [0, 1), identical on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [min, max] from `random`. */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** An element of a non-empty list from `random`. */
export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** A copy of `items` in an order decided by `random` (Fisher–Yates). */
export function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
