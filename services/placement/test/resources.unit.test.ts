import { describe, expect, it } from 'vitest';
import { countFitting, describeResources, environmentsPerInstance, MinHeap, toMilliVCpus } from '../src/decisions/index.js';
import { type, seededRandom } from './fleet-fixtures.js';

describe('resources', () => {
  it.each<[string, { vCpus: number; memoryMiB: number }, number]>([
    ['c7g.large', { vCpus: 1, memoryMiB: 2048 }, 1],
    ['c7g.xlarge', { vCpus: 1, memoryMiB: 2048 }, 3],
    ['c7g.xlarge', { vCpus: 2, memoryMiB: 4096 }, 1],
    ['c8g.8xlarge', { vCpus: 8, memoryMiB: 16384 }, 3],
    ['m7g.xlarge', { vCpus: 1, memoryMiB: 8192 }, 1],
    ['r7g.large', { vCpus: 2, memoryMiB: 16384 }, 0],
  ])('%s holds %j × %i after the default reserve', (name, environment, count) => {
    expect(environmentsPerInstance(type(name), environment)).toBe(count);
  });

  it('counts exactly with fractional vCPUs', () => {
    // 0.1 + 0.2 is not 0.3 in floating point; in milli-vCPUs it is.
    expect(toMilliVCpus(0.1) + toMilliVCpus(0.2)).toBe(toMilliVCpus(0.3));
    expect(environmentsPerInstance({ vCpus: 0.9, memoryMiB: 1000 }, { vCpus: 0.3, memoryMiB: 1 }, { vCpus: 0, memoryMiB: 0 })).toBe(3);
    expect(countFitting(0, 0, 1000, 2048)).toBe(0);
  });

  it.each([
    [{ vCpus: 1, memoryMiB: 2048 }, '1 vCPU and 2048 MiB'],
    [{ vCpus: 0.25, memoryMiB: 512 }, '0.25 vCPU and 512 MiB'],
    [{ vCpus: 16, memoryMiB: 32768 }, '16 vCPUs and 32768 MiB'],
  ])('describes %j as "%s"', (resources, text) => {
    expect(describeResources(resources)).toBe(text);
  });
});

describe('MinHeap', () => {
  it('pops in order whatever it was built from or pushed', () => {
    const random = seededRandom(3);
    const values = Array.from({ length: 200 }, () => Math.floor(random() * 50));
    const heap = new MinHeap(values.slice(0, 120), (x, y) => x - y);
    for (const value of values.slice(120)) heap.push(value);
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop()!);
    expect(out).toEqual([...values].sort((x, y) => x - y));
    expect(heap.pop()).toBeUndefined();
    expect(heap.peek()).toBeUndefined();
  });
});
