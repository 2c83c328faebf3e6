/**
 * Which instance type a version's new instances get. The rule, in order:
 *
 * 1. **Candidates**: catalog types of the provider's architecture that pass
 *    its AllowedInstanceTypes / ExcludedInstanceTypes (wildcards).
 * 2. **Family by ratio**: ExecutionEnvironmentMemoryGiBPerVCpu 2 → `c`, 4 → `m`,
 *    8 → `r`, whose memory per vCPU equals the EE's, so neither vCPUs nor
 *    memory are stranded. The family is a preference, not a filter: when no
 *    candidate of it fits an EE (the lists name only other families, or
 *    exclude this one), the next family in {@link familyPreference} that fits
 *    is used: for 2 → m, r; for 4 → r, c; for 8 → m, c. The nearest ratio
 *    first, and of two equally near (4 → r or c) the richer in memory: an r
 *    vCPU with its 8 GiB costs about 1.5× a c vCPU with its 2 GiB, so a
 *    4-GiB-per-vCPU EE costs less on r (vCPU-bound) than on c, where its
 *    memory would take twice its vCPUs.
 * 3. **Size with headroom**: within the family, the smallest type that holds
 *    {@link ChooseInstanceTypeOptions.targetEnvironmentsPerInstance} EEs
 *    (default 3) after the agent reserve. A version starts with 3 EEs in 3
 *    zones, one per instance; room for 3 per instance lets it triple (LMI
 *    promises to absorb a doubling within 5 minutes without throttles) by
 *    starting EEs, which takes seconds, before any instance launch, which
 *    takes a minute or more. Packing several EEs per instance is also what
 *    lets scale-in empty instances (ENSURE). It reproduces LMI's observed
 *    choice of a 32-vCPU host for an 8-vCPU function (spec §4). A larger
 *    target raises every version's idle floor: its minimum of 3 EEs still
 *    needs 3 instances, only bigger ones. When no type holds that many, the
 *    type holding the most wins (the smallest of those).
 * 4. **Ties** (equal vCPUs and memory): newest generation, then name; see
 *    {@link compareInstanceTypes}.
 *
 * No candidate fits one EE, or the function's architecture is not the
 * provider's: `InsufficientCapacity`, naming what was asked and allowed.
 */
import { vCpusOf, type Architecture, type MemoryGiBPerVCpu } from '@hearth/domain';
import { defaultCatalog, compareInstanceTypes, type Catalog } from '../catalog/catalog.js';
import type { InstanceFamily, InstanceType } from '../catalog/instance-type.js';
import { failWith, succeed, type Decision, type PlacementFailure } from './failures.js';
import { compileInstanceTypeLists, type InstanceTypeLists } from './instance-type-patterns.js';
import { defaultAgentReserve, describeResources, environmentsPerInstance, type Resources } from './resources.js';

/** Family order per memory-to-vCPU ratio: the matching family first, then the fallbacks. */
export const familyPreference: Readonly<Record<MemoryGiBPerVCpu, readonly InstanceFamily[]>> = {
  2: ['c', 'm', 'r'],
  4: ['m', 'r', 'c'],
  8: ['r', 'm', 'c'],
};

/** EEs an instance should hold when its type is chosen (see the module comment). */
export const defaultTargetEnvironmentsPerInstance = 3;

/** What one EE of the version needs. */
export interface EnvironmentNeeds {
  /** The version's MemorySize in MB (Lambda's MB are MiB). */
  readonly memoryMiB: number;
  /** ExecutionEnvironmentMemoryGiBPerVCpu; the EE gets `memoryMiB / 1024 / ratio` vCPUs. */
  readonly memoryGiBPerVCpu: MemoryGiBPerVCpu;
  /** The function's architecture. Default: the provider's. A different one matches no type. */
  readonly architecture?: Architecture;
}

/** The provider's InstanceRequirements, as LMI names them (NormalizedInstanceRequirements fits). */
export interface InstanceRequirements extends InstanceTypeLists {
  /** Exactly one architecture. Default `["x86_64"]`. */
  readonly Architectures?: readonly Architecture[];
}

/** Tuning of {@link chooseInstanceType}. */
export interface ChooseInstanceTypeOptions {
  /** Types to choose from. Default {@link defaultCatalog}. */
  readonly catalog?: Catalog;
  /** Kept back on every instance. Default {@link defaultAgentReserve} (0.25 vCPU, 512 MiB). */
  readonly reserve?: Resources;
  /** EEs the chosen type should hold. Default {@link defaultTargetEnvironmentsPerInstance} (3). */
  readonly targetEnvironmentsPerInstance?: number;
}

/** The chosen type and what it means for the version. */
export interface InstanceTypeChoice {
  readonly instanceType: InstanceType;
  /** One EE's vCPUs and memory. */
  readonly environment: Resources;
  /** EEs of the version an empty instance of the type holds after the reserve. */
  readonly environmentsPerInstance: number;
}

/** The EE's size: its memory, and memory in GiB over the ratio in vCPUs. */
export function environmentResources(needs: EnvironmentNeeds): Resources {
  return { vCpus: vCpusOf(needs.memoryMiB, needs.memoryGiBPerVCpu), memoryMiB: needs.memoryMiB };
}

function describeLists(requirements: InstanceRequirements): string {
  const allowed = requirements.AllowedInstanceTypes ?? [];
  const excluded = requirements.ExcludedInstanceTypes ?? [];
  if (allowed.length > 0) return ` matching AllowedInstanceTypes [${allowed.join(', ')}]`;
  if (excluded.length > 0) return ` outside ExcludedInstanceTypes [${excluded.join(', ')}]`;
  return '';
}

/** The failure when no candidate holds one EE: what was asked, and what the requirements allowed. */
function insufficient(
  environment: Resources,
  needs: EnvironmentNeeds,
  architecture: Architecture,
  reserve: Resources,
  requirements: InstanceRequirements,
  candidates: readonly InstanceType[],
): PlacementFailure {
  const asked = `an execution environment of ${describeResources(environment)} (MemorySize ${needs.memoryMiB} at ${needs.memoryGiBPerVCpu} GiB per vCPU) plus the agent reserve of ${describeResources(reserve)}`;
  const lists = describeLists(requirements);
  const largest = [...candidates].sort(compareInstanceTypes).at(-1);
  const allowed =
    largest === undefined
      ? `allowed: none; the catalog has no ${architecture} types${lists}`
      : `allowed: ${candidates.length} ${architecture} type${candidates.length === 1 ? '' : 's'}${lists}, the largest ${largest.name} with ${describeResources(largest)}`;
  return failWith('InsufficientCapacity', `No instance type can hold ${asked} (${allowed})`);
}

/**
 * Chooses the instance type for a version's new instances; see the module
 * comment for the rule. Pure: the same needs, requirements and catalog give
 * the same type.
 */
export function chooseInstanceType(
  needs: EnvironmentNeeds,
  requirements: InstanceRequirements,
  options: ChooseInstanceTypeOptions = {},
): Decision<InstanceTypeChoice> {
  const catalog = options.catalog ?? defaultCatalog;
  const reserve = options.reserve ?? defaultAgentReserve;
  const target = options.targetEnvironmentsPerInstance ?? defaultTargetEnvironmentsPerInstance;
  const architecture = requirements.Architectures?.[0] ?? 'x86_64';
  if (needs.architecture !== undefined && needs.architecture !== architecture) {
    return failWith(
      'InsufficientCapacity',
      `A function of architecture ${needs.architecture} can't run on a capacity provider whose Architectures is [${architecture}] (allowed: ${architecture})`,
    );
  }
  const environment = environmentResources(needs);
  const passes = compileInstanceTypeLists(requirements);
  const candidates = catalog.select({ architecture }).filter((type) => passes(type.name));

  for (const family of familyPreference[needs.memoryGiBPerVCpu]) {
    let best: InstanceTypeChoice | undefined;
    // Candidates are smallest first, so the first type reaching the target is the smallest that does.
    for (const instanceType of candidates) {
      if (instanceType.family !== family) continue;
      const fits = environmentsPerInstance(instanceType, environment, reserve);
      if (fits > (best?.environmentsPerInstance ?? 0)) best = { instanceType, environment, environmentsPerInstance: fits };
      if (fits >= target) break;
    }
    if (best !== undefined) return succeed(best);
  }
  return insufficient(environment, needs, architecture, reserve, requirements, candidates);
}
