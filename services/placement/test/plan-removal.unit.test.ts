import { describe, expect, it } from 'vitest';
import { idleInstances, planRemoval, type FleetInstance, type InstanceState, type RemovalPlan } from '../src/decisions/index.js';
import { ee, instance, pick, randomInt, seededRandom, shuffled } from './fleet-fixtures.js';

const [a, b] = ['us-east-1a', 'us-east-1b'] as const;

/** Removals as `environment@instance`: compact to compare. */
function removed(plan: RemovalPlan): string[] {
  return plan.removals.map((removal) => `${removal.environmentId}@${removal.instanceId}`);
}

describe('planRemoval', () => {
  it('empties the least-loaded instance first', () => {
    const fleet = [instance('i-heavy', a, 'c7g.2xlarge', [ee('v-1', 'v'), ee('w-1', 'w'), ee('w-2', 'w')]), instance('i-light', a, 'c7g.2xlarge', [ee('v-2', 'v')])];
    const plan = planRemoval(fleet, { version: 'v', count: 1 });
    expect(removed(plan)).toEqual(['v-2@i-light']);
    expect(plan.emptiedInstances).toEqual(['i-light']);
    expect(plan.removals[0]?.zone).toBe(a);
  });

  it('keeps taking from the instance it started to empty, highest EE id first', () => {
    const fleet = [
      instance('i-1', a, 'c7g.2xlarge', [ee('v-1', 'v'), ee('v-2', 'v')]),
      instance('i-2', a, 'c7g.2xlarge', [ee('v-3', 'v'), ee('w-1', 'w'), ee('w-2', 'w')]),
    ];
    expect(planRemoval(fleet, { version: 'v', count: 2 })).toEqual({
      removals: [
        { environmentId: 'v-2', instanceId: 'i-1', zone: a },
        { environmentId: 'v-1', instanceId: 'i-1', zone: a },
      ],
      emptiedInstances: ['i-1'],
    });
    // The other version's EEs keep i-2 busy.
    expect(planRemoval(fleet, { version: 'v', count: 3 }).emptiedInstances).toEqual(['i-1']);
  });

  it('takes from the zone where the version has most EEs, keeping it spread', () => {
    const fleet = [
      instance('i-a1', a, 'c7g.2xlarge', [ee('v-1', 'v'), ee('v-2', 'v')]),
      instance('i-a2', a, 'c7g.2xlarge', [ee('v-3', 'v'), ee('w-1', 'w')]),
      instance('i-b1', b, 'c7g.2xlarge', [ee('v-4', 'v')]),
    ];
    expect(removed(planRemoval(fleet, { version: 'v', count: 2 }))).toEqual(['v-2@i-a1', 'v-1@i-a1']);
    // With a and b even, the tie goes to the zone whose next instance is lighter: i-b1 (1 vCPU) over i-a2 (2).
    expect(removed(planRemoval(fleet, { version: 'v', count: 3 }))).toEqual(['v-2@i-a1', 'v-1@i-a1', 'v-4@i-b1']);
  });

  it.each<InstanceState>(['Pending', 'Unhealthy', 'Draining'])('takes from a %s instance before a Running one', (state) => {
    const fleet = [instance('i-run', a, 'c7g.2xlarge', [ee('v-1', 'v')]), instance('i-other', a, 'c7g.2xlarge', [ee('v-2', 'v'), ee('w-1', 'w'), ee('w-2', 'w')], state)];
    expect(removed(planRemoval(fleet, { version: 'v', count: 1 }))).toEqual(['v-2@i-other']);
  });

  it('removes everything the version has when asked for more, and ignores Terminated instances', () => {
    const fleet = [
      instance('i-1', a, 'c7g.xlarge', [ee('v-1', 'v')]),
      instance('i-2', b, 'c7g.xlarge', [ee('v-2', 'v'), ee('w-1', 'w')]),
      instance('i-3', b, 'c7g.xlarge', [ee('v-3', 'v')], 'Terminated'),
    ];
    const plan = planRemoval(fleet, { version: 'v', count: 10 });
    expect(removed(plan).sort()).toEqual(['v-1@i-1', 'v-2@i-2']);
    expect(plan.emptiedInstances).toEqual(['i-1']);
  });

  it.each([0, 3])('removes nothing when asked for %i EEs of a version with none', (count) => {
    expect(planRemoval([instance('i-1', a, 'c7g.xlarge', [ee('w-1', 'w')])], { version: 'v', count: count })).toEqual({ removals: [], emptiedInstances: [] });
  });

  it.each([-1, 0.5])('refuses count %d', (count) => {
    expect(() => planRemoval([], { version: 'v', count })).toThrow(/count must be a non-negative integer/);
  });

  it('keeps the version spread and is independent of fleet order, over random fleets', () => {
    const zones = ['z1', 'z2', 'z3'];
    for (let seed = 1; seed <= 300; seed++) {
      const random = seededRandom(seed);
      const fleet: FleetInstance[] = Array.from({ length: randomInt(random, 0, 25) }, (_, n) =>
        instance(
          `i-${n}`,
          pick(random, zones),
          'c7g.4xlarge',
          Array.from({ length: randomInt(random, 0, 6) }, (_, k) => ee(`e-${n}-${k}`, pick(random, ['v', 'w']), pick(random, [1, 2]))),
          pick(random, ['Running', 'Running', 'Running', 'Draining', 'Terminated'] as const),
        ),
      );
      const count = randomInt(random, 0, 30);
      const plan = planRemoval(fleet, { version: 'v', count });
      expect(planRemoval(shuffled(random, fleet), { version: 'v', count })).toEqual(plan);

      const live = fleet.filter((i) => i.state !== 'Terminated');
      const owned = new Map(live.flatMap((i) => i.environments.filter((e) => e.version === 'v').map((e) => [e.id, i] as const)));
      expect(plan.removals).toHaveLength(Math.min(count, owned.size));
      expect(new Set(plan.removals.map((r) => r.environmentId)).size).toBe(plan.removals.length);
      for (const removal of plan.removals) expect(owned.get(removal.environmentId)?.id).toBe(removal.instanceId);

      // A zone only loses an EE while it is among the fullest for the version.
      const share = new Map<string, number>(zones.map((zone) => [zone, 0]));
      for (const [, i] of owned) share.set(i.zone, share.get(i.zone)! + 1);
      for (const removal of plan.removals) share.set(removal.zone, share.get(removal.zone)! - 1);
      const highest = Math.max(...share.values());
      for (const removal of plan.removals) expect(share.get(removal.zone)!).toBeGreaterThanOrEqual(highest - 1);

      // Emptied instances are exactly those left with no EE at all.
      const gone = new Set(plan.removals.map((r) => r.environmentId));
      const empty = live.filter((i) => i.environments.length > 0 && i.environments.every((e) => gone.has(e.id))).map((i) => i.id);
      expect([...plan.emptiedInstances].sort()).toEqual(empty.sort());
    }
  });
});

describe('idleInstances', () => {
  it('lists Running instances without EEs, in fleet order', () => {
    const fleet = [
      instance('i-busy', a, 'c7g.xlarge', [ee('v-1', 'v')]),
      instance('i-idle-2', a),
      instance('i-pending', a, 'c7g.xlarge', [], 'Pending'),
      instance('i-unhealthy', b, 'c7g.xlarge', [], 'Unhealthy'),
      instance('i-draining', b, 'c7g.xlarge', [], 'Draining'),
      instance('i-terminated', b, 'c7g.xlarge', [], 'Terminated'),
      instance('i-idle-1', b),
    ];
    expect(idleInstances(fleet).map((i) => i.id)).toEqual(['i-idle-2', 'i-idle-1']);
    expect(idleInstances([])).toEqual([]);
  });
});
