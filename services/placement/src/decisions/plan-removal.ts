/**
 * Scale-in: which EEs of a version to stop, and which instances that leaves
 * idle. For each EE to remove, in turn:
 *
 * 1. **Zone first**: the zone where the version has the most EEs, so the
 *    version stays spread (the mirror of placement). Ties go to the zone whose
 *    next instance is the more removable (below), then to the zone name.
 * 2. **Empty the least-loaded instance**: in that zone, an instance that is
 *    not Running (its EEs are going or not yet serving) first, then the one
 *    with the fewest vCPUs in use by all its EEs, then the fewest EEs, then
 *    the id. Removal keeps taking from that instance until the version has no
 *    EE left on it: concentrating removals empties whole instances, which can
 *    then be terminated (ENSURE: scale-in works with packing).
 * 3. On an instance, the EE with the highest id goes first (any fixed order
 *    would do; this one is deterministic).
 *
 * Asking for more EEs than the version has removes them all. How many the
 * version must keep (MinExecutionEnvironments) is the scaler's decision.
 */
import { countsTowardLimits, takesEnvironments, type FleetEnvironment, type FleetInstance } from './fleet.js';
import { MinHeap } from './min-heap.js';
import { toMilliVCpus } from './resources.js';

/** What to remove. */
export interface RemovalRequest {
  /** The version's key, as in `FleetEnvironment.version`. */
  readonly version: string;
  /** How many of its EEs to stop; a non-negative integer. */
  readonly count: number;
}

/** One EE to stop. */
export interface EnvironmentRemoval {
  readonly environmentId: string;
  readonly instanceId: string;
  readonly zone: string;
}

/** The outcome of {@link planRemoval}. */
export interface RemovalPlan {
  /** EEs to stop, in decision order; fewer than asked when the version has fewer. */
  readonly removals: readonly EnvironmentRemoval[];
  /** Instances with no EE at all once the removals are done: candidates for termination. */
  readonly emptiedInstances: readonly string[];
}

interface Host {
  readonly id: string;
  readonly zone: string;
  readonly running: boolean;
  usedMilli: number;
  environmentCount: number;
  /** The version's EEs on it, highest id last (taken first). */
  readonly versionEnvironments: FleetEnvironment[];
}

/** Most removable first: not Running, then least vCPUs in use, then fewest EEs, then id. */
function byMostRemovable(a: Host, b: Host): number {
  return Number(a.running) - Number(b.running) || a.usedMilli - b.usedMilli || a.environmentCount - b.environmentCount || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

interface ZoneHosts {
  readonly name: string;
  versionCount: number;
  readonly hosts: Host[];
  heap: MinHeap<Host> | undefined;
}

/** Plans the removal of `request.count` EEs of a version; see the module comment. Pure and deterministic. */
export function planRemoval(fleet: readonly FleetInstance[], request: RemovalRequest): RemovalPlan {
  if (!Number.isInteger(request.count) || request.count < 0) throw new RangeError(`planRemoval count must be a non-negative integer (got ${request.count})`);
  const version = request.version;
  const zoneByName = new Map<string, ZoneHosts>();
  for (const instance of fleet) {
    if (!countsTowardLimits(instance.state)) continue;
    // Most instances hold none of the version's EEs: find that out without allocating.
    const environments = instance.environments;
    let usedVCpus = 0;
    let first = -1;
    for (let index = 0; index < environments.length; index++) {
      const environment = environments[index]!;
      usedVCpus += environment.vCpus;
      if (first < 0 && environment.version === version) first = index;
    }
    if (first < 0) continue;
    const versionEnvironments = environments.slice(first).filter((environment) => environment.version === version);
    versionEnvironments.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const usedMilli = toMilliVCpus(usedVCpus);
    let zone = zoneByName.get(instance.zone);
    if (zone === undefined) {
      zone = { name: instance.zone, versionCount: 0, hosts: [], heap: undefined };
      zoneByName.set(instance.zone, zone);
    }
    zone.versionCount += versionEnvironments.length;
    zone.hosts.push({
      id: instance.id,
      zone: instance.zone,
      running: takesEnvironments(instance.state),
      usedMilli,
      environmentCount: instance.environments.length,
      versionEnvironments,
    });
  }
  const zones = [...zoneByName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const zone of zones) zone.heap = new MinHeap(zone.hosts, byMostRemovable);

  const removals: EnvironmentRemoval[] = [];
  const emptiedInstances: string[] = [];
  while (removals.length < request.count) {
    let zone: ZoneHosts | undefined;
    for (const other of zones) {
      if (other.versionCount === 0) continue;
      if (
        zone === undefined ||
        other.versionCount > zone.versionCount ||
        (other.versionCount === zone.versionCount && byMostRemovable(other.heap!.peek()!, zone.heap!.peek()!) < 0)
      ) {
        zone = other;
      }
    }
    if (zone === undefined) break;
    const host = zone.heap!.peek()!;
    const environment = host.versionEnvironments.pop()!;
    // The host only gets lighter, so it stays the most removable: no re-sift needed.
    host.usedMilli -= toMilliVCpus(environment.vCpus);
    host.environmentCount -= 1;
    zone.versionCount -= 1;
    removals.push({ environmentId: environment.id, instanceId: host.id, zone: host.zone });
    if (host.versionEnvironments.length === 0) {
      zone.heap!.pop();
      if (host.environmentCount === 0) emptiedInstances.push(host.id);
    }
  }
  return { removals, emptiedInstances };
}

/**
 * Running instances without any EE, in fleet order: what scale-in may
 * terminate. Pending instances are left out (their EEs are about to start),
 * as are Unhealthy and Draining ones (the instance manager already replaces
 * or terminates them).
 */
export function idleInstances(fleet: readonly FleetInstance[]): FleetInstance[] {
  return fleet.filter((instance) => takesEnvironments(instance.state) && instance.environments.length === 0);
}
