/**
 * Capacity a plan has promised but the fleet does not show yet.
 *
 * A plan reads the provider's fleet (the instance-manager's instances and the
 * EEs placement recorded), decides, and returns; its workflow then launches
 * the instances and records each EE (EnvironmentPlaced) as it starts it —
 * seconds later. Plans of other versions made in that gap saw none of it, so
 * under a burst of scale-outs every plan chose the same "fullest instance that
 * fits" and instances ended up holding many times what fits (bench/fleet-sim.mjs
 * measured 307 EEs where 15 fit).
 *
 * So plans of one capacity provider run one at a time, and each leaves what it
 * placed here until the fleet shows it: the activities release a reserved
 * instance once it is launched and a reserved EE once it is recorded (and a
 * plan drops the EEs the fleet it read already shows). A later plan may fill
 * an instance an earlier one is launching (joining its launch), so a burst of
 * scale-outs packs instances instead of launching one per plan; an instance
 * with reserved EEs is never terminated as idle. Reservations also expire
 * after `ttlMs` (a workflow that failed before starting what it planned), so a
 * stale one can only make placement cautious for a while, never overcommit. The lock and the reservations are this
 * process's: one placement worker per cluster (several would need the lock in
 * Postgres).
 */
import type { InstancePlan } from '@hearth/fleet';
import type { FleetInstance } from './decisions/index.js';

/** An EE a plan placed, not yet recorded. */
export interface ReservedEnvironment {
  readonly id: string;
  readonly instanceId: string;
  /** The version key placement decides with (environmentKey). */
  readonly version: string;
  readonly vCpus: number;
  readonly memoryMiB: number;
}

/**
 * An instance a plan launches, until its launch completed. Later plans may
 * place EEs on it too: they launch it again with the same specification, which
 * the instance-manager joins (launches are idempotent by id).
 */
export interface ReservedInstance {
  readonly id: string;
  readonly type: string;
  readonly zone: string;
  readonly vCpus: number;
  readonly memoryMiB: number;
  /** The launch as the first plan asked for it, repeated by the plans that join it. */
  readonly launch: InstancePlan;
}

/** What one plan reserves. */
export interface Reservation {
  readonly instances: readonly ReservedInstance[];
  readonly environments: readonly ReservedEnvironment[];
}

interface Held<T> {
  readonly item: T;
  readonly until: number;
}

/** Options of createPlanReservations. */
export interface PlanReservationsOptions {
  /** How long a reservation lasts at most. Default 5 minutes (an instance launch plus EE inits). */
  ttlMs?: number;
  now?: () => number;
}

/**
 * Adds the reservations to a fleet read from the services: reserved EEs onto
 * their instances (unless recorded already), and reserved instances — listed
 * as Pending or not listed yet — as Running ones, so a plan fills an instance
 * an earlier plan is launching before it launches another (the plan then
 * joins that launch, see ReservedInstance).
 */
export function withReservations(
  fleet: readonly FleetInstance[],
  recordedEnvironmentIds: ReadonlySet<string>,
  reservation: Reservation,
): FleetInstance[] {
  const pending = reservation.environments.filter((environment) => !recordedEnvironmentIds.has(environment.id));
  const byInstance = new Map<string, ReservedEnvironment[]>();
  for (const environment of pending) byInstance.set(environment.instanceId, [...(byInstance.get(environment.instanceId) ?? []), environment]);
  const listed = new Set(fleet.map((instance) => instance.id));
  const launching = new Set(reservation.instances.map((instance) => instance.id));
  const merged: FleetInstance[] = fleet.map((listedInstance) => {
    // Being launched by a plan: as good as Running for the plans that come after it.
    const instance: FleetInstance = launching.has(listedInstance.id) && listedInstance.state === 'Pending' ? { ...listedInstance, state: 'Running' } : listedInstance;
    const extra = byInstance.get(instance.id);
    if (!extra) return instance;
    const ids = new Set(instance.environments.map((environment) => environment.id));
    const added = extra.filter((environment) => !ids.has(environment.id)).map(({ id, version, vCpus, memoryMiB }) => ({ id, version, vCpus, memoryMiB }));
    return added.length === 0 ? instance : { ...instance, environments: [...instance.environments, ...added] };
  });
  for (const instance of reservation.instances) {
    if (listed.has(instance.id)) continue;
    merged.push({
      id: instance.id,
      type: instance.type,
      zone: instance.zone,
      state: 'Running',
      vCpus: instance.vCpus,
      memoryMiB: instance.memoryMiB,
      environments: (byInstance.get(instance.id) ?? []).map(({ id, version, vCpus, memoryMiB }) => ({ id, version, vCpus, memoryMiB })),
    });
  }
  return merged;
}

/** Per-provider serialization of plans and the capacity they reserved. */
export function createPlanReservations(options: PlanReservationsOptions = {}) {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  const queues = new Map<string, Promise<unknown>>();
  const held = new Map<string, { instances: Map<string, Held<ReservedInstance>>; environments: Map<string, Held<ReservedEnvironment>> }>();

  const heldOf = (provider: string) => {
    let entry = held.get(provider);
    if (!entry) {
      entry = { instances: new Map(), environments: new Map() };
      held.set(provider, entry);
    }
    return entry;
  };

  return {
    /**
     * Runs `plan` for `provider` after every earlier plan of that provider
     * ended. `plan` gets what is reserved now and returns its result with what
     * it reserves; `settle` then drops what the fleet it read already showed
     * (recorded EEs, listed instances) so reservations do not outlive their use.
     */
    async exclusive<T>(
      provider: string,
      plan: (reserved: Reservation, settle: (shown: { environmentIds: ReadonlySet<string> }) => void) => Promise<{ result: T; reserve: Reservation }>,
    ): Promise<T> {
      const previous = queues.get(provider) ?? Promise.resolve();
      const run = previous.catch(() => undefined).then(async () => {
        const entry = heldOf(provider);
        const at = now();
        for (const [id, reserved] of entry.instances) if (reserved.until <= at) entry.instances.delete(id);
        for (const [id, reserved] of entry.environments) if (reserved.until <= at) entry.environments.delete(id);
        // Recorded EEs are counted from the read model; instances stay reserved until launched (release).
        const settle = (shown: { environmentIds: ReadonlySet<string> }) => {
          for (const id of shown.environmentIds) entry.environments.delete(id);
        };
        const current: Reservation = {
          instances: [...entry.instances.values()].map((reserved) => reserved.item),
          environments: [...entry.environments.values()].map((reserved) => reserved.item),
        };
        const { result, reserve } = await plan(current, settle);
        const until = now() + ttlMs;
        for (const instance of reserve.instances) entry.instances.set(instance.id, { item: instance, until });
        for (const environment of reserve.environments) entry.environments.set(environment.id, { item: environment, until });
        return result;
      });
      queues.set(provider, run);
      try {
        return await run;
      } finally {
        // The last plan of a provider cleans its queue (and its reservations once none are held).
        if (queues.get(provider) === run) {
          queues.delete(provider);
          const entry = held.get(provider);
          if (entry && entry.instances.size === 0 && entry.environments.size === 0) held.delete(provider);
        }
      }
    },
    /**
     * The workflow carried a reservation out: the instance was launched (the
     * instance-manager lists it now) or the EE recorded. Whatever provider holds it.
     */
    release(shown: { instanceIds?: readonly string[]; environmentIds?: readonly string[] }): void {
      for (const entry of held.values()) {
        for (const id of shown.instanceIds ?? []) entry.instances.delete(id);
        for (const id of shown.environmentIds ?? []) entry.environments.delete(id);
      }
    },
    /** True while a plan's EE, not recorded yet, is to go on the instance: it is not idle, whatever the fleet shows. */
    hasEnvironmentsOn(instanceId: string): boolean {
      for (const entry of held.values()) {
        for (const reserved of entry.environments.values()) if (reserved.item.instanceId === instanceId) return true;
      }
      return false;
    },
    /** Reservations held now (diagnostics, tests). */
    size(provider: string): { instances: number; environments: number } {
      const entry = held.get(provider);
      return { instances: entry?.instances.size ?? 0, environments: entry?.environments.size ?? 0 };
    },
  };
}

/** The reservations createPlanReservations returns. */
export type PlanReservations = ReturnType<typeof createPlanReservations>;
