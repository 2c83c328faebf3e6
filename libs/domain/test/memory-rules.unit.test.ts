import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException } from '@hearth/errors';
import { checkMemoryGiBPerVCpu, checkMemorySize, defaultMemorySize, memoryStep, minMemorySize, vCpusOf, type MemoryGiBPerVCpu } from '@hearth/domain';
import { expectError } from './fixtures.js';

describe('memory per vCPU', () => {
  it.each<[MemoryGiBPerVCpu, number, number]>([
    [2, 2048, 2048],
    [4, 4096, 4096],
    [8, 8192, 8192],
  ])('ratio %i steps by %i MB and defaults to %i MB (one vCPU)', (ratio, step, memory) => {
    expect(memoryStep(ratio)).toBe(step);
    expect(minMemorySize(ratio)).toBe(memory);
    expect(defaultMemorySize(ratio)).toBe(memory);
  });

  it.each<[number, MemoryGiBPerVCpu, number]>([
    [2048, 2, 1],
    [32768, 2, 16],
    [4096, 4, 1],
    [32768, 4, 8],
    [8192, 8, 1],
    [32768, 8, 4],
    [12288, 2, 6],
  ])('%i MB at %i GiB per vCPU is %i vCPUs', (memory, ratio, vcpus) => {
    expect(vCpusOf(memory, ratio)).toBe(vcpus);
  });

  it.each([2, 4, 8, 2.0])('accepts ratio %d', (ratio) => {
    expect(checkMemoryGiBPerVCpu(ratio, 'R')).toBe(ratio);
  });

  it.each<[unknown, string]>([
    [3, 'R 3 is not supported (allowed: 2, 4, 8)'],
    [2.5, 'R 2.5 is not supported (allowed: 2, 4, 8)'],
    [1, 'R 1 is out of range (allowed: 2–8)'],
    [16, 'R 16 is out of range (allowed: 2–8)'],
    ['2', 'R must be a number (got "2")'],
  ])('rejects ratio %j', (ratio, message) => {
    expectError(() => checkMemoryGiBPerVCpu(ratio, 'R'), InvalidParameterValueException, message);
  });
});

describe('checkMemorySize', () => {
  it.each<[number, MemoryGiBPerVCpu]>([
    [2048, 2],
    [4096, 2],
    [30720, 2],
    [32768, 2],
    [4096, 4],
    [12288, 4],
    [8192, 8],
    [16384, 8],
    [32768, 8],
  ])('accepts %i MB at %i GiB per vCPU', (memory, ratio) => {
    expect(checkMemorySize(memory, ratio)).toBe(memory);
  });

  it.each<[unknown, MemoryGiBPerVCpu, string]>([
    [3000, 2, 'MemorySize 3000 is not a multiple of ExecutionEnvironmentMemoryGiBPerVCpu 2 GiB (allowed: 2048–32768 in steps of 2048)'],
    [3072, 2, 'MemorySize 3072 is not a multiple of ExecutionEnvironmentMemoryGiBPerVCpu 2 GiB (allowed: 2048–32768 in steps of 2048)'],
    [2048.5, 2, 'MemorySize 2048.5 is not a multiple of ExecutionEnvironmentMemoryGiBPerVCpu 2 GiB (allowed: 2048–32768 in steps of 2048)'],
    [128, 2, 'MemorySize 128 is out of range (allowed: 2048–32768 in steps of 2048)'],
    [1024, 2, 'MemorySize 1024 is out of range (allowed: 2048–32768 in steps of 2048)'],
    [34816, 2, 'MemorySize 34816 is out of range (allowed: 2048–32768 in steps of 2048)'],
    [6144, 4, 'MemorySize 6144 is not a multiple of ExecutionEnvironmentMemoryGiBPerVCpu 4 GiB (allowed: 4096–32768 in steps of 4096)'],
    [2048, 4, 'MemorySize 2048 is less than one vCPU at ExecutionEnvironmentMemoryGiBPerVCpu 4 GiB (allowed: 4096–32768 in steps of 4096)'],
    [4096, 8, 'MemorySize 4096 is less than one vCPU at ExecutionEnvironmentMemoryGiBPerVCpu 8 GiB (allowed: 8192–32768 in steps of 8192)'],
    [12288, 8, 'MemorySize 12288 is not a multiple of ExecutionEnvironmentMemoryGiBPerVCpu 8 GiB (allowed: 8192–32768 in steps of 8192)'],
    ['2048', 2, 'MemorySize must be a number (got "2048")'],
  ])('rejects %j MB at %i GiB per vCPU', (memory, ratio, message) => {
    expectError(() => checkMemorySize(memory, ratio), InvalidParameterValueException, message);
  });
});
