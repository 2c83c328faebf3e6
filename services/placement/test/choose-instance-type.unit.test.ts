import { describe, expect, it } from 'vitest';
import type { MemoryGiBPerVCpu, NormalizedInstanceRequirements } from '@hearth/domain';
import {
  chooseInstanceType,
  defaultCatalog,
  environmentsPerInstance,
  loadCatalog,
  type ChooseInstanceTypeOptions,
  type InstanceRequirements,
} from '../src/decisions/index.js';

type Row = [label: string, memoryMiB: number, ratio: MemoryGiBPerVCpu, requirements: InstanceRequirements, chosen: string, perInstance: number];

describe('chooseInstanceType', () => {
  it.each<Row>([
    // Family by ratio; the smallest type holding 3 EEs after the reserve; newest generation among equals.
    ['ratio 2 → c, x86_64 by default (c7a before c7i: same size and generation, by name)', 2048, 2, {}, 'c7a.xlarge', 3],
    ['ratio 2 → c on arm64, Graviton4 first', 2048, 2, { Architectures: ['arm64'] }, 'c8g.xlarge', 3],
    ['ratio 4 → m', 4096, 4, { Architectures: ['arm64'] }, 'm8g.xlarge', 3],
    ['ratio 8 → r', 8192, 8, { Architectures: ['arm64'] }, 'r8g.xlarge', 3],
    ['ratio 8 → r on x86_64', 16384, 8, { Architectures: ['x86_64'] }, 'r7a.2xlarge', 3],
    ['LMI put an 8-vCPU function on 32-vCPU hosts', 16384, 2, { Architectures: ['arm64'] }, 'c8g.8xlarge', 3],
    ['the largest EE (16 vCPUs) gets 64 vCPUs', 32768, 2, { Architectures: ['arm64'] }, 'c8g.16xlarge', 3],
    ['4 vCPUs × 3 + reserve needs 16 vCPUs', 8192, 2, { Architectures: ['x86_64'] }, 'c7a.4xlarge', 3],
    // Allowed / excluded lists, with wildcards.
    ['allowed series', 2048, 2, { Architectures: ['arm64'], AllowedInstanceTypes: ['c7g.*'] }, 'c7g.xlarge', 3],
    ['allowed sizes only: best reachable count wins', 2048, 2, { Architectures: ['arm64'], AllowedInstanceTypes: ['*.large'] }, 'c8g.large', 1],
    ['allowed exact types: the smallest reaching the target', 4096, 2, { AllowedInstanceTypes: ['c6i.large', 'c6i.2xlarge', 'c6i.8xlarge'] }, 'c6i.2xlarge', 3],
    ['allowed names only another family: use it (2 → m)', 2048, 2, { Architectures: ['arm64'], AllowedInstanceTypes: ['m7g.*'] }, 'm7g.xlarge', 3],
    ['allowed c and r for ratio 4: r before c', 4096, 4, { AllowedInstanceTypes: ['c*', 'r*'] }, 'r7a.xlarge', 3],
    ['allowed c only for ratio 8: c', 8192, 8, { AllowedInstanceTypes: ['c6i.*'] }, 'c6i.4xlarge', 3],
    ['excluded newest series', 2048, 2, { Architectures: ['arm64'], ExcludedInstanceTypes: ['c8g.*'] }, 'c7g.xlarge', 3],
    ['excluded family widens to the next', 2048, 2, { Architectures: ['arm64'], ExcludedInstanceTypes: ['c*'] }, 'm8g.xlarge', 3],
    ['excluded size', 2048, 2, { Architectures: ['arm64'], ExcludedInstanceTypes: ['*.xlarge'] }, 'c8g.2xlarge', 7],
    ['excluded by generation wildcard', 2048, 2, { ExcludedInstanceTypes: ['*7*'] }, 'c6a.xlarge', 3],
  ])('%s', (_label, memoryMiB, ratio, requirements, chosen, perInstance) => {
    const decision = chooseInstanceType({ memoryMiB, memoryGiBPerVCpu: ratio }, requirements);
    expect(decision.ok ? { name: decision.value.instanceType.name, perInstance: decision.value.environmentsPerInstance } : decision).toEqual({
      name: chosen,
      perInstance,
    });
  });

  it('reports the EE size it derived from MemorySize and the ratio', () => {
    const decision = chooseInstanceType({ memoryMiB: 24576, memoryGiBPerVCpu: 4 }, { Architectures: ['arm64'] });
    expect(decision).toMatchObject({ ok: true, value: { environment: { vCpus: 6, memoryMiB: 24576 } } });
  });

  it.each<[string, ChooseInstanceTypeOptions, string, number]>([
    ['target 1 EE', { targetEnvironmentsPerInstance: 1 }, 'c8g.large', 1],
    ['target 6 EEs', { targetEnvironmentsPerInstance: 6 }, 'c8g.2xlarge', 7],
    ['no reserve: 2 EEs on a large', { reserve: { vCpus: 0, memoryMiB: 0 }, targetEnvironmentsPerInstance: 2 }, 'c8g.large', 2],
    ['a reserve of 1 vCPU and 4 GiB', { reserve: { vCpus: 1, memoryMiB: 4096 } }, 'c8g.2xlarge', 6],
    [
      'a catalog of its own',
      { catalog: loadCatalog([{ name: 'c9g.4xlarge', family: 'c', generation: 9, architecture: 'arm64', vCpus: 16, memoryMiB: 32768 }]) },
      'c9g.4xlarge',
      15,
    ],
  ])('honours options: %s', (_label, options, chosen, perInstance) => {
    const decision = chooseInstanceType({ memoryMiB: 2048, memoryGiBPerVCpu: 2 }, { Architectures: ['arm64'] }, options);
    expect(decision.ok && [decision.value.instanceType.name, decision.value.environmentsPerInstance]).toEqual([chosen, perInstance]);
  });

  it.each<[string, number, MemoryGiBPerVCpu, InstanceRequirements, string]>([
    [
      'an EE larger than every allowed type',
      32768,
      2,
      { Architectures: ['arm64'], AllowedInstanceTypes: ['c7g.large', 'm7g.xlarge'] },
      'No instance type can hold an execution environment of 16 vCPUs and 32768 MiB (MemorySize 32768 at 2 GiB per vCPU) plus the agent reserve of 0.25 vCPU and 512 MiB (allowed: 2 arm64 types matching AllowedInstanceTypes [c7g.large, m7g.xlarge], the largest m7g.xlarge with 4 vCPUs and 16384 MiB)',
    ],
    [
      'an allowed list the catalog does not know',
      2048,
      2,
      { AllowedInstanceTypes: ['t3.*'] },
      'No instance type can hold an execution environment of 1 vCPU and 2048 MiB (MemorySize 2048 at 2 GiB per vCPU) plus the agent reserve of 0.25 vCPU and 512 MiB (allowed: none; the catalog has no x86_64 types matching AllowedInstanceTypes [t3.*])',
    ],
    [
      'an allowed list of the other architecture',
      2048,
      2,
      { Architectures: ['x86_64'], AllowedInstanceTypes: ['c7g.*'] },
      'No instance type can hold an execution environment of 1 vCPU and 2048 MiB (MemorySize 2048 at 2 GiB per vCPU) plus the agent reserve of 0.25 vCPU and 512 MiB (allowed: none; the catalog has no x86_64 types matching AllowedInstanceTypes [c7g.*])',
    ],
    [
      'everything excluded',
      8192,
      8,
      { Architectures: ['arm64'], ExcludedInstanceTypes: ['*g.*'] },
      'No instance type can hold an execution environment of 1 vCPU and 8192 MiB (MemorySize 8192 at 8 GiB per vCPU) plus the agent reserve of 0.25 vCPU and 512 MiB (allowed: none; the catalog has no arm64 types outside ExcludedInstanceTypes [*g.*])',
    ],
    [
      'a full-memory EE on a type whose memory the reserve cuts into',
      16384,
      8,
      { AllowedInstanceTypes: ['r7i.large'] },
      'No instance type can hold an execution environment of 2 vCPUs and 16384 MiB (MemorySize 16384 at 8 GiB per vCPU) plus the agent reserve of 0.25 vCPU and 512 MiB (allowed: 1 x86_64 type matching AllowedInstanceTypes [r7i.large], the largest r7i.large with 2 vCPUs and 16384 MiB)',
    ],
  ])('fails with InsufficientCapacity for %s', (_label, memoryMiB, ratio, requirements, message) => {
    expect(chooseInstanceType({ memoryMiB, memoryGiBPerVCpu: ratio }, requirements)).toEqual({ ok: false, reasonCode: 'InsufficientCapacity', message });
  });

  it('fails with InsufficientCapacity when the function and provider architectures differ', () => {
    expect(chooseInstanceType({ memoryMiB: 2048, memoryGiBPerVCpu: 2, architecture: 'arm64' }, { Architectures: ['x86_64'] })).toEqual({
      ok: false,
      reasonCode: 'InsufficientCapacity',
      message: "A function of architecture arm64 can't run on a capacity provider whose Architectures is [x86_64] (allowed: x86_64)",
    });
    expect(chooseInstanceType({ memoryMiB: 2048, memoryGiBPerVCpu: 2, architecture: 'arm64' }, { Architectures: ['arm64'] }).ok).toBe(true);
  });

  it('chooses, for every valid MemorySize and ratio, a type of the ratio family that holds 3 EEs', () => {
    for (const architecture of ['x86_64', 'arm64'] as const) {
      for (const ratio of [2, 4, 8] as const) {
        for (let memoryMiB = Math.max(2048, ratio * 1024); memoryMiB <= 32768; memoryMiB += ratio * 1024) {
          const decision = chooseInstanceType({ memoryMiB, memoryGiBPerVCpu: ratio }, { Architectures: [architecture] });
          if (!decision.ok) throw new Error(decision.message);
          const { instanceType, environment } = decision.value;
          expect(instanceType.family).toBe({ 2: 'c', 4: 'm', 8: 'r' }[ratio]);
          expect(instanceType.architecture).toBe(architecture);
          expect(environmentsPerInstance(instanceType, environment)).toBeGreaterThanOrEqual(3);
          // Smallest: no smaller type of the same family and architecture holds 3.
          const smaller = defaultCatalog
            .select({ architecture, families: [instanceType.family] })
            .filter((other) => other.vCpus < instanceType.vCpus && environmentsPerInstance(other, environment) >= 3);
          expect(smaller).toEqual([]);
        }
      }
    }
  });

  it('takes a capacity provider definition’s normalized InstanceRequirements as they are', () => {
    const normalized: NormalizedInstanceRequirements = { Architectures: ['arm64'], AllowedInstanceTypes: [], ExcludedInstanceTypes: ['c8g.*'] };
    expect(chooseInstanceType({ memoryMiB: 4096, memoryGiBPerVCpu: 2 }, normalized)).toMatchObject({ ok: true, value: { instanceType: { name: 'c7g.2xlarge' } } });
  });

  it('is deterministic', () => {
    const needs = { memoryMiB: 6144, memoryGiBPerVCpu: 2 } as const;
    const requirements = { Architectures: ['x86_64'], ExcludedInstanceTypes: ['c5*'] } as const;
    expect(chooseInstanceType(needs, requirements)).toEqual(chooseInstanceType(needs, requirements));
  });
});
