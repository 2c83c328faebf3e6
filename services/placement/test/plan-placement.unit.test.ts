import { describe, expect, it } from 'vitest';
import {
  chooseInstanceType,
  countFitting,
  defaultAgentReserve,
  planPlacement,
  toMilliVCpus,
  type FleetInstance,
  type InstanceState,
  type PlacementLimits,
  type PlacementOptions,
  type PlacementPlan,
  type PlacementRequest,
} from '../src/decisions/index.js';
import { ee, instance, pick, randomInt, seededRandom, sequentialIds, shuffled, type } from './fleet-fixtures.js';

const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'] as const;
const [a, b, c] = zones;
const oneVCpu = { vCpus: 1, memoryMiB: 2048 };

/** A request for `count` 1-vCPU EEs of v, new instances c7g.xlarge (3 such EEs each after the reserve). */
function request(count: number, overrides: Partial<PlacementRequest> = {}): PlacementRequest {
  return { version: 'v', count, environment: oneVCpu, zones, launchType: type('c7g.xlarge'), newInstanceId: sequentialIds(), ...overrides };
}

const roomy: PlacementLimits = { maxVCpuCount: 400 };

function plan(fleet: FleetInstance[], req: PlacementRequest, limits: PlacementLimits = roomy, options?: PlacementOptions): PlacementPlan {
  const decision = planPlacement(fleet, req, limits, options);
  if (!decision.ok) throw new Error(`expected a plan, got ${decision.reasonCode}: ${decision.message}`);
  return decision.value;
}

/** Placements as `instance@zone`, `+` marking instances this plan launches: compact to compare. */
function where(result: PlacementPlan): string[] {
  return result.placements.map((placement) => `${placement.newInstance ? '+' : ''}${placement.instanceId}@${placement.zone.slice(-1)}`);
}

describe('planPlacement: zones, packing, launches', () => {
  it('puts 3 EEs on an empty fleet into 3 new instances in 3 zones', () => {
    const result = plan([], request(3));
    expect(where(result)).toEqual(['+i-new-0@a', '+i-new-1@b', '+i-new-2@c']);
    expect(result.launches).toEqual([
      { id: 'i-new-0', type: 'c7g.xlarge', zone: a, vCpus: 4, memoryMiB: 8192 },
      { id: 'i-new-1', type: 'c7g.xlarge', zone: b, vCpus: 4, memoryMiB: 8192 },
      { id: 'i-new-2', type: 'c7g.xlarge', zone: c, vCpus: 4, memoryMiB: 8192 },
    ]);
    expect(result.providerVCpus).toBe(12);
  });

  it('reuses existing instances with room', () => {
    const fleet = [instance('i-a', a, 'c7g.xlarge', [ee('w-1', 'w')]), instance('i-b', b, 'c7g.xlarge', [ee('w-2', 'w')]), instance('i-c', c)];
    const result = plan(fleet, request(3));
    expect(where(result)).toEqual(['i-a@a', 'i-b@b', 'i-c@c']);
    expect(result.launches).toEqual([]);
    expect(result.providerVCpus).toBe(12);
  });

  it('packs the most-loaded instance that still fits, and launches only when none does', () => {
    const fleet = [
      instance('i-1', a, 'c7g.2xlarge', [1, 2, 3, 4, 5].map((n) => ee(`w-${n}`, 'w'))), // 2.75 vCPUs free: 2 EEs
      instance('i-2', a, 'c7g.2xlarge', [ee('w-6', 'w'), ee('w-7', 'w')]), // 5.75 free: 5 EEs
      instance('i-3', a, 'c7g.xlarge', [1, 2, 3].map((n) => ee(`x-${n}`, 'x'))), // 0.75 free: full
    ];
    const result = plan(fleet, request(9, { zones: [a] }));
    expect(where(result)).toEqual(['i-1@a', 'i-1@a', 'i-2@a', 'i-2@a', 'i-2@a', 'i-2@a', 'i-2@a', '+i-new-0@a', '+i-new-0@a']);
    expect(result.launches.map((launch) => launch.id)).toEqual(['i-new-0']);
  });

  it('packs by memory as well as vCPUs', () => {
    // An m7g.xlarge (4 vCPUs, 16 GiB) with one 8-GiB EE has 2.75 vCPUs but only 7.5 GiB free.
    const fleet = [instance('i-m', a, 'm7g.xlarge', [ee('w-1', 'w', 1, 8192)])];
    const big = { vCpus: 1, memoryMiB: 8192 };
    expect(where(plan(fleet, request(1, { zones: [a], environment: big, launchType: type('r7g.xlarge') })))).toEqual(['+i-new-0@a']);
    expect(where(plan(fleet, request(1, { zones: [a], environment: { vCpus: 1, memoryMiB: 7168 } })))).toEqual(['i-m@a']);
  });

  it('spreads before it packs: a zone without room launches while another has room', () => {
    const fleet = [instance('i-a', a, 'c7g.4xlarge')];
    expect(where(plan(fleet, request(2, { zones: [a, b] })))).toEqual(['i-a@a', '+i-new-0@b']);
  });

  it('repeats zones when there are more EEs than zones, filling new instances before launching more', () => {
    expect(where(plan([], request(7)))).toEqual(['+i-new-0@a', '+i-new-1@b', '+i-new-2@c', '+i-new-0@a', '+i-new-1@b', '+i-new-2@c', '+i-new-0@a']);
    const ten = plan([], request(10));
    expect(ten.launches.map((launch) => `${launch.id}@${launch.zone.slice(-1)}`)).toEqual(['i-new-0@a', 'i-new-1@b', 'i-new-2@c', 'i-new-3@a']);
  });

  it('counts the EEs the version already has in each zone', () => {
    const fleet = [
      instance('i-a', a, 'c7g.4xlarge', [ee('v-1', 'v'), ee('v-2', 'v')]),
      instance('i-b', b, 'c7g.4xlarge'),
      instance('i-c', c, 'c7g.4xlarge', [ee('v-3', 'v')]),
    ];
    expect(where(plan(fleet, request(3)))).toEqual(['i-b@b', 'i-b@b', 'i-c@c']);
  });

  it.each<InstanceState>(['Pending', 'Unhealthy', 'Draining'])('never places on a %s instance, but still serves its zone', (state) => {
    const fleet = [instance('i-a', a, 'c7g.xlarge', [], state), instance('i-b', b), instance('i-c', c)];
    const result = plan(fleet, request(3));
    // Zones with room win the ties, so zone a comes last, and gets a new instance.
    expect(where(result)).toEqual(['i-b@b', 'i-c@c', '+i-new-0@a']);
    // The skipped instance still holds vCPUs of the provider.
    expect(result.providerVCpus).toBe(16);
  });

  it('does not count EEs on Unhealthy or Draining instances as the zone’s share', () => {
    const fleet = [
      instance('i-a', a, 'c7g.xlarge', [ee('v-1', 'v'), ee('v-2', 'v')], 'Draining'),
      instance('i-b', b, 'c7g.xlarge', [ee('v-3', 'v')]),
      instance('i-c', c, 'c7g.xlarge', [ee('v-4', 'v')], 'Pending'),
    ];
    expect(where(plan(fleet, request(1)))).toEqual(['+i-new-0@a']);
  });

  it('breaks zone ties towards a zone with room, then fewer vCPUs, then zone order', () => {
    const full = (id: string, zone: string, typeName = 'c7g.xlarge') =>
      instance(id, zone, typeName, [1, 2, 3].map((n) => ee(`${id}-w${n}`, 'w')).concat(typeName === 'c7g.2xlarge' ? [4, 5, 6, 7].map((n) => ee(`${id}-x${n}`, 'x')) : []));
    expect(where(plan([full('i-a', a), full('i-b', b), instance('i-c', c)], request(1)))).toEqual(['i-c@c']);
    expect(where(plan([full('i-a1', a), full('i-a2', a), full('i-b', b), full('i-c', c, 'c7g.2xlarge')], request(1)))).toEqual(['+i-new-0@b']);
    expect(where(plan([full('i-a', a), full('i-b', b), full('i-c', c)], request(1)))).toEqual(['+i-new-0@a']);
  });

  it('honours the reserve option', () => {
    expect(where(plan([], request(4, { zones: [a] }), roomy, { reserve: { vCpus: 0, memoryMiB: 0 } }))).toEqual([
      '+i-new-0@a',
      '+i-new-0@a',
      '+i-new-0@a',
      '+i-new-0@a',
    ]);
    expect(defaultAgentReserve).toEqual({ vCpus: 0.25, memoryMiB: 512 });
  });

  it('plans nothing for zero EEs', () => {
    expect(plan([instance('i-a', a)], request(0))).toEqual({ placements: [], launches: [], providerVCpus: 4 });
  });
});

describe('planPlacement: limits', () => {
  it('fails with CapacityProviderScalingLimitExceeded when MaxVCpuCount is too small for 3 EEs', () => {
    expect(planPlacement([], request(3), { maxVCpuCount: 8 })).toEqual({
      ok: false,
      reasonCode: 'CapacityProviderScalingLimitExceeded',
      message:
        'Placing 3 execution environments of v (1 vCPU and 2048 MiB each) needs 3 new c7g.xlarge instances: the capacity provider would run 12 vCPUs (0 now + 12 new), more than its MaxVCpuCount 8 (allowed: at most 8 vCPUs across its instances)',
      neededVCpus: 12,
      allowedVCpus: 8,
    });
    expect(planPlacement([], request(3), { maxVCpuCount: 12 }).ok).toBe(true);
  });

  it('counts every instance of the provider toward MaxVCpuCount except Terminated ones', () => {
    const fleet = [
      instance('i-pending', a, 'c7g.xlarge', [], 'Pending'),
      instance('i-gone', a, 'c7g.xlarge', [], 'Terminated'),
      instance('i-elsewhere', 'us-east-1d', 'c7g.xlarge', [ee('w-1', 'w')]),
    ];
    expect(planPlacement(fleet, request(1, { zones: [b] }), { maxVCpuCount: 12 })).toMatchObject({ ok: true, value: { providerVCpus: 12 } });
    expect(planPlacement(fleet, request(1, { zones: [b] }), { maxVCpuCount: 11 })).toMatchObject({
      ok: false,
      reasonCode: 'CapacityProviderScalingLimitExceeded',
      neededVCpus: 12,
      allowedVCpus: 11,
    });
  });

  it('still places on running instances when a lowered MaxVCpuCount is below what runs', () => {
    const fleet = [instance('i-a', a), instance('i-b', b), instance('i-c', c)];
    expect(planPlacement(fleet, request(3), { maxVCpuCount: 2 })).toMatchObject({ ok: true, value: { launches: [], providerVCpus: 12 } });
  });

  it('fails with VcpuLimitExceeded when the account limit is too small', () => {
    const limits = { maxVCpuCount: 400, account: { vCpuLimit: 20, vCpusInUse: 16 } };
    expect(planPlacement([], request(3), limits)).toEqual({
      ok: false,
      reasonCode: 'VcpuLimitExceeded',
      message:
        'Placing 3 execution environments of v (1 vCPU and 2048 MiB each) needs 3 new c7g.xlarge instances: the account would run 28 vCPUs (16 now + 12 new), more than its vCPU limit 20 (allowed: at most 20 vCPUs across all instances)',
      neededVCpus: 28,
      allowedVCpus: 20,
    });
    expect(planPlacement([instance('i-a', a), instance('i-b', b), instance('i-c', c)], request(3), limits).ok).toBe(true);
    expect(planPlacement([], request(3), { ...limits, account: { vCpuLimit: 28, vCpusInUse: 16 } }).ok).toBe(true);
  });

  it('fails with InsufficientCapacity when a new instance could not hold one EE', () => {
    const tooSmall = request(1, { environment: { vCpus: 2, memoryMiB: 4096 }, launchType: type('c7g.large') });
    expect(planPlacement([], tooSmall, roomy)).toEqual({
      ok: false,
      reasonCode: 'InsufficientCapacity',
      message:
        "Instance type c7g.large (2 vCPUs and 4096 MiB) can't hold an execution environment of 2 vCPUs and 4096 MiB plus the agent reserve of 0.25 vCPU and 512 MiB (allowed: a type with room for at least one)",
    });
    // Nothing to launch, nothing to fail.
    expect(planPlacement([instance('i-a', a, 'c7g.2xlarge')], { ...tooSmall, zones: [a] }, roomy).ok).toBe(true);
  });
});

describe('planPlacement: input and determinism', () => {
  it.each<[string, PlacementRequest, PlacementLimits, RegExp]>([
    ['a negative count', request(-1), roomy, /count must be a non-negative integer/],
    ['a fractional count', request(1.5), roomy, /count must be a non-negative integer/],
    ['no zones', request(1, { zones: [] }), roomy, /at least one zone/],
    ['an empty EE', request(1, { environment: { vCpus: 0, memoryMiB: 2048 } }), roomy, /must have vCPUs and memory/],
    ['a negative cap', request(1), { maxVCpuCount: -1 }, /maxVCpuCount must be a number/],
    ['an id generator that repeats itself', request(6, { newInstanceId: () => 'i-same' }), roomy, /returned i-same, which is already taken/],
  ])('refuses %s', (_label, req, limits, message) => {
    expect(() => planPlacement([], req, limits)).toThrow(message);
  });

  it('refuses a new id that an existing instance has', () => {
    expect(() => planPlacement([instance('i-new-0', a, 'c7g.xlarge', [], 'Unhealthy')], request(1), roomy)).toThrow(/already taken/);
  });

  it('gives the same plan for the same input, in any fleet order', () => {
    const random = seededRandom(7);
    const fleet = Array.from({ length: 30 }, (_, n) =>
      instance(`i-${n}`, pick(random, zones), pick(random, ['c7g.xlarge', 'c7g.2xlarge']), Array.from({ length: randomInt(random, 0, 3) }, (_, k) => ee(`e-${n}-${k}`, pick(random, ['v', 'w'])))),
    );
    const first = planPlacement(fleet, request(40), roomy);
    expect(planPlacement(fleet, request(40), roomy)).toEqual(first);
    for (let round = 0; round < 5; round++) expect(planPlacement(shuffled(random, fleet), request(40), roomy)).toEqual(first);
  });
});

describe('planPlacement: invariants over random fleets', () => {
  const allZones = ['z1', 'z2', 'z3', 'z4'];
  const types = ['c7g.large', 'c7g.xlarge', 'c7g.2xlarge', 'm7g.xlarge', 'r7g.large', 'c8g.4xlarge'];
  const states: InstanceState[] = ['Running', 'Running', 'Running', 'Running', 'Running', 'Running', 'Pending', 'Unhealthy', 'Draining', 'Terminated'];
  const reserveMilli = toMilliVCpus(defaultAgentReserve.vCpus);

  function randomFleet(random: () => number): FleetInstance[] {
    return Array.from({ length: randomInt(random, 0, 40) }, (_, n) => {
      const typeName = pick(random, types);
      const { vCpus, memoryMiB } = type(typeName);
      let freeMilli = toMilliVCpus(vCpus) - reserveMilli;
      let freeMemory = memoryMiB - defaultAgentReserve.memoryMiB;
      const environments = [];
      for (let attempt = randomInt(random, 0, 10); attempt > 0; attempt--) {
        const eeVCpus = pick(random, [1, 2]);
        const eeMemory = eeVCpus * pick(random, [2, 4, 8]) * 1024;
        if (eeVCpus * 1000 > freeMilli || eeMemory > freeMemory) continue;
        freeMilli -= eeVCpus * 1000;
        freeMemory -= eeMemory;
        environments.push(ee(`e-${n}-${attempt}`, pick(random, ['v1', 'v2', 'v3']), eeVCpus, eeMemory));
      }
      return instance(`i-${n}`, pick(random, allZones), typeName, environments, pick(random, states));
    });
  }

  it('keeps every instance within capacity, respects the vCPU caps, balances zones and launches only when needed', () => {
    let plans = 0;
    let failures = 0;
    let withLaunches = 0;
    let withReuse = 0;
    for (let seed = 1; seed <= 500; seed++) {
      const random = seededRandom(seed);
      const fleet = randomFleet(random);
      const requestZones = shuffled(random, allZones).slice(0, randomInt(random, 1, 4));
      const ratio = pick(random, [2, 4, 8] as const);
      const environment = { vCpus: pick(random, [1, 2, 4]), memoryMiB: 0 };
      environment.memoryMiB = environment.vCpus * ratio * 1024;
      const choice = chooseInstanceType({ memoryMiB: environment.memoryMiB, memoryGiBPerVCpu: ratio }, { Architectures: ['arm64'] });
      if (!choice.ok) throw new Error(choice.message);
      const version = pick(random, ['v1', 'v2', 'v3', 'v4']);
      const req: PlacementRequest = {
        version,
        count: randomInt(random, 0, 25),
        environment,
        zones: requestZones,
        launchType: choice.value.instanceType,
        newInstanceId: sequentialIds(),
      };
      const existingMilli = fleet.filter((i) => i.state !== 'Terminated').reduce((sum, i) => sum + toMilliVCpus(i.vCpus), 0);
      const limits: PlacementLimits = {
        maxVCpuCount: randomInt(random, 2, 300),
        ...(random() < 0.5 ? { account: { vCpuLimit: randomInt(random, 0, 500), vCpusInUse: existingMilli / 1000 + randomInt(random, 0, 50) } } : {}),
      };
      const decision = planPlacement(fleet, req, limits);
      // Determinism, and independence from the fleet's order.
      expect(planPlacement(shuffled(random, fleet), req, limits)).toEqual(decision);

      if (!decision.ok) {
        failures += 1;
        expect(decision.reasonCode).not.toBe('InsufficientCapacity');
        expect(decision.neededVCpus!).toBeGreaterThan(decision.allowedVCpus!);
        continue;
      }
      plans += 1;
      const { placements, launches, providerVCpus } = decision.value;
      if (launches.length > 0) withLaunches += 1;
      if (placements.some((placement) => !placement.newInstance)) withReuse += 1;
      expect(placements).toHaveLength(req.count);

      // Every placement lands on a Running instance of its zone, or on a launch of this plan.
      const byId = new Map(fleet.map((i) => [i.id, i] as const));
      const launched = new Map(launches.map((l) => [l.id, l] as const));
      const placedOn = new Map<string, number>();
      for (const placement of placements) {
        const target = placement.newInstance ? launched.get(placement.instanceId) : byId.get(placement.instanceId);
        expect(target?.zone).toBe(placement.zone);
        if (!placement.newInstance) expect(byId.get(placement.instanceId)?.state).toBe('Running');
        expect(requestZones).toContain(placement.zone);
        placedOn.set(placement.instanceId, (placedOn.get(placement.instanceId) ?? 0) + 1);
      }

      // No instance over capacity; what is left free decides whether a launch was needed.
      const eeMilli = toMilliVCpus(environment.vCpus);
      const roomLeft = new Map<string, boolean>();
      for (const [id, count] of placedOn) {
        const target = byId.get(id) ?? launched.get(id)!;
        const used = (byId.get(id)?.environments ?? []).reduce((sum, e) => ({ milli: sum.milli + toMilliVCpus(e.vCpus), memory: sum.memory + e.memoryMiB }), { milli: 0, memory: 0 });
        const freeMilli = toMilliVCpus(target.vCpus) - reserveMilli - used.milli - count * eeMilli;
        const freeMemory = target.memoryMiB - defaultAgentReserve.memoryMiB - used.memory - count * environment.memoryMiB;
        expect(freeMilli).toBeGreaterThanOrEqual(0);
        expect(freeMemory).toBeGreaterThanOrEqual(0);
        roomLeft.set(id, countFitting(freeMilli, freeMemory, eeMilli, environment.memoryMiB) > 0);
      }
      for (const zone of new Set(launches.map((l) => l.zone))) {
        // A launch means no running instance of the zone had room, then or since.
        for (const existing of fleet.filter((i) => i.zone === zone && i.state === 'Running')) {
          const used = existing.environments.reduce((sum, e) => ({ milli: sum.milli + toMilliVCpus(e.vCpus), memory: sum.memory + e.memoryMiB }), { milli: 0, memory: 0 });
          const count = placedOn.get(existing.id) ?? 0;
          const free = countFitting(
            toMilliVCpus(existing.vCpus) - reserveMilli - used.milli - count * eeMilli,
            existing.memoryMiB - defaultAgentReserve.memoryMiB - used.memory - count * environment.memoryMiB,
            eeMilli,
            environment.memoryMiB,
          );
          expect(free).toBe(0);
        }
        // New instances are filled one after the other: at most one of a zone's has room left.
        expect(launches.filter((l) => l.zone === zone && roomLeft.get(l.id)).length).toBeLessThanOrEqual(1);
      }

      // The caps: MaxVCpuCount over all the provider's instances, and the account's limit.
      const newMilli = launches.reduce((sum, l) => sum + toMilliVCpus(l.vCpus), 0);
      expect(toMilliVCpus(providerVCpus)).toBe(existingMilli + newMilli);
      if (launches.length > 0) {
        expect(providerVCpus).toBeLessThanOrEqual(limits.maxVCpuCount);
        if (limits.account) expect(toMilliVCpus(limits.account.vCpusInUse) + newMilli).toBeLessThanOrEqual(toMilliVCpus(limits.account.vCpuLimit));
      }

      // Zone spread: a zone only receives an EE while it is among the emptiest for the version.
      const share = new Map<string, number>(requestZones.map((zone) => [zone, 0]));
      for (const i of fleet) {
        if (!share.has(i.zone) || (i.state !== 'Running' && i.state !== 'Pending')) continue;
        share.set(i.zone, share.get(i.zone)! + i.environments.filter((e) => e.version === version).length);
      }
      const before = new Map(share);
      for (const placement of placements) share.set(placement.zone, share.get(placement.zone)! + 1);
      const lowest = Math.min(...share.values());
      for (const placement of placements) expect(share.get(placement.zone)!).toBeLessThanOrEqual(lowest + 1);
      if ([...before.values()].every((count) => count === 0)) expect(Math.max(...share.values()) - lowest).toBeLessThanOrEqual(1);
    }
    // The generator must exercise both outcomes, or the loop proves little.
    expect(plans).toBeGreaterThan(200);
    expect(failures).toBeGreaterThan(10);
    expect(withLaunches).toBeGreaterThan(50);
    expect(withReuse).toBeGreaterThan(50);
  });
});
