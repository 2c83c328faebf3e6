import { describe, expect, it } from 'vitest';
import { pickEnvironment, policyFor, type PickContext } from '../src/picker.js';
import { RoutingTable, type EnvironmentRoute, type Route } from '../src/routing-table.js';
import { ee, ManualClock, reportOf, seeded } from './support.js';

const clock = new ManualClock();

function routeOf(environments: ReturnType<typeof ee>[], seed = 3): { table: RoutingTable; route: Route } {
  const table = new RoutingTable({ staleMs: 1_500, now: clock.now, random: seeded(seed), onAgentSeen: () => true });
  table.applyReport(reportOf('i-1', environments, clock.now()));
  return { table, route: table.route('fn', '1')! };
}

function ctx(overrides: Partial<PickContext> = {}, seed = 5): PickContext {
  // exactLeastLoadedMax 0: power of two choices unless a test asks for the exact policy.
  return { now: clock.now(), random: seeded(seed), staleMs: 1_500, firstAvailableMaxConcurrency: 3, exactLeastLoadedMax: 0, packBelowPercent: 0, ...overrides };
}

/** Picks and reserves `count` times without releasing; returns the load of each EE by id. */
function fill(table: RoutingTable, route: Route, count: number, context = ctx()): Record<string, number> {
  for (let i = 0; i < count; i += 1) {
    const entry = pickEnvironment(route, context);
    if (!entry) throw new Error(`no candidate at pick ${i}`);
    table.reserve(entry);
  }
  return Object.fromEntries(route.entries.map((entry) => [entry.environmentId, entry.own]));
}

describe('pickEnvironment: power of two choices', () => {
  it('spreads evenly over equal EEs: the gap stays a few slots while pure random drifts by tens', () => {
    const ids = Array.from({ length: 10 }, (_, i) => `e${i}`);
    const { table, route } = routeOf(ids.map((id) => ee(id, { maxConcurrency: 1_000 })));
    expect(policyFor(route, ctx())).toBe('p2c');
    const loads = Object.values(fill(table, route, 2_000));
    const gap = Math.max(...loads) - Math.min(...loads);
    // Theory: max − mean = ln ln n / ln 2 + O(1) ≈ 1.2 + O(1) for n = 10, independent of the number of picks.
    expect(gap).toBeLessThanOrEqual(4);
    expect(loads.reduce((sum, load) => sum + load, 0)).toBe(2_000);

    // The same draws choosing one EE at random: the spread P2C avoids (binomial sd ≈ 13 per EE here).
    const random = seeded(5);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 2_000; i += 1) counts[Math.floor(random() * 10)]! += 1;
    expect(Math.max(...counts) - Math.min(...counts)).toBeGreaterThan(gap * 3);
  });

  it('samples instead of scanning on large routes, with the same balance', () => {
    const { table, route } = routeOf(Array.from({ length: 200 }, (_, i) => ee(`e${i}`, { maxConcurrency: 100 })));
    const loads = Object.values(fill(table, route, 10_000));
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(5);
  });

  it('balances load relative to each EE’s limit on unequal EEs', () => {
    const { table, route } = routeOf([ee('small', { maxConcurrency: 10 }), ee('medium', { maxConcurrency: 20 }), ee('large', { maxConcurrency: 40 })]);
    const loads = fill(table, route, 35);
    // Half full each: 5, 10, 20 (±1 for ties broken by the coin).
    expect(loads.small).toBeGreaterThanOrEqual(4);
    expect(loads.small).toBeLessThanOrEqual(6);
    expect(loads.medium).toBeGreaterThanOrEqual(9);
    expect(loads.medium).toBeLessThanOrEqual(11);
    expect(loads.large).toBeGreaterThanOrEqual(19);
    expect(loads.large).toBeLessThanOrEqual(21);
  });

  it('counts load other routers put on an EE (from its report) until it evens out', () => {
    const { table, route } = routeOf([ee('busy', { inFlight: 6, maxConcurrency: 10 }), ee('idle', { maxConcurrency: 10 })]);
    const loads = fill(table, route, 6);
    expect(loads).toEqual({ busy: 0, idle: 6 });
  });

  it('never offers a full EE, and finds the last free slot among many full ones', () => {
    const { table, route } = routeOf(Array.from({ length: 50 }, (_, i) => ee(`e${i}`, { maxConcurrency: 4 })));
    fill(table, route, 199);
    const last = pickEnvironment(route, ctx());
    expect(last?.own).toBe(3);
    table.reserve(last!);
    expect(pickEnvironment(route, ctx())).toBeUndefined();
    expect(route.entries.every((entry) => entry.own === 4)).toBe(true);
  });

  it('skips EEs that refused this invocation, are backed off, stale, or whose agent is down', () => {
    const { table, route } = routeOf(['a', 'b', 'c', 'd', 'e'].map((id) => ee(id)));
    const byId = (id: string): EnvironmentRoute => table.environment(id)!;
    byId('b').blockedUntil = clock.now() + 1;
    byId('c').reportedAt = clock.now() - 1_500;
    const exclude = new Set(['a']);
    const picked = new Set<string>();
    for (let seed = 0; seed < 50; seed += 1) picked.add(pickEnvironment(route, ctx({ exclude }, seed))!.environmentId);
    expect([...picked].sort()).toEqual(['d', 'e']);
    byId('d').instance.agentUp = false; // one agent for all five: nothing left
    expect(pickEnvironment(route, ctx({ exclude }))).toBeUndefined();
  });
});

describe('pickEnvironment: exact least-loaded on small routes', () => {
  it('takes the least loaded EE relative to its limit, a fair coin among equals', () => {
    const { table, route } = routeOf([
      ee('a', { maxConcurrency: 10, inFlight: 3 }),
      ee('b', { maxConcurrency: 20, inFlight: 5 }),
      ee('c', { maxConcurrency: 10, inFlight: 2 }),
      ee('d', { maxConcurrency: 40, inFlight: 8 }),
    ]);
    const exact = ctx({ exactLeastLoadedMax: 15 });
    expect(policyFor(route, exact)).toBe('least-loaded');
    // Ratios: a .30, b .25, c .20, d .20 — c and d tie on ratio; d has more free slots.
    expect(pickEnvironment(route, exact)?.environmentId).toBe('d');
    const loads = fill(table, route, 40, exact);
    // After 40 more: every EE near the same ratio (58 of 80 slots ≈ .725).
    for (const entry of route.entries) expect(Math.abs(entry.load / entry.maxConcurrency - 58 / 80)).toBeLessThanOrEqual(0.1);
    expect(Object.values(loads).reduce((a, b) => a + b, 0)).toBe(40);
    // Equal EEs: ties are broken at random, not always toward the first.
    const equal = routeOf(['p', 'q', 'r', 's'].map((id) => ee(id)));
    const firsts = new Set<string>();
    for (let seed = 0; seed < 40; seed += 1) firsts.add(pickEnvironment(equal.route, ctx({ exactLeastLoadedMax: 15 }, seed))!.environmentId);
    expect(firsts.size).toBe(4);
  });

  it('switches to power of two choices above exactLeastLoadedMax EEs', () => {
    const { route } = routeOf(Array.from({ length: 16 }, (_, i) => ee(`e${i}`)));
    expect(policyFor(route, ctx({ exactLeastLoadedMax: 15 }))).toBe('p2c');
    expect(policyFor(route, ctx({ exactLeastLoadedMax: 16 }))).toBe('least-loaded');
  });
});

describe('pickEnvironment: first-available and pack', () => {
  it('fills EEs of max concurrency ≤ 3 one after another, in a random order fixed per router', () => {
    const { table, route } = routeOf([ee('a', { maxConcurrency: 2 }), ee('b', { maxConcurrency: 2 }), ee('c', { maxConcurrency: 3 })]);
    expect(policyFor(route, ctx())).toBe('first-available');
    const order = route.byOrdinal().map((entry) => entry.environmentId);
    const picks: string[] = [];
    for (let i = 0; i < 7; i += 1) {
      const entry = pickEnvironment(route, ctx())!;
      table.reserve(entry);
      picks.push(entry.environmentId);
    }
    const limit = (id: string): number => (id === 'c' ? 3 : 2);
    const expected = order.flatMap((id) => Array<string>(limit(id)).fill(id));
    expect(picks).toEqual(expected);
    expect(pickEnvironment(route, ctx())).toBeUndefined();
    // Another router ranks the same EEs in another order, so routers do not all crowd the same first EE.
    const other = routeOf([ee('a', { maxConcurrency: 2 }), ee('b', { maxConcurrency: 2 }), ee('c', { maxConcurrency: 3 })], 99).route;
    expect(other.byOrdinal().map((entry) => entry.environmentId)).not.toEqual(order);
  });

  it('packs onto the busiest EE with room below the utilisation threshold, spreads above it', () => {
    const { table, route } = routeOf(['a', 'b', 'c', 'd'].map((id) => ee(id, { maxConcurrency: 10 })));
    const packing = ctx({ packBelowPercent: 50 });
    expect(policyFor(route, packing)).toBe('pack');
    const first = pickEnvironment(route, packing)!;
    for (let i = 0; i < 10; i += 1) table.reserve(pickEnvironment(route, packing)!);
    // All ten on one EE (the first in ordinal order), until it was full.
    expect(first.own).toBe(10);
    for (let i = 0; i < 10; i += 1) table.reserve(pickEnvironment(route, packing)!);
    expect(route.entries.filter((entry) => entry.own > 0)).toHaveLength(2);
    // 20 of 40 slots: 50 %, no longer below the threshold.
    expect(policyFor(route, packing)).toBe('p2c');
  });
});
