/**
 * The choice of an execution environment for one invocation, picked by the
 * version's per-EE max concurrency and size (after Knative's activator,
 * `pkg/activator/net/lb_policy.go`). "Load" is `own + others` relative to
 * `maxConcurrency` (routing-table.ts):
 *
 * - **least-loaded** for versions of at most `exactLeastLoadedMax` EEs
 *   (default 15): every candidate is looked at anyway, and this router's own
 *   counts are exact, so the least-loaded one wins outright (then more free
 *   slots, then a fair coin among equals). Measured (bench/routing.mjs) it
 *   misplaces about half as much in-flight work as P2C on 4 EEs of unequal speed.
 * - **power of two choices** above that: two distinct EEs with a free slot,
 *   drawn at random; the less loaded wins. Near-least-loaded without scanning
 *   thousands of EEs, and robust to load figures that are a little old
 *   (Mitzenmacher) — which other routers' load is, known only from reports —
 *   where an exact minimum would send every router's burst to the same EE.
 * - **first-available** when every EE admits ≤ `firstAvailableMaxConcurrency`
 *   (default 3): the first EE with a free slot in a per-router random order.
 *   With one to three slots per EE a random pair is often both full, and
 *   exact local accounting makes the first free slot as good as any; the
 *   fixed order also packs work onto few EEs.
 * - **pack** (Hermod's consolidation, off by default): below
 *   `packBelowPercent` utilisation of the version, the busiest EE that still
 *   has room, so idle EEs stay idle for scale-in.
 *
 * A candidate has a free slot by the router's accounting, a fresh report, an
 * open agent stream, no pressure back-off, and has not refused this
 * invocation already.
 */
import type { EnvironmentRoute, Route } from './routing-table.js';

/** What a pick needs besides the route. */
export interface PickContext {
  /** Local time, ms. */
  now: number;
  /** Uniform in [0, 1). */
  random: () => number;
  /** Reports older than this do not count (the sweep may not have removed them yet). */
  staleMs: number;
  /** EEs that refused this invocation already (a Set or the Map of refusals). */
  exclude?: { has(environmentId: string): boolean } | undefined;
  /** First-available at or below this per-EE max concurrency. */
  firstAvailableMaxConcurrency: number;
  /** Exact least-loaded for routes of at most this many EEs; power of two choices above. */
  exactLeastLoadedMax: number;
  /** Pack below this utilisation percent; 0 = never. */
  packBelowPercent: number;
}

/** The policy a route is routed with right now. */
export type PolicyName = 'first-available' | 'pack' | 'least-loaded' | 'p2c';

/** Below this many EEs, P2C draws its pair from the candidates themselves: a scan is as cheap. */
const scanBelow = 16;
/** Random draws before falling back to a scan, when most EEs are full. */
const sampleDraws = 8;

/** True when the EE may be offered this invocation. */
export function isCandidate(entry: EnvironmentRoute, ctx: PickContext): boolean {
  return (
    entry.free > 0 &&
    entry.instance.agentUp &&
    entry.blockedUntil <= ctx.now &&
    entry.reportedAt > ctx.now - ctx.staleMs &&
    !(ctx.exclude?.has(entry.environmentId) ?? false)
  );
}

/** Percent of the route's slots taken, by the router's accounting. */
export function utilisationPercent(route: Route): number {
  let load = 0;
  let capacity = 0;
  for (const entry of route.entries) {
    load += Math.max(0, entry.load);
    capacity += entry.maxConcurrency;
  }
  return capacity === 0 ? 100 : (100 * load) / capacity;
}

/** The policy for the route now (see the module comment). */
export function policyFor(route: Route, ctx: PickContext): PolicyName {
  if (route.maxConcurrencyCeiling() <= ctx.firstAvailableMaxConcurrency) return 'first-available';
  if (ctx.packBelowPercent > 0 && utilisationPercent(route) < ctx.packBelowPercent) return 'pack';
  return route.entries.length <= ctx.exactLeastLoadedMax ? 'least-loaded' : 'p2c';
}

/** Picks an EE for one invocation, or undefined when no EE is a candidate. Reserve the slot right after. */
export function pickEnvironment(route: Route, ctx: PickContext): EnvironmentRoute | undefined {
  if (route.entries.length === 0) return undefined;
  switch (policyFor(route, ctx)) {
    case 'first-available':
      return firstAvailable(route, ctx);
    case 'pack':
      return busiestWithRoom(route, ctx);
    case 'least-loaded':
      return leastLoaded(route, ctx);
    case 'p2c':
      return powerOfTwo(route, ctx);
  }
}

function firstAvailable(route: Route, ctx: PickContext): EnvironmentRoute | undefined {
  for (const entry of route.byOrdinal()) if (isCandidate(entry, ctx)) return entry;
  return undefined;
}

function busiestWithRoom(route: Route, ctx: PickContext): EnvironmentRoute | undefined {
  let best: EnvironmentRoute | undefined;
  for (const entry of route.byOrdinal()) {
    if (!isCandidate(entry, ctx)) continue;
    // Strictly busier wins, so among equals the first in ordinal order does (a stable pack target).
    if (!best || entry.load * best.maxConcurrency > best.load * entry.maxConcurrency) best = entry;
  }
  return best;
}

function leastLoaded(route: Route, ctx: PickContext): EnvironmentRoute | undefined {
  let best: EnvironmentRoute | undefined;
  let ties = 0;
  for (const entry of route.entries) {
    if (!isCandidate(entry, ctx)) continue;
    const order = best ? compareLoad(entry, best) : -1;
    if (order < 0) {
      best = entry;
      ties = 1;
    } else if (order === 0) {
      // Reservoir sampling over equals: each of k tied EEs wins with probability 1/k.
      ties += 1;
      if (ctx.random() * ties < 1) best = entry;
    }
  }
  return best;
}

function powerOfTwo(route: Route, ctx: PickContext): EnvironmentRoute | undefined {
  const { entries } = route;
  if (entries.length >= scanBelow) {
    let first: EnvironmentRoute | undefined;
    for (let draw = 0; draw < sampleDraws; draw += 1) {
      const entry = entries[Math.floor(ctx.random() * entries.length)] as EnvironmentRoute;
      if (entry === first || !isCandidate(entry, ctx)) continue;
      if (!first) first = entry;
      else return lessLoaded(first, entry, ctx.random);
    }
  }
  // Few EEs, or most of them full: choose among the candidates themselves.
  const candidates = entries.filter((entry) => isCandidate(entry, ctx));
  if (candidates.length <= 1) return candidates[0];
  const i = Math.floor(ctx.random() * candidates.length);
  let j = Math.floor(ctx.random() * (candidates.length - 1));
  if (j >= i) j += 1;
  return lessLoaded(candidates[i] as EnvironmentRoute, candidates[j] as EnvironmentRoute, ctx.random);
}

/** Negative when `a` is less loaded than `b` (relative to its limit, then by more free slots), 0 when equal. */
export function compareLoad(a: EnvironmentRoute, b: EnvironmentRoute): number {
  // Cross-multiplied to compare a.load/a.max with b.load/b.max without division.
  const byRatio = a.load * b.maxConcurrency - b.load * a.maxConcurrency;
  return byRatio !== 0 ? byRatio : b.free - a.free;
}

/** The less loaded of two EEs (compareLoad); a coin between equals. */
export function lessLoaded(a: EnvironmentRoute, b: EnvironmentRoute, random: () => number): EnvironmentRoute {
  const order = compareLoad(a, b);
  if (order !== 0) return order < 0 ? a : b;
  return random() < 0.5 ? a : b;
}
