/**
 * Memory and vCPU rules of Lambda Managed Instances functions. An execution
 * environment gets `MemorySize / 1024 / ratio` vCPUs, where the ratio is
 * ExecutionEnvironmentMemoryGiBPerVCpu (2, 4 or 8 GiB per vCPU). So MemorySize
 * must be whole vCPUs' worth of memory: a multiple of `ratio × 1024` MB, at
 * least one vCPU and at least 2048 MB, at most 32768 MB.
 */
import { checkNumber, reject, show } from '../validation.js';

/** Supported memory-to-vCPU ratios in GiB per vCPU (2:1 compute, 4:1 general, 8:1 memory optimised). */
export type MemoryGiBPerVCpu = 2 | 4 | 8;
/** Every {@link MemoryGiBPerVCpu}. */
export const memoryGiBPerVCpuValues: readonly MemoryGiBPerVCpu[] = [2, 4, 8];
/** The ratio when the request has none. */
export const defaultMemoryGiBPerVCpu: MemoryGiBPerVCpu = 2;

/** Smallest MemorySize of an LMI function, in MB. */
export const minManagedInstancesMemorySize = 2048;
/** Largest MemorySize of an LMI function, in MB (32 GiB). */
export const maxManagedInstancesMemorySize = 32768;

/** Megabytes of one vCPU's share at a ratio: its step size. */
export function memoryStep(ratio: MemoryGiBPerVCpu): number {
  return ratio * 1024;
}

/** Smallest MemorySize at a ratio: one vCPU, and never below 2048 MB. */
export function minMemorySize(ratio: MemoryGiBPerVCpu): number {
  return Math.max(minManagedInstancesMemorySize, memoryStep(ratio));
}

/** MemorySize when the request has none: max(2048, ratio × 1024), i.e. one vCPU. */
export function defaultMemorySize(ratio: MemoryGiBPerVCpu): number {
  return minMemorySize(ratio);
}

/** vCPUs of one execution environment: MemorySize in GiB divided by the ratio. */
export function vCpusOf(memorySize: number, ratio: MemoryGiBPerVCpu): number {
  return memorySize / 1024 / ratio;
}

/** Checks ExecutionEnvironmentMemoryGiBPerVCpu: a number 2–8 (botocore) of which only 2, 4 and 8 are supported. */
export function checkMemoryGiBPerVCpu(value: unknown, path: string): MemoryGiBPerVCpu {
  const ratio = checkNumber(value, path, { min: 2, max: 8 });
  if (!(memoryGiBPerVCpuValues as readonly number[]).includes(ratio)) {
    reject(`${path} ${show(ratio)} is not supported (allowed: ${memoryGiBPerVCpuValues.join(', ')})`);
  }
  return ratio as MemoryGiBPerVCpu;
}

/** Checks MemorySize against the ratio; see the module comment for the rules. */
export function checkMemorySize(value: unknown, ratio: MemoryGiBPerVCpu, path = 'MemorySize'): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) reject(`${path} must be a number (got ${show(value)})`);
  const step = memoryStep(ratio);
  const min = minMemorySize(ratio);
  const allowed = `allowed: ${min}–${maxManagedInstancesMemorySize} in steps of ${step}`;
  if (value < minManagedInstancesMemorySize || value > maxManagedInstancesMemorySize) {
    reject(`${path} ${value} is out of range (${allowed})`);
  }
  if (value < min) {
    reject(`${path} ${value} is less than one vCPU at ExecutionEnvironmentMemoryGiBPerVCpu ${ratio} GiB (${allowed})`);
  }
  if (value % step !== 0) {
    reject(`${path} ${value} is not a multiple of ExecutionEnvironmentMemoryGiBPerVCpu ${ratio} GiB (${allowed})`);
  }
  return value;
}
