/**
 * What Hearth knows about an EC2 instance type: enough to pick one for a
 * version and to count how many execution environments fit on it.
 */
import type { Architecture, MemoryGiBPerVCpu } from '@hearth/domain';

/** Instance families LMI runs on (spec §5): compute `c`, general purpose `m`, memory optimised `r`. */
export type InstanceFamily = 'c' | 'm' | 'r';

/** Every {@link InstanceFamily}. */
export const instanceFamilies: readonly InstanceFamily[] = ['c', 'm', 'r'];

/**
 * GiB of memory per vCPU of each family on EC2. It equals an execution
 * environment's ExecutionEnvironmentMemoryGiBPerVCpu when the family matches
 * the ratio, which is why the ratio picks the family.
 */
export const familyMemoryGiBPerVCpu: Readonly<Record<InstanceFamily, MemoryGiBPerVCpu>> = { c: 2, m: 4, r: 8 };

/** One EC2 instance type, as the catalog lists it. */
export interface InstanceType {
  /** EC2 name, `<series>.<size>`: `c7g.large`, `m7i.2xlarge`. */
  readonly name: string;
  readonly family: InstanceFamily;
  /** The digit after the family letter: 5 for `c5`, 8 for `r8g`. Higher is newer. */
  readonly generation: number;
  readonly architecture: Architecture;
  /** vCPUs EC2 reports (hardware threads). */
  readonly vCpus: number;
  /** Memory in MiB (EC2's GiB × 1024). */
  readonly memoryMiB: number;
}
