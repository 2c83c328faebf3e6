/**
 * The instance lifecycle: launch through a provider, watch heartbeats and
 * exits, terminate — each step an event on `instance:<id>`, appended by this
 * process only (a Postgres leader lock keeps a second instance-manager out).
 *
 * Changes to one instance run one at a time (KeyedQueue), each reading the
 * stream version from the read model and appending with it as the expected
 * version. What is not an event lives in memory: the provider's handle of each
 * instance this process runs, and their latest heartbeats.
 */
import type { Bus, LiveSubscription } from '@hearth/bus';
import {
  ResourceConflictException,
  ResourceNotFoundException,
  ServiceException,
  ServiceUnavailableException,
  TooManyRequestsException,
} from '@hearth/errors';
import type { EventStore, LeaderSession } from '@hearth/event-store';
import type { Logger } from '@hearth/telemetry';
import type postgres from 'postgres';
import { HeartbeatTracker, type LatestHeartbeat } from './heartbeats.js';
import { instanceStreamId, type InstanceEvent, type InstanceSpec, type InstanceState, type InstanceView } from './instance-events.js';
import type { InstanceListFilter, InstanceTable, StoredInstance } from './instance-table.js';
import { KeyedQueue } from './keyed-queue.js';
import { InstanceLaunchError, describeExit, type InstanceProvider, type LaunchedInstance } from './provider.js';
import { assertInstanceId, specDifferences, validateLaunch } from './validate-launch.js';

/** Reason recorded for instances a previous instance-manager process left behind. */
export const restartReason = 'instance-manager restarted; agent lost';

/** Default maximum instance lifetime: 14 days. */
export const defaultInstanceMaxAgeMs = 1_209_600_000;

/** How often ages are checked for a maximum lifetime: min(60 s, a tenth of it), at least 100 ms. */
export function rotationCheckIntervalMs(instanceMaxAgeMs: number): number {
  return Math.max(100, Math.min(60_000, Math.floor(instanceMaxAgeMs / 10)));
}

/** Reason of InstanceRotationDue. */
export function rotationDueReason(ageMs: number, instanceMaxAgeMs: number): string {
  return `max lifetime reached: running for ${ageMs} ms (HEARTH_INSTANCE_MAX_AGE_MS=${instanceMaxAgeMs})`;
}

/** Reason recorded for instances stopped because this instance-manager shuts down. */
export const shutdownReason = 'instance-manager shutting down';

/** Options of startInstanceManager. */
export interface InstanceManagerOptions {
  /** The event store (with `table.projection` among its inline projections). */
  store: EventStore;
  /** The read model of instances. */
  table: InstanceTable;
  /** Where instances come from. */
  provider: InstanceProvider;
  /** NATS: heartbeats arrive on its live subjects. */
  bus: Bus;
  logger: Logger;
  /** A Running instance not heard from for this long is Unhealthy (`HEARTH_HEARTBEAT_TIMEOUT_MS`). Default 3000. */
  heartbeatTimeoutMs?: number;
  /** How often heartbeats are checked. Default a sixth of the timeout, within 100–1000 ms. */
  checkIntervalMs?: number;
  /** Deadline of a launch, from request to ready agent (`HEARTH_INSTANCE_LAUNCH_TIMEOUT_MS`). Default 30000. */
  launchTimeoutMs?: number;
  /** Time an agent gets to stop its EEs and exit before it is killed (`HEARTH_AGENT_STOP_TIMEOUT_MS`). Default 10000. */
  agentStopTimeoutMs?: number;
  /** Most instances this process runs at once (`HEARTH_MAX_INSTANCES`); bounds its memory. Default 1000. */
  maxInstances?: number;
  /**
   * A Running instance older than this (from its launch request) is due for
   * rotation: InstanceRotationDue is recorded once on its stream
   * (`HEARTH_INSTANCE_MAX_AGE_MS`). Default 14 days.
   */
  instanceMaxAgeMs?: number;
  /** How often instance ages are checked. Default rotationCheckIntervalMs(instanceMaxAgeMs). */
  rotationCheckIntervalMs?: number;
  /** How long start waits for another instance-manager to release the leader lock. Default 15000 ms. */
  leaderWaitMs?: number;
}

/** Counters for diagnostics and tests. */
export interface InstanceManagerStats {
  /** Instances this process runs (launched and not yet ended). */
  running: number;
  /** Heartbeats of instances this process does not run. */
  heartbeatsIgnored: number;
  /** Heartbeats that were not of the agent contract's shape. */
  heartbeatsMalformed: number;
  /** Heartbeats dropped by the subscription (handler backlog) or failed to parse. */
  heartbeatsDropped: number;
}

/** One group of a Prometheus `http_sd` discovery document. */
export interface ScrapeTargetGroup {
  /** `host:port` of each endpoint; Prometheus scrapes `/metrics` on it. */
  targets: string[];
  /** Labels Prometheus attaches to every series scraped from the targets. */
  labels: Record<string, string>;
}

/** The running instance lifecycle of this process. */
export interface InstanceManager {
  /**
   * Launches an instance and resolves once its agent runs. Idempotent by id:
   * a known instance is returned as it is (whatever its state; the same
   * specification is required), a launch in progress is joined. A failed
   * launch records InstanceTerminated with the reason and throws a
   * ServiceException naming it; launching that id again returns the
   * Terminated instance.
   */
  launch(spec: InstanceSpec): Promise<InstanceView>;
  /** Drains (the agent stops its EEs), stops and records the instance Terminated. Idempotent; unknown ids throw ResourceNotFoundException. */
  terminate(instanceId: string, reason: string): Promise<InstanceView>;
  /** One instance from the read model, with the agent's pid while this process runs it. */
  get(instanceId: string): Promise<InstanceView | undefined>;
  /** Instances from the read model, with their agents' pids while this process runs them. */
  list(filter?: InstanceListFilter): Promise<InstanceView[]>;
  /** The newest heartbeat of an instance this process runs. */
  lastHeartbeat(instanceId: string): LatestHeartbeat | undefined;
  stats(): InstanceManagerStats;
  /**
   * The Prometheus endpoints of the agents this process runs, as a Prometheus
   * `http_sd` document: one group per agent that serves one, labelled
   * `hearth_instance_id`, `hearth_zone` (not `InstanceType` or
   * `CapacityProviderName`: the agents' own series carry those).
   */
  scrapeTargets(): ScrapeTargetGroup[];
  /**
   * Stops watching and terminates every instance this process runs (their
   * agents die with it anyway), recording why. Idempotent.
   */
  close(): Promise<void>;
}

interface OwnedInstance {
  readonly instance: LaunchedInstance;
  readonly spec: InstanceSpec;
  /** When its launch was requested, epoch ms on this host's clock (its age counts from here). */
  readonly launchedAtMs: number;
  /** Whether InstanceRotationDue is recorded, being recorded, or not yet due. */
  rotation: 'none' | 'recording' | 'recorded';
  /** Set once the instance is being ended on purpose, so its exit is expected. */
  ending: boolean;
  /** Why it failed, once it did; kept until the failure is fully recorded (retried on the next check). */
  failReason: string | undefined;
  /** A failure is being recorded right now. */
  failing: boolean;
}

/**
 * Starts the lifecycle: takes the instance-manager leader lock, records the
 * instances a previous process left behind as Unhealthy then Terminated (with
 * `restartReason`, so placement replaces them), subscribes to heartbeats and
 * starts the heartbeat check.
 */
export async function startInstanceManager(options: InstanceManagerOptions): Promise<InstanceManager> {
  const { store, table, provider, bus, logger } = options;
  const sql = store.sql;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 3_000;
  const checkIntervalMs = options.checkIntervalMs ?? Math.min(1_000, Math.max(100, Math.floor(heartbeatTimeoutMs / 6)));
  const launchTimeoutMs = options.launchTimeoutMs ?? 30_000;
  const agentStopTimeoutMs = options.agentStopTimeoutMs ?? 10_000;
  const maxInstances = options.maxInstances ?? 1_000;
  const instanceMaxAgeMs = options.instanceMaxAgeMs ?? defaultInstanceMaxAgeMs;
  const rotationIntervalMs = options.rotationCheckIntervalMs ?? rotationCheckIntervalMs(instanceMaxAgeMs);

  const leader = await takeLeadership(store, options.leaderWaitMs ?? 15_000);
  const owned = new Map<string, OwnedInstance>();
  const launching = new Map<string, Promise<InstanceView>>();
  const queue = new KeyedQueue();
  const heartbeats = new HeartbeatTracker();
  let closing: Promise<void> | undefined;

  const append = (instanceId: string, events: InstanceEvent[], expectedVersion: number | 'no-stream') =>
    store.append(instanceStreamId(instanceId), events, { expectedVersion });
  const view = (state: InstanceState): InstanceView => ({ ...state, agentPid: owned.get(state.instanceId)?.instance.pid });
  const current = async (instanceId: string): Promise<StoredInstance> => {
    const stored = await table.get(sql, instanceId);
    if (!stored) throw new ServiceException(`Instance ${instanceId} vanished from the read model`);
    return stored;
  };

  try {
    await recoverOrphans(sql, table, append, logger);
  } catch (error) {
    await leader.close();
    throw error;
  }

  const launchNow = async (spec: InstanceSpec): Promise<InstanceView> => {
    const { instanceId } = spec;
    const known = await table.get(sql, instanceId);
    if (known) return view(sameSpec(known.state, spec));
    if (closing) throw new ServiceUnavailableException(`Instance ${instanceId} was not launched: the instance-manager is shutting down`);
    if (owned.size >= maxInstances) {
      throw new TooManyRequestsException(
        `Instance ${instanceId} was not launched: this instance-manager already runs ${owned.size} instances (HEARTH_MAX_INSTANCES=${maxInstances})`,
        { reason: 'InstanceLimitExceeded' },
      );
    }
    const launchRequested: InstanceEvent = {
      type: 'InstanceLaunchRequested',
      data: {
        capacityProviderArn: spec.capacityProviderArn,
        instanceType: spec.instanceType,
        zone: spec.zone,
        architecture: spec.architecture,
        vcpus: spec.vcpus,
        memoryMib: spec.memoryMib,
        provider: provider.name,
      },
    };
    const launchedAtMs = Date.now();
    const version = (await append(instanceId, [launchRequested], 'no-stream')).nextExpectedVersion;
    logger.info({ event: 'instance.launching', instanceId, zone: spec.zone, instanceType: spec.instanceType }, `launching ${instanceId}`);

    let launched: LaunchedInstance;
    try {
      launched = await provider.launch(spec, { deadlineMs: launchTimeoutMs });
    } catch (error) {
      const reason = error instanceof InstanceLaunchError ? error.reason : error instanceof Error ? error.message : String(error);
      const detail = error instanceof InstanceLaunchError ? `\n${error.detail}` : '';
      await append(instanceId, [{ type: 'InstanceTerminated', data: { reason: `launch failed: ${reason}` } }], version);
      logger.warn({ event: 'instance.launch_failed', instanceId, reason }, `${instanceId} failed to launch: ${reason}`);
      throw new ServiceException(`Instance ${instanceId} failed to launch: ${reason}${detail}`, {
        reason: 'InstanceLaunchFailed',
        cause: error,
      });
    }

    const entry: OwnedInstance = { instance: launched, spec, launchedAtMs, rotation: 'none', ending: false, failReason: undefined, failing: false };
    try {
      if (closing) {
        throw new ServiceUnavailableException(`Instance ${instanceId} was stopped right after launch: the instance-manager is shutting down`);
      }
      const running: InstanceEvent = { type: 'InstanceRunning', data: { agentAddress: launched.agentAddress } };
      await append(instanceId, [running], version);
    } catch (error) {
      entry.ending = true;
      await launched.kill();
      const reason = error instanceof ServiceUnavailableException ? shutdownReason : 'launch failed: InstanceRunning could not be recorded';
      await append(instanceId, [{ type: 'InstanceTerminated', data: { reason } }], version).catch((appendError: unknown) =>
        logger.error({ err: appendError, instanceId }, 'could not record the termination of an instance whose launch failed'),
      );
      throw error;
    }
    owned.set(instanceId, entry);
    heartbeats.watch(instanceId);
    void launched.exited.then((exit) => {
      if (!entry.ending) requestFailure(instanceId, `agent process ${describeExit(exit)} unexpectedly`);
    });
    logger.info({ event: 'instance.running', instanceId, agentAddress: launched.agentAddress }, `${instanceId} is running`);
    return view((await current(instanceId)).state);
  };

  /** Records a failed instance as Unhealthy, kills it, records it Terminated; retried by the check until done. */
  const failNow = async (instanceId: string): Promise<void> => {
    const entry = owned.get(instanceId);
    if (!entry || entry.failReason === undefined) return;
    const reason = entry.failReason;
    let stored = await current(instanceId);
    if (stored.state.status === 'Running') {
      await append(instanceId, [{ type: 'InstanceUnhealthy', data: { reason } }], stored.version);
      logger.warn({ event: 'instance.unhealthy', instanceId, reason }, `${instanceId} is unhealthy: ${reason}`);
    }
    await entry.instance.kill();
    stored = await current(instanceId);
    if (stored.state.status !== 'Terminated') {
      await append(instanceId, [{ type: 'InstanceTerminated', data: { reason } }], stored.version);
    }
    owned.delete(instanceId);
    logger.info({ event: 'instance.terminated', instanceId, reason }, `${instanceId} terminated`);
  };

  const requestFailure = (instanceId: string, reason: string): void => {
    const entry = owned.get(instanceId);
    if (!entry || entry.ending || entry.failing) return;
    entry.failReason ??= reason;
    entry.failing = true;
    heartbeats.forget(instanceId);
    queue
      .run(instanceId, () => failNow(instanceId))
      .catch((error: unknown) => logger.error({ err: error, instanceId }, 'could not record a failed instance; retrying on the next check'))
      .finally(() => (entry.failing = false));
  };

  const terminateNow = async (instanceId: string, reason: string): Promise<InstanceView> => {
    let stored = await table.get(sql, instanceId);
    if (!stored) throw new ResourceNotFoundException(`Instance not found: ${instanceId}`);
    if (stored.state.status === 'Terminated') return view(stored.state);
    if (stored.state.status === 'Running') {
      await append(instanceId, [{ type: 'InstanceDraining', data: { reason } }], stored.version);
    }
    const entry = owned.get(instanceId);
    if (entry) {
      entry.ending = true;
      heartbeats.forget(instanceId);
      const exit = await entry.instance.stop({ timeoutMs: agentStopTimeoutMs });
      logger.info({ event: 'instance.stopped', instanceId, exit }, `${instanceId}'s agent ${describeExit(exit)}`);
    }
    stored = await current(instanceId);
    if (stored.state.status !== 'Terminated') {
      await append(instanceId, [{ type: 'InstanceTerminated', data: { reason } }], stored.version);
    }
    owned.delete(instanceId);
    logger.info({ event: 'instance.terminated', instanceId, reason }, `${instanceId} terminated`);
    return view((await current(instanceId)).state);
  };

  const subscription: LiveSubscription = bus.subscribeLive('instance.*.heartbeat', (payload, { subject }) => {
    // The short subject is `instance.<id>.heartbeat`; ids cannot contain dots.
    heartbeats.record(subject.split('.')[1] ?? '', payload);
  });
  const statusWatch = watchLink(bus, heartbeats, logger);

  let lastCheckAt = Date.now();
  const check = (): void => {
    const now = Date.now();
    const late = now - lastCheckAt > 2 * checkIntervalMs + 250;
    lastCheckAt = now;
    // After a stall of this process (GC, a slow disk) timers run before the socket is read: the
    // heartbeats that arrived meanwhile are still unread, so silence measured now would be ours, not theirs.
    const silent = late ? [] : heartbeats.silent(heartbeatTimeoutMs);
    for (const { instanceId, silentMs } of silent) {
      requestFailure(instanceId, `no heartbeat for ${silentMs} ms (timeout ${heartbeatTimeoutMs} ms)`);
    }
    for (const [instanceId, entry] of owned) {
      if (entry.failReason !== undefined && !entry.failing) requestFailure(instanceId, entry.failReason);
    }
  };
  const timer = setInterval(check, checkIntervalMs);

  /**
   * Records InstanceRotationDue, once, on each Running instance this process
   * runs that is older than the maximum lifetime. The instance keeps running
   * and serving: placement moves its EEs to other instances, then terminates it.
   */
  const checkRotation = (): void => {
    if (closing) return;
    const now = Date.now();
    for (const [instanceId, entry] of owned) {
      if (entry.rotation !== 'none' || entry.ending || entry.failReason !== undefined) continue;
      const ageMs = now - entry.launchedAtMs;
      if (ageMs < instanceMaxAgeMs) continue;
      entry.rotation = 'recording';
      const reason = rotationDueReason(ageMs, instanceMaxAgeMs);
      queue
        .run(instanceId, async () => {
          const stored = await current(instanceId);
          if (stored.state.status !== 'Running') return;
          await append(instanceId, [{ type: 'InstanceRotationDue', data: { reason } }], stored.version);
          logger.info({ event: 'instance.rotation_due', instanceId, ageMs, instanceMaxAgeMs }, `${instanceId} is due for rotation: ${reason}`);
        })
        .then(
          () => (entry.rotation = 'recorded'),
          (error: unknown) => {
            // Not recorded: the next check tries again.
            entry.rotation = 'none';
            logger.warn({ err: error, instanceId }, 'could not record that an instance is due for rotation; retrying on the next check');
          },
        );
    }
  };
  const rotationTimer = setInterval(checkRotation, rotationIntervalMs);

  return {
    async launch(spec) {
      validateLaunch(spec);
      const inFlight = launching.get(spec.instanceId);
      if (inFlight) return inFlight.then((state) => sameSpec(state, spec));
      const launch = queue.run(spec.instanceId, () => launchNow(spec));
      launching.set(spec.instanceId, launch);
      void launch.then(
        () => launching.delete(spec.instanceId),
        () => launching.delete(spec.instanceId),
      );
      return launch;
    },
    async terminate(instanceId, reason) {
      assertInstanceId(instanceId);
      return queue.run(instanceId, () => terminateNow(instanceId, reason.trim() || 'terminated on request'));
    },
    async get(instanceId) {
      const stored = await table.get(sql, instanceId);
      return stored && view(stored.state);
    },
    async list(filter) {
      return (await table.list(sql, filter)).map((stored) => view(stored.state));
    },
    lastHeartbeat: (instanceId) => heartbeats.latest(instanceId),
    scrapeTargets() {
      const groups: ScrapeTargetGroup[] = [];
      for (const [instanceId, entry] of owned) {
        const address = entry.instance.metricsAddress;
        if (!address || entry.ending) continue;
        groups.push({ targets: [address], labels: { hearth_instance_id: instanceId, hearth_zone: entry.spec.zone } });
      }
      return groups;
    },
    stats: () => ({
      running: owned.size,
      heartbeatsIgnored: heartbeats.ignored,
      heartbeatsMalformed: heartbeats.malformed,
      heartbeatsDropped: subscription.dropped + subscription.failed,
    }),
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        clearInterval(rotationTimer);
        subscription.unsubscribe();
        statusWatch.stop();
        // Launches in flight see `closing` and stop what they started; then every instance we run is ended.
        await Promise.allSettled([...launching.values()]);
        await Promise.all(
          [...owned.keys()].map((instanceId) =>
            queue
              .run(instanceId, () => terminateNow(instanceId, shutdownReason))
              .catch((error: unknown) => logger.error({ err: error, instanceId }, 'could not terminate an instance at shutdown')),
          ),
        );
        // Whatever could not be recorded dies with this process; the next one records it (restartReason).
        await Promise.all(
          [...owned.values()].map((entry) => {
            entry.ending = true;
            return entry.instance.kill().catch(() => undefined);
          }),
        );
        await leader.close();
      })();
      return closing;
    },
  };
}

/** Returns `existing` when `requested` describes the same instance; a different one under the same id is a conflict. */
function sameSpec<T extends InstanceState>(existing: T, requested: InstanceSpec): T {
  const differences = specDifferences(existing, requested);
  if (differences.length > 0) {
    throw new ResourceConflictException(
      `Instance ${requested.instanceId} already exists (${existing.status}) with a different specification (${differences.join('; ')}); launch a new instance id`,
    );
  }
  return existing;
}

/**
 * Takes the `instance-manager` leader lock, retrying until `waitMs`: a
 * previous process that just died may still hold it for a moment, but two
 * live instance-managers must never write the same instance streams (or
 * record each other's instances as lost).
 */
async function takeLeadership(store: EventStore, waitMs: number): Promise<LeaderSession> {
  const session = await store.openLeaderSession('instance-manager');
  const giveUpAt = Date.now() + waitMs;
  let lastError: unknown;
  for (;;) {
    lastError = undefined;
    const acquired = await session.tryAcquire().catch((error: unknown) => {
      lastError = error;
      return false;
    });
    if (acquired) return session;
    if (Date.now() >= giveUpAt) {
      await session.close();
      const why =
        lastError === undefined
          ? 'another instance-manager holds it; only one may run'
          : `the last attempt failed: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new ServiceUnavailableException(`Could not take the instance-manager lock on this event store within ${waitMs} ms: ${why}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Records every instance the read model shows alive as lost: none runs under
 * this new process (the local provider's agents die with the process that
 * started them; the docker provider removes the containers left behind once
 * this is recorded). Pending and Running ones become Unhealthy then Terminated in
 * one append; Unhealthy and Draining ones (a termination cut short) become
 * Terminated.
 */
async function recoverOrphans(
  sql: postgres.Sql,
  table: InstanceTable,
  append: (instanceId: string, events: InstanceEvent[], expectedVersion: number) => Promise<unknown>,
  logger: Logger,
): Promise<void> {
  let afterId = '';
  for (;;) {
    const page = await table.live(sql, { afterId, limit: 500 });
    for (const { state, version } of page) {
      const events: InstanceEvent[] =
        state.status === 'Pending' || state.status === 'Running'
          ? [
              { type: 'InstanceUnhealthy', data: { reason: restartReason } },
              { type: 'InstanceTerminated', data: { reason: restartReason } },
            ]
          : [{ type: 'InstanceTerminated', data: { reason: restartReason } }];
      await append(state.instanceId, events, version);
      logger.warn(
        { event: 'instance.orphaned', instanceId: state.instanceId, was: state.status },
        `${state.instanceId} was lost with the previous instance-manager`,
      );
    }
    const last = page.at(-1);
    if (page.length < 500 || last === undefined) return;
    afterId = last.state.instanceId;
  }
}

/** Follows our NATS connection's state so a broken link on our side never reads as silent agents. */
function watchLink(bus: Bus, heartbeats: HeartbeatTracker, logger: Logger): { stop(): void } {
  const statuses = bus.nc.status();
  let stopped = false;
  void (async () => {
    for await (const status of statuses) {
      if (stopped) break;
      if (status.type === 'disconnect') {
        heartbeats.linkLost();
        logger.warn('NATS link lost: heartbeats are not judged until it is back');
      } else if (status.type === 'reconnect') {
        heartbeats.linkRestored();
        logger.info('NATS link back: every instance gets a full heartbeat timeout');
      }
    }
  })().catch((error: unknown) => logger.warn({ err: error }, 'NATS status watch ended'));
  return {
    stop() {
      stopped = true;
      // The iterator is nats.js's QueuedIterator: stop() ends the loop without waiting for another status.
      (statuses as { stop?: () => void }).stop?.();
    },
  };
}
