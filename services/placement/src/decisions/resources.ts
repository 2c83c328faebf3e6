/**
 * vCPUs and memory, the two dimensions placement packs. vCPUs are counted in
 * thousandths internally (milli-vCPUs) so that sums and differences of
 * fractional figures such as the 0.25-vCPU agent reserve stay exact.
 */

/** An amount of vCPUs and memory: an instance's size, an EE's size, or what is free. */
export interface Resources {
  /** vCPUs; may be fractional (the agent reserve is 0.25). */
  readonly vCpus: number;
  /** Memory in MiB. */
  readonly memoryMiB: number;
}

/**
 * What every instance keeps back for the agent and the operating system
 * before any execution environment is placed on it.
 *
 * - 0.25 vCPU: the agent is one Node.js process that admits invocations and
 *   reports load a few times a second; a quarter of a core covers it under
 *   load without starving EEs. CPU is compressible, so a small slice is enough.
 * - 512 MiB: memory is not compressible. The agent's footprint target is
 *   150 MB RSS idle (ARCHITECTURE.md), plus the OS, container runtime and page
 *   cache the EEs' code packages need.
 *
 * Since an EE's size is a whole number of vCPUs at exactly the family's
 * memory ratio, the reserve costs one EE slot per instance whenever EEs would
 * otherwise fill it exactly: a 4-vCPU instance holds three 1-vCPU EEs.
 */
export const defaultAgentReserve: Resources = Object.freeze({ vCpus: 0.25, memoryMiB: 512 });

/** vCPUs in milli-vCPUs, rounded: the unit of every internal comparison. */
export function toMilliVCpus(vCpus: number): number {
  return Math.round(vCpus * 1000);
}

/**
 * How many EEs of size `environment` fit into `free` (both in the internal
 * units: milli-vCPUs and MiB). Zero when either dimension is short.
 */
export function countFitting(freeMilliVCpus: number, freeMemoryMiB: number, environmentMilliVCpus: number, environmentMemoryMiB: number): number {
  if (freeMilliVCpus < environmentMilliVCpus || freeMemoryMiB < environmentMemoryMiB) return 0;
  const byCpu = environmentMilliVCpus > 0 ? Math.floor(freeMilliVCpus / environmentMilliVCpus) : Number.POSITIVE_INFINITY;
  const byMemory = environmentMemoryMiB > 0 ? Math.floor(freeMemoryMiB / environmentMemoryMiB) : Number.POSITIVE_INFINITY;
  return Math.min(byCpu, byMemory);
}

/** How many EEs of `environment` an empty instance of `size` holds after the `reserve`. */
export function environmentsPerInstance(size: Resources, environment: Resources, reserve: Resources = defaultAgentReserve): number {
  return countFitting(
    toMilliVCpus(size.vCpus) - toMilliVCpus(reserve.vCpus),
    size.memoryMiB - reserve.memoryMiB,
    toMilliVCpus(environment.vCpus),
    environment.memoryMiB,
  );
}

/** `2 vCPUs and 4096 MiB`, `0.25 vCPU and 512 MiB`: for messages. */
export function describeResources(resources: Resources): string {
  return `${resources.vCpus} vCPU${resources.vCpus > 1 ? 's' : ''} and ${resources.memoryMiB} MiB`;
}
