/**
 * Plans of one capacity provider run one at a time and see what earlier plans
 * placed before the fleet shows it, so concurrent scale-outs cannot stack EEs
 * onto the same instance (the overcommit bench/fleet-sim.mjs found).
 */
import { describe, expect, it } from 'vitest';
import { planPlacement, type FleetInstance } from '../src/decisions/index.js';
import { createPlanReservations, withReservations, type Reservation } from '../src/plan-reservations.js';

const instance = (id: string, environments: FleetInstance['environments'] = []): FleetInstance => ({
  id,
  type: 'c7g.xlarge',
  zone: 'z1',
  state: 'Running',
  vCpus: 4,
  memoryMiB: 8192,
  environments,
});
const none: Reservation = { instances: [], environments: [] };
const launchOf = (id: string, zone = 'z1') => ({
  id,
  type: 'c7g.xlarge',
  zone,
  vCpus: 4,
  memoryMiB: 8192,
  launch: { instanceId: id, capacityProviderArn: 'arn', instanceType: 'c7g.xlarge', zone, architecture: 'arm64', vcpus: 4, memoryMib: 8192 },
});

describe('withReservations', () => {
  it('adds reserved EEs to their instances unless recorded, and instances being launched as placeable', () => {
    const fleet = [instance('i-1', [{ id: 'ee-recorded', version: 'v', vCpus: 1, memoryMiB: 2048 }]), { ...instance('i-listed-pending'), state: 'Pending' as const }];
    const merged = withReservations(fleet, new Set(['ee-recorded']), {
      instances: [launchOf('i-listed-pending'), launchOf('i-new', 'z2')],
      environments: [
        { id: 'ee-recorded', instanceId: 'i-1', version: 'v', vCpus: 1, memoryMiB: 2048 },
        { id: 'ee-planned', instanceId: 'i-1', version: 'w', vCpus: 1, memoryMiB: 2048 },
        { id: 'ee-on-new', instanceId: 'i-new', version: 'w', vCpus: 1, memoryMiB: 2048 },
      ],
    });
    expect(merged.map((each) => [each.id, each.state, each.environments.map((environment) => environment.id)])).toEqual([
      ['i-1', 'Running', ['ee-recorded', 'ee-planned']],
      ['i-listed-pending', 'Running', []],
      ['i-new', 'Running', ['ee-on-new']],
    ]);
  });
});

describe('createPlanReservations', () => {
  /** A plan as planVersionCapacity makes it: read the fleet, add the reservations, place one EE. */
  const planOne = (reservations: ReturnType<typeof createPlanReservations>, fleet: FleetInstance[], version: string, read: () => Promise<void>) =>
    reservations.exclusive('provider', async (reserved) => {
      await read();
      const decision = planPlacement(
        withReservations(fleet, new Set(), reserved),
        {
          version,
          count: 1,
          environment: { vCpus: 1, memoryMiB: 2048 },
          zones: ['z1'],
          launchType: { name: 'c7g.xlarge', vCpus: 4, memoryMiB: 8192 },
          newInstanceId: (_zone, sequence) => `i-new-${version}-${sequence}`,
        },
        { maxVCpuCount: 400 },
      );
      if (!decision.ok) throw new Error(decision.message);
      const placement = decision.value.placements[0]!;
      return {
        result: placement.instanceId,
        reserve: {
          instances: decision.value.launches.map((launch) => launchOf(launch.id, launch.zone)),
          environments: [{ id: `ee-${version}`, instanceId: placement.instanceId, version, vCpus: 1, memoryMiB: 2048 }],
        },
      };
    });

  it('runs the plans of a provider one at a time, each seeing what the earlier ones placed', async () => {
    // One instance with room for one more one-vCPU EE (the agent keeps a share): two concurrent plans.
    const fleet = [instance('i-1', [{ id: 'a', version: 'x', vCpus: 1, memoryMiB: 2048 }, { id: 'b', version: 'x', vCpus: 1, memoryMiB: 2048 }])];
    const reservations = createPlanReservations();
    const slowRead = () => new Promise<void>((resolve) => setTimeout(resolve, 20));
    const [first, second] = await Promise.all([planOne(reservations, fleet, 'v', slowRead), planOne(reservations, fleet, 'w', slowRead)]);
    expect(first).toBe('i-1');
    // Without the reservation the second plan, reading the same fleet, would also have chosen i-1.
    expect(second).not.toBe('i-1');
    expect(reservations.size('provider')).toEqual({ instances: 1, environments: 2 });

    // A third plan fills the instance the second is launching instead of launching another.
    const third = await planOne(reservations, fleet, 'u', async () => {});
    expect(third).toBe(second);
    expect(reservations.hasEnvironmentsOn(second)).toBe(true);
    reservations.release({ environmentIds: ['ee-w', 'ee-u'] });
    expect(reservations.hasEnvironmentsOn(second)).toBe(false);
  });

  it('drops reservations the fleet shows, and expired ones', async () => {
    let clock = 0;
    const reservations = createPlanReservations({ ttlMs: 1_000, now: () => clock });
    await reservations.exclusive('provider', async () => ({
      result: undefined,
      reserve: { instances: [launchOf('i-9')], environments: [{ id: 'ee-9', instanceId: 'i-9', version: 'v', vCpus: 1, memoryMiB: 2048 }, { id: 'ee-10', instanceId: 'i-9', version: 'v', vCpus: 1, memoryMiB: 2048 }] },
    }));
    const seen = await reservations.exclusive('provider', async (reserved, settle) => {
      settle({ environmentIds: new Set(['ee-10']) });
      return { result: reserved, reserve: none };
    });
    expect(seen.environments.map((environment) => environment.id)).toEqual(['ee-9', 'ee-10']);
    expect(reservations.size('provider')).toEqual({ instances: 1, environments: 1 });
    reservations.release({ instanceIds: ['i-9'] });
    expect(reservations.size('provider')).toEqual({ instances: 0, environments: 1 });
    clock = 1_000;
    const later = await reservations.exclusive('provider', async (reserved) => ({ result: reserved, reserve: none }));
    expect(later).toEqual(none);
    expect(reservations.size('provider')).toEqual({ instances: 0, environments: 0 });
  });

  it('keeps going after a plan that failed', async () => {
    const reservations = createPlanReservations();
    await expect(reservations.exclusive('provider', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(reservations.exclusive('provider', async () => ({ result: 'ok', reserve: none }))).resolves.toBe('ok');
  });
});
