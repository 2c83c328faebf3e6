/**
 * The capacity provider's MaxVCpuCount caps what all of its versions may
 * run together (spec §1; beyond it invocations throttle, spec §4). Given
 * every version's desired EEs, this trims the desires to what the cap allows.
 *
 * **What an EE costs.** MaxVCpuCount counts instance vCPUs, not EE vCPUs. An
 * instance of the type holds `fits` EEs of the version after the agent
 * reserve, so one EE costs `instance vCPUs / fits` of the cap: a 1-vCPU EE on
 * a 4-vCPU instance (3 fit after the 0.25-vCPU reserve) costs 4/3. This fluid
 * estimate ignores that instances come whole and that zones are spread, so it
 * is not the authority: planPlacement checks the real plan against the cap
 * and fails with `CapacityProviderScalingLimitExceeded`. Trimming here first
 * means the plans usually pass and the shortfall is shared fairly rather
 * than going to whichever version is placed first.
 *
 * **Fair share.** When the desires cost more than the cap, every version gets
 * the same fraction F of its desire, but never less than its min (so small
 * versions keep their AZ-resilient floor): F solves
 * `Σ cost × max(min, F × desired) = MaxVCpuCount`. Shares are rounded down,
 * then the vCPUs left over go one EE at a time to the largest fractional
 * remainders (ties: version key), while they fit; a version held at its min
 * has no remainder and gets none. When even the mins do not
 * fit, the mins themselves are shared the same way (F applied to the mins).
 * Pure and deterministic; O(n log n) in the number of versions.
 */

/** vCPUs and memory: an EE's size or an instance type's. */
export interface Size {
  readonly vCpus: number;
  readonly memoryMiB: number;
}

/** One version's demand on the provider. */
export interface VersionDemand {
  /** The version's key. */
  readonly version: string;
  /** What its autoscaler wants; a non-negative integer. */
  readonly desired: number;
  /** MinExecutionEnvironments; kept when the cap allows every version's min. */
  readonly minEnvironments: number;
  /** One EE's vCPUs and memory. */
  readonly environment: Size;
  /** The type its instances get (chooseInstanceType). Default the provider's {@link ProviderCap.instanceType}. */
  readonly instanceType?: Size;
}

/** The provider's cap. */
export interface ProviderCap {
  /** CapacityProviderScalingConfig.MaxVCpuCount (LMI default 400). */
  readonly maxVCpuCount: number;
  /** The instance type the provider's EEs go on, unless a version names its own. */
  readonly instanceType: Size;
  /** Kept back on every instance. Default 0.25 vCPU and 512 MiB, as placement's defaultAgentReserve. */
  readonly reserve?: Size;
}

/** A version's outcome. */
export interface CappedDemand {
  readonly version: string;
  readonly desired: number;
  /** What the cap allows: at most `desired`. */
  readonly allowed: number;
  /** Set when `allowed < desired`: the version's reason code. */
  readonly reason?: 'CapacityProviderScalingLimitExceeded';
  /** Instance vCPUs one EE costs against the cap. */
  readonly vCpusPerEnvironment: number;
}

/** The outcome of {@link capFleet}. */
export interface FleetCapResult {
  /** One per demand, in input order. */
  readonly versions: readonly CappedDemand[];
  /** Keys of the versions given less than they desired. */
  readonly capped: readonly string[];
  /** What the desires would cost, in instance vCPUs. */
  readonly neededVCpus: number;
  /** What the allowed EEs cost, ≤ MaxVCpuCount when anything was capped. */
  readonly allowedVCpus: number;
}

/** Same as placement's defaultAgentReserve; repeated because services are not libraries. */
export const defaultCapReserve: Size = Object.freeze({ vCpus: 0.25, memoryMiB: 512 });

/** EEs of `environment` an empty `instance` holds after `reserve`, in milli-vCPUs as placement counts. */
export function environmentsPerInstance(instance: Size, environment: Size, reserve: Size = defaultCapReserve): number {
  const freeMilli = Math.round(instance.vCpus * 1000) - Math.round(reserve.vCpus * 1000);
  const freeMemory = instance.memoryMiB - reserve.memoryMiB;
  const eeMilli = Math.round(environment.vCpus * 1000);
  if (freeMilli < eeMilli || freeMemory < environment.memoryMiB) return 0;
  return Math.min(eeMilli > 0 ? Math.floor(freeMilli / eeMilli) : Infinity, environment.memoryMiB > 0 ? Math.floor(freeMemory / environment.memoryMiB) : Infinity);
}

interface Share {
  readonly index: number;
  readonly demand: VersionDemand;
  readonly cost: number;
  /** The floor the share is not cut below (min, or 0 when sharing the mins). */
  readonly floor: number;
  /** What F multiplies (desire, or the min when sharing the mins). */
  readonly base: number;
  allowed: number;
  remainder: number;
}

/** Solves Σ cost × max(floor, F × base) = budget for F in [0, 1] (the sums are piecewise linear in F). */
function solveFraction(shares: readonly Share[], budget: number): number {
  // Versions whose floor binds at F are those with F × base < floor, i.e. F < floor / base.
  // Walk the breakpoints in increasing order, moving versions from "at floor" to "scaled".
  const order = shares.filter((share) => share.base > 0).sort((a, b) => a.floor / a.base - b.floor / b.base);
  let floorCost = shares.reduce((sum, share) => sum + share.cost * share.floor, 0);
  let scaledCost = 0;
  for (let index = 0; index <= order.length; index++) {
    const next = order[index];
    const breakpoint = next === undefined ? 1 : Math.min(1, next.floor / next.base);
    // With the versions before `index` scaled and the rest at their floor, the spend at F is floorCost + F × scaledCost.
    const fraction = scaledCost > 0 ? (budget - floorCost) / scaledCost : 0;
    if (scaledCost > 0 && fraction <= breakpoint) return Math.max(0, Math.min(1, fraction));
    if (next === undefined || breakpoint >= 1) break;
    floorCost -= next.cost * next.floor;
    scaledCost += next.cost * next.base;
  }
  return 1;
}

/**
 * Trims every version's desire to what the provider's MaxVCpuCount allows;
 * see the module comment. Throws RangeError for a version whose EE fits no
 * instance of its type (chooseInstanceType reports that as
 * InsufficientCapacity before any scaling) or for negative figures.
 */
export function capFleet(demands: readonly VersionDemand[], provider: ProviderCap): FleetCapResult {
  if (!(provider.maxVCpuCount >= 0)) throw new RangeError(`capFleet maxVCpuCount must be ≥ 0 (got ${provider.maxVCpuCount})`);
  const reserve = provider.reserve ?? defaultCapReserve;
  const costs = demands.map((demand) => {
    if (!Number.isInteger(demand.desired) || demand.desired < 0) throw new RangeError(`capFleet desired of ${demand.version} must be a non-negative integer (got ${demand.desired})`);
    if (!Number.isInteger(demand.minEnvironments) || demand.minEnvironments < 0) {
      throw new RangeError(`capFleet minEnvironments of ${demand.version} must be a non-negative integer (got ${demand.minEnvironments})`);
    }
    const instance = demand.instanceType ?? provider.instanceType;
    const fits = environmentsPerInstance(instance, demand.environment, reserve);
    if (fits === 0) throw new RangeError(`capFleet: an EE of ${demand.version} (${demand.environment.vCpus} vCPUs, ${demand.environment.memoryMiB} MiB) fits no instance of ${instance.vCpus} vCPUs`);
    return instance.vCpus / fits;
  });
  const neededVCpus = demands.reduce((sum, demand, index) => sum + demand.desired * costs[index]!, 0);
  // A tolerance for the floating-point sums: 1/1000 vCPU, placement's own resolution.
  const budget = provider.maxVCpuCount + 1e-3;
  if (neededVCpus <= budget) {
    return {
      versions: demands.map((demand, index) => ({ version: demand.version, desired: demand.desired, allowed: demand.desired, vCpusPerEnvironment: costs[index]! })),
      capped: [],
      neededVCpus,
      allowedVCpus: neededVCpus,
    };
  }

  const floors = demands.map((demand) => Math.min(demand.minEnvironments, demand.desired));
  const minCost = floors.reduce((sum, floor, index) => sum + floor * costs[index]!, 0);
  const minsFit = minCost <= budget;
  const shares: Share[] = demands.map((demand, index) => ({
    index,
    demand,
    cost: costs[index]!,
    floor: minsFit ? floors[index]! : 0,
    base: minsFit ? demand.desired : floors[index]!,
    allowed: 0,
    remainder: 0,
  }));
  const fraction = solveFraction(shares, budget);
  let spent = 0;
  for (const share of shares) {
    const exact = Math.max(share.floor, fraction * share.base);
    share.allowed = Math.min(share.base, Math.floor(exact + 1e-9));
    share.remainder = exact - share.allowed;
    spent += share.allowed * share.cost;
  }
  // Largest remainders first: the versions rounding cost the most get the leftover EEs. Only
  // those with a remainder: one pinned at its min is already above its fair share.
  const byRemainder = shares
    .filter((share) => share.allowed < share.base && share.remainder > 1e-9)
    .sort((a, b) => b.remainder - a.remainder || (a.demand.version < b.demand.version ? -1 : a.demand.version > b.demand.version ? 1 : 0));
  for (const share of byRemainder) {
    if (spent + share.cost > budget) continue;
    share.allowed += 1;
    spent += share.cost;
  }

  const versions = shares.map((share): CappedDemand => {
    const { version, desired } = share.demand;
    return share.allowed < desired
      ? { version, desired, allowed: share.allowed, reason: 'CapacityProviderScalingLimitExceeded', vCpusPerEnvironment: share.cost }
      : { version, desired, allowed: share.allowed, vCpusPerEnvironment: share.cost };
  });
  return { versions, capped: versions.filter((entry) => entry.reason !== undefined).map((entry) => entry.version), neededVCpus, allowedVCpus: spent };
}
