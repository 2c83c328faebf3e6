/**
 * Where a version's new execution environments go. For each EE in turn:
 *
 * 1. **Zone first**: the zone (of the provider's) where the version has the
 *    fewest EEs, so that losing a zone loses the smallest share; with fewer
 *    zones than EEs the zones repeat. Ties go to a zone where the EE fits on
 *    an instance that already exists (no launch), then to the zone whose
 *    instances hold fewer vCPUs (spreading the provider's fleet too), then to
 *    the order of `zones`.
 * 2. **Then pack**: in that zone, the Running instance that is most loaded
 *    yet still fits the EE (best fit: least free vCPUs, then least free
 *    memory, then id). Packing concentrates EEs so that scale-in can empty
 *    whole instances (ENSURE, Hermod's consolidation at low load).
 * 3. **Launch only when nothing fits**: a new instance of the request's type
 *    in that zone, with an id from the caller's generator; later EEs of the
 *    plan pack onto it like onto any other.
 *
 * Limits are checked on the whole plan: the vCPUs of every instance of the
 * provider (all but Terminated) plus those launched must stay within
 * MaxVCpuCount, else `CapacityProviderScalingLimitExceeded`; with an account
 * limit, the account's vCPUs in use plus those launched must stay within it,
 * else `VcpuLimitExceeded`. A plan that launches nothing passes even over a
 * lowered cap: it adds no vCPUs. Zone spread is never traded for fitting
 * under a cap: an AZ-resilient version is the promise, and the operator can
 * raise the cap. A failed plan places nothing; the caller may ask for fewer.
 *
 * Cost: one pass over the fleet's instances and EEs, then per EE O(zones)
 * plus O(log n) per instance filled up (a heap of candidates per zone, built
 * only for zones that receive an EE).
 */
import { failWith, succeed, type Decision } from './failures.js';
import { countsTowardLimits, holdsZoneShare, takesEnvironments, type FleetInstance } from './fleet.js';
import { MinHeap } from './min-heap.js';
import { countFitting, defaultAgentReserve, describeResources, toMilliVCpus, type Resources } from './resources.js';

/** The instance type new instances get (a catalog InstanceType fits). */
export interface LaunchType extends Resources {
  /** Instance type name, e.g. `c7g.xlarge`. */
  readonly name: string;
}

/** What to place. */
export interface PlacementRequest {
  /** The version's key, as in the fleet's `FleetEnvironment.version`. */
  readonly version: string;
  /** How many new EEs; a non-negative integer. */
  readonly count: number;
  /** One EE's vCPUs and memory. */
  readonly environment: Resources;
  /** The provider's zones; at least one. Their order breaks the last ties. */
  readonly zones: readonly string[];
  /** The type of any new instance (from chooseInstanceType). */
  readonly launchType: LaunchType;
  /**
   * Names a new instance; `sequence` counts this plan's launches from 0. Pass
   * a deterministic generator (e.g. from the workflow id) and the plan is
   * deterministic; ids must not repeat each other or existing instances.
   */
  readonly newInstanceId: (zone: string, sequence: number) => string;
}

/** The vCPU limits the plan must respect. */
export interface PlacementLimits {
  /** The provider's CapacityProviderScalingConfig.MaxVCpuCount (LMI default 400). */
  readonly maxVCpuCount: number;
  /** The account's vCPU limit and its vCPUs in use (all providers, this one included). Default: not checked. */
  readonly account?: { readonly vCpuLimit: number; readonly vCpusInUse: number };
}

/** Tuning of {@link planPlacement}. */
export interface PlacementOptions {
  /** Kept back on every instance. Default {@link defaultAgentReserve} (0.25 vCPU, 512 MiB). */
  readonly reserve?: Resources;
}

/** Where one new EE goes. */
export interface EnvironmentPlacement {
  readonly instanceId: string;
  readonly zone: string;
  /** True when the instance is launched by this plan. */
  readonly newInstance: boolean;
}

/** An instance the plan launches. */
export interface InstanceLaunch extends Resources {
  readonly id: string;
  /** Instance type name. */
  readonly type: string;
  readonly zone: string;
}

/** The outcome of a successful placement. */
export interface PlacementPlan {
  /** One entry per requested EE, in request order. */
  readonly placements: readonly EnvironmentPlacement[];
  /** New instances, in the order they were decided; launch them before starting EEs on them. */
  readonly launches: readonly InstanceLaunch[];
  /** The provider's vCPUs once the launches run (what MaxVCpuCount was checked against). */
  readonly providerVCpus: number;
}

/**
 * An instance that may take EEs, with what it has free (milli-vCPUs, MiB);
 * mutated as the plan fills it. (Parallel arrays instead of one object per
 * instance measured slower in the single-EE benchmark: V8's field access on
 * small monomorphic objects beats indexed access through a comparator.)
 */
interface Candidate {
  readonly id: string;
  freeMilli: number;
  freeMemory: number;
  readonly isNew: boolean;
}

/** Best fit first: least free vCPUs, then least free memory, then id, so the order is total. */
function byLeastFree(a: Candidate, b: Candidate): number {
  return a.freeMilli - b.freeMilli || a.freeMemory - b.freeMemory || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

interface ZoneState {
  readonly name: string;
  /** EEs of the version in the zone, planned ones included. */
  versionCount: number;
  /** vCPUs (milli) of the provider's instances in the zone, launched ones included. */
  instanceMilli: number;
  /** Candidates collected by the scan, until the heap takes them over. */
  readonly collected: Candidate[];
  heap: MinHeap<Candidate> | undefined;
}

function checkRequest(request: PlacementRequest, limits: PlacementLimits): void {
  if (!Number.isInteger(request.count) || request.count < 0) throw new RangeError(`planPlacement count must be a non-negative integer (got ${request.count})`);
  if (request.zones.length === 0) throw new RangeError('planPlacement needs at least one zone');
  if (!(request.environment.vCpus > 0) || !(request.environment.memoryMiB > 0)) {
    throw new RangeError(`planPlacement environment must have vCPUs and memory (got ${describeResources(request.environment)})`);
  }
  if (!(limits.maxVCpuCount >= 0)) throw new RangeError(`planPlacement maxVCpuCount must be a number ≥ 0 (got ${limits.maxVCpuCount})`);
}

/**
 * Plans `request.count` new EEs of one version on one provider's fleet; see
 * the module comment for the rules. Pure and deterministic given a
 * deterministic id generator; the result does not depend on the order of
 * `fleet`.
 */
export function planPlacement(
  fleet: readonly FleetInstance[],
  request: PlacementRequest,
  limits: PlacementLimits,
  options: PlacementOptions = {},
): Decision<PlacementPlan> {
  checkRequest(request, limits);
  const reserve = options.reserve ?? defaultAgentReserve;
  const reserveMilli = toMilliVCpus(reserve.vCpus);
  const eeMilli = toMilliVCpus(request.environment.vCpus);
  const eeMemory = request.environment.memoryMiB;
  const version = request.version;

  const zones: ZoneState[] = [];
  const zoneByName = new Map<string, ZoneState>();
  for (const name of request.zones) {
    if (zoneByName.has(name)) continue;
    const zone: ZoneState = { name, versionCount: 0, instanceMilli: 0, collected: [], heap: undefined };
    zones.push(zone);
    zoneByName.set(name, zone);
  }

  // One pass over the fleet: the provider's vCPUs, the version's share per zone, and what has room.
  let providerMilli = 0;
  for (const instance of fleet) {
    if (!countsTowardLimits(instance.state)) continue;
    const instanceMilli = toMilliVCpus(instance.vCpus);
    providerMilli += instanceMilli;
    const zone = zoneByName.get(instance.zone);
    if (zone === undefined) continue;
    zone.instanceMilli += instanceMilli;
    const counted = holdsZoneShare(instance.state);
    const placeable = takesEnvironments(instance.state);
    if (!counted && !placeable) continue;
    // The hot loop of a single-EE decision (10,000 EEs in the benchmark): plain sums,
    // rounded to milli-vCPUs once per instance rather than once per EE.
    const environments = instance.environments;
    let usedVCpus = 0;
    let usedMemory = 0;
    let share = 0;
    for (let index = 0; index < environments.length; index++) {
      const environment = environments[index]!;
      usedVCpus += environment.vCpus;
      usedMemory += environment.memoryMiB;
      if (environment.version === version) share += 1;
    }
    if (counted) zone.versionCount += share;
    if (!placeable) continue;
    const freeMilli = instanceMilli - reserveMilli - toMilliVCpus(usedVCpus);
    const freeMemory = instance.memoryMiB - reserve.memoryMiB - usedMemory;
    // EEs of one plan are all the same size, so an instance that cannot take one now never will.
    if (freeMilli >= eeMilli && freeMemory >= eeMemory) zone.collected.push({ id: instance.id, freeMilli, freeMemory, isNew: false });
  }

  const heapOf = (zone: ZoneState): MinHeap<Candidate> => (zone.heap ??= new MinHeap(zone.collected, byLeastFree));
  /** The best-fit candidate of a zone that still fits one EE; drops those that no longer do. */
  const bestFit = (zone: ZoneState): Candidate | undefined => {
    // Until a zone receives an EE its heap is not built: every collected candidate fits.
    if (zone.heap === undefined) return zone.collected.length > 0 ? heapOf(zone).peek() : undefined;
    for (let top = zone.heap.peek(); top !== undefined; top = zone.heap.peek()) {
      if (top.freeMilli >= eeMilli && top.freeMemory >= eeMemory) return top;
      zone.heap.pop();
    }
    return undefined;
  };
  const hasRoom = (zone: ZoneState): boolean => (zone.heap === undefined ? zone.collected.length > 0 : bestFit(zone) !== undefined);

  const launchMilli = toMilliVCpus(request.launchType.vCpus);
  const launchFits = countFitting(launchMilli - reserveMilli, request.launchType.memoryMiB - reserve.memoryMiB, eeMilli, eeMemory) > 0;
  const placements: EnvironmentPlacement[] = [];
  const launches: InstanceLaunch[] = [];
  let knownIds: Set<string> | undefined;

  for (let placed = 0; placed < request.count; placed++) {
    let zone = zones[0]!;
    let zoneHasRoom = hasRoom(zone);
    for (let index = 1; index < zones.length; index++) {
      const other = zones[index]!;
      if (other.versionCount > zone.versionCount) continue;
      const otherHasRoom = hasRoom(other);
      if (
        other.versionCount < zone.versionCount ||
        (otherHasRoom && !zoneHasRoom) ||
        (otherHasRoom === zoneHasRoom && other.instanceMilli < zone.instanceMilli)
      ) {
        zone = other;
        zoneHasRoom = otherHasRoom;
      }
    }

    let target = bestFit(zone);
    if (target === undefined) {
      if (!launchFits) {
        return failWith(
          'InsufficientCapacity',
          `Instance type ${request.launchType.name} (${describeResources(request.launchType)}) can't hold an execution environment of ${describeResources(request.environment)} plus the agent reserve of ${describeResources(reserve)} (allowed: a type with room for at least one)`,
        );
      }
      const id = request.newInstanceId(zone.name, launches.length);
      knownIds ??= new Set(fleet.map((instance) => instance.id));
      if (knownIds.has(id)) throw new RangeError(`planPlacement newInstanceId returned ${id}, which is already taken`);
      knownIds.add(id);
      launches.push({ id, type: request.launchType.name, zone: zone.name, vCpus: request.launchType.vCpus, memoryMiB: request.launchType.memoryMiB });
      target = { id, freeMilli: launchMilli - reserveMilli, freeMemory: request.launchType.memoryMiB - reserve.memoryMiB, isNew: true };
      heapOf(zone).push(target);
      zone.instanceMilli += launchMilli;
      providerMilli += launchMilli;
    }
    // The best fit only shrinks, so it stays at the top of its heap: no re-sift needed.
    target.freeMilli -= eeMilli;
    target.freeMemory -= eeMemory;
    zone.versionCount += 1;
    placements.push({ instanceId: target.id, zone: zone.name, newInstance: target.isNew });
  }

  const launchedMilli = launches.length * launchMilli;
  const providerVCpus = providerMilli / 1000;
  const newVCpus = launchedMilli / 1000;
  const asked = `Placing ${request.count} execution environment${request.count === 1 ? '' : 's'} of ${request.version} (${describeResources(request.environment)} each) needs ${launches.length} new ${request.launchType.name} instance${launches.length === 1 ? '' : 's'}`;
  // Only launches are limited: EEs on instances that run already add no vCPUs, even if the
  // provider is over a MaxVCpuCount lowered since they were launched.
  if (launchedMilli > 0 && providerMilli > toMilliVCpus(limits.maxVCpuCount)) {
    return failWith(
      'CapacityProviderScalingLimitExceeded',
      `${asked}: the capacity provider would run ${providerVCpus} vCPUs (${providerVCpus - newVCpus} now + ${newVCpus} new), more than its MaxVCpuCount ${limits.maxVCpuCount} (allowed: at most ${limits.maxVCpuCount} vCPUs across its instances)`,
      { needed: providerVCpus, allowed: limits.maxVCpuCount },
    );
  }
  const account = limits.account;
  if (account !== undefined && launchedMilli > 0 && toMilliVCpus(account.vCpusInUse) + launchedMilli > toMilliVCpus(account.vCpuLimit)) {
    const needed = (toMilliVCpus(account.vCpusInUse) + launchedMilli) / 1000;
    return failWith(
      'VcpuLimitExceeded',
      `${asked}: the account would run ${needed} vCPUs (${account.vCpusInUse} now + ${newVCpus} new), more than its vCPU limit ${account.vCpuLimit} (allowed: at most ${account.vCpuLimit} vCPUs across all instances)`,
      { needed, allowed: account.vCpuLimit },
    );
  }
  return succeed({ placements, launches, providerVCpus });
}
