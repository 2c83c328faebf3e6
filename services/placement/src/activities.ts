import { ApplicationFailure, Context } from '@temporalio/activity';
import { LambdaError, ResourceNotFoundException } from '@hearth/errors';
import type { FleetActivities, RotationVersion, VersionRef } from '@hearth/fleet';
import type { Logger } from '@hearth/telemetry';
import { callUnary, type FleetClients } from './clients.js';
import { environmentSpec, vcpusOf } from './environment-spec.js';
import type { Environments } from './environments/table.js';
import { planScaleIn } from './plan-scale-in.js';
import { planVersionCapacity, processPlanReservations, type PlanningDeps } from './plan-version-capacity.js';

/** What the activities need. */
export interface ActivityDeps extends PlanningDeps {
  clients: FleetClients;
  environments: Environments;
  logger: Logger;
  region: string;
  /** Init deadline of every environment, ms; 0 = Lambda's rule, max(130 s, the function's timeout). */
  initTimeoutMs: number;
  /** How often a drain asks the agent for the environment's in-flight count, ms. Default 50. */
  drainPollMs?: number;
}

/** Added to the function's timeout for a drain's default deadline: an invocation admitted just before ends within it. */
const drainMarginMs = 5_000;

/** Sleeps `ms`. */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Margin on top of the agent's own init deadline before the call itself gives up. */
const initCallMarginMs = 15_000;

/**
 * Turns an error into a Temporal failure: Lambda errors that will not change
 * on retry (not found, invalid) become non-retryable with the exception name
 * as type; everything else is retried by the workflow's policy.
 */
function asFailure(error: unknown): unknown {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof ResourceNotFoundException || (error instanceof LambdaError && error.httpStatus === 400)) {
    return ApplicationFailure.nonRetryable(error.message, error.name);
  }
  return error;
}

/** How often a running activity tells Temporal it is alive (the workflows' heartbeat timeout is 10 s). */
const heartbeatIntervalMs = 2_000;

/**
 * Runs an activity body: heartbeats while it runs, so a placement process that
 * dies mid-activity is noticed in seconds and the activity retried on another
 * (or the restarted) worker — and maps its errors to Temporal failures.
 */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const heartbeat = setInterval(() => context.heartbeat(), heartbeatIntervalMs);
  try {
    return await fn();
  } catch (error) {
    throw asFailure(error);
  } finally {
    clearInterval(heartbeat);
  }
}

/** The fleet activities, over the services and the environments read model (a factory, so tests can give fakes). */
export function createActivities(deps: ActivityDeps): FleetActivities {
  const { clients, environments, logger } = deps;

  const stopEnvironment = async (environmentId: string, reason: string) => {
    const row = await environments.get(environmentId);
    const agentAddress = row?.state.placement?.agentAddress;
    if (agentAddress) {
      const agentClient = clients.agentAt(agentAddress);
      // An agent that is gone has stopped its environments with it; record the stop all the same.
      await callUnary(agentClient, agentClient.stopEnvironment, { environmentId, graceMs: 2_000 }, { deadlineMs: 10_000 }).catch(
        (error: unknown) => logger.warn({ err: error, environmentId }, 'agent did not confirm the stop; recording it as stopped'),
      );
    }
    if (row) await environments.record(environmentId, { type: 'EnvironmentStopped', data: { reason } });
  };

  const terminateIfIdle = async (instanceId: string, reason: string) => {
    if ((await environments.onInstances([instanceId])).length > 0) return;
    await callUnary(clients.instances, clients.instances.terminateInstance, { instanceId, reason }, { deadlineMs: 30_000 });
  };

  const configurationOf = (ref: VersionRef) =>
    callUnary(clients.functions, clients.functions.getFunctionConfiguration, { FunctionName: ref.functionName, Qualifier: ref.version });

  return {
    planVersionCapacity: (input) => guarded(() => planVersionCapacity(deps, input)),

    launchInstance: (instance) =>
      guarded(async () => {
        const launched = await callUnary(clients.instances, clients.instances.launchInstance, instance, { deadlineMs: 60_000 });
        if (launched.state !== 'Running') {
          throw ApplicationFailure.nonRetryable(
            `instance ${instance.instanceId} did not start: ${launched.stateReason ?? launched.state}`,
            'InsufficientCapacity',
          );
        }
        // Listed by the instance-manager now: later plans see it there.
        (deps.reservations ?? processPlanReservations).release({ instanceIds: [instance.instanceId] });
        return { agentAddress: launched.agentAddress };
      }),

    startEnvironment: ({ version, environment, agentAddress }) =>
      guarded(async () => {
        const configuration = await configurationOf(version);
        const initTimeoutMs = deps.initTimeoutMs || Math.max(130_000, configuration.Timeout * 1000);
        const revisionId = version.revisionId ?? configuration.RevisionId;
        const spec = { ...environmentSpec(environment.environmentId, configuration, deps.region), initTimeoutMs, revisionId };
        const capacityProviderArn = configuration.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig?.CapacityProviderArn ?? '';
        await environments.place(environment.environmentId, {
          functionName: version.functionName,
          version: version.version,
          revisionId,
          functionArn: configuration.FunctionArn,
          capacityProviderArn,
          instanceId: environment.instanceId,
          zone: environment.zone,
          agentAddress,
          vcpus: vcpusOf(configuration),
          memoryMib: configuration.MemorySize,
        });
        // Recorded now: later plans count it from the read model.
        (deps.reservations ?? processPlanReservations).release({ environmentIds: [environment.environmentId] });
        const agentClient = clients.agentAt(agentAddress);
        const status = await callUnary(agentClient, agentClient.startEnvironment, { spec }, { deadlineMs: initTimeoutMs + initCallMarginMs });
        if (status.state === 'Ready') {
          await environments.record(environment.environmentId, {
            type: 'EnvironmentReady',
            data: { initDurationMs: status.initDurationMs, maxConcurrency: status.maxConcurrency, runtimeApi: status.runtimeApi },
          });
          return;
        }
        const reasonCode = status.reasonCode ?? 'FunctionError.RuntimeInitError';
        const reason = status.reason ?? `environment ${environment.environmentId} ended ${status.state}`;
        await environments.record(environment.environmentId, { type: 'EnvironmentFailed', data: { reasonCode, reason } });
        throw ApplicationFailure.nonRetryable(reason, reasonCode);
      }),

    // A compensation undoes a plan: what it reserved goes with it.
    stopEnvironment: ({ environmentId, reason }) =>
      guarded(async () => {
        (deps.reservations ?? processPlanReservations).release({ environmentIds: [environmentId] });
        await stopEnvironment(environmentId, reason);
      }),

    terminateIdleInstance: ({ instanceId, reason }) =>
      guarded(async () => {
        const reservations = deps.reservations ?? processPlanReservations;
        // Another plan joined this instance's launch and has yet to start its EEs there: not idle.
        if (reservations.hasEnvironmentsOn(instanceId)) return;
        reservations.release({ instanceIds: [instanceId] });
        await terminateIfIdle(instanceId, reason);
      }),

    listEnvironments: ({ functionName, version }) =>
      guarded(async () =>
        (await environments.ofFunction(functionName, version)).map((row) => ({
          environmentId: row.environmentId,
          instanceId: row.state.placement?.instanceId ?? '',
        })),
      ),

    currentRevision: (version) => guarded(async () => (await configurationOf(version)).RevisionId),

    activateVersion: (version) =>
      guarded(async () => {
        await callUnary(clients.lifecycle, clients.lifecycle.activateVersion, {
          functionName: version.functionName,
          version: version.version,
          ...(version.revisionId ? { revisionId: version.revisionId } : {}),
        });
      }),

    retireStaleEnvironments: ({ functionName, version, revisionId }) =>
      guarded(async () => {
        const stale = (await environments.ofFunction(functionName, version)).filter((row) => row.state.placement?.revisionId !== revisionId);
        for (const row of stale) await stopEnvironment(row.environmentId, `replaced by revision ${revisionId}`);
        for (const instanceId of new Set(stale.map((row) => row.state.placement!.instanceId))) {
          await terminateIfIdle(instanceId, `environments of ${functionName}:${version} replaced`);
        }
        return stale.length;
      }),

    failVersion: ({ version, reasonCode, reason }) =>
      guarded(async () => {
        await callUnary(clients.lifecycle, clients.lifecycle.failVersion, {
          functionName: version.functionName,
          version: version.version,
          stateReasonCode: reasonCode,
          stateReason: reason,
          ...(version.revisionId ? { revisionId: version.revisionId } : {}),
        });
      }),

    planScaleIn: (input) => guarded(() => planScaleIn({ ...deps, logger }, input)),

    drainEnvironment: ({ environmentId, reason, deadlineMs }) =>
      guarded(async () => {
        const started = Date.now();
        const row = await environments.get(environmentId);
        const placement = row?.state.placement;
        if (!row || !placement || row.state.status === 'Stopped' || row.state.status === 'Absent') {
          return { drained: true, inFlightAtStop: 0, waitedMs: 0 };
        }
        let limitMs = deadlineMs;
        if (limitMs === undefined) {
          const timeoutSeconds = await configurationOf({ functionName: placement.functionName, version: placement.version })
            .then((configuration) => configuration.Timeout)
            .catch(() => 900);
          limitMs = timeoutSeconds * 1000 + drainMarginMs;
        }
        // The agent's StopEnvironment refuses new work but SIGTERMs the runtime at once, which would end the
        // invocations in flight with Runtime.ExitError. So wait until the agent reports none, then stop.
        const agentClient = clients.agentAt(placement.agentAddress);
        let inFlight = 0;
        for (;;) {
          const listed = await callUnary(agentClient, agentClient.listEnvironments, {}, { deadlineMs: 5_000 }).catch(() => undefined);
          const status = listed?.environments.find((environment) => environment.environmentId === environmentId);
          // An agent that does not answer, or no longer knows the EE, has nothing of it in flight to protect.
          inFlight = status === undefined || status.state === 'Stopped' || status.state === 'Failed' ? 0 : status.inFlight;
          if (inFlight === 0 || Date.now() - started >= limitMs) break;
          await sleep(deps.drainPollMs ?? 50);
        }
        // Stop at once, without the read model's round trip first: the shorter the gap after the zero reading,
        // the smaller the chance that the router sends one more invocation in between (see the README's caveat).
        await callUnary(agentClient, agentClient.stopEnvironment, { environmentId, graceMs: 2_000 }, { deadlineMs: 10_000 }).catch((error: unknown) =>
          logger.warn({ err: error, environmentId }, 'agent did not confirm the stop; recording it as stopped'),
        );
        await environments.record(environmentId, { type: 'EnvironmentStopped', data: { reason } });
        const waitedMs = Date.now() - started;
        if (inFlight > 0) logger.warn({ environmentId, inFlight, waitedMs }, 'drain deadline passed; stopped with invocations in flight');
        else logger.info({ environmentId, waitedMs, reason }, 'environment drained and stopped');
        return { drained: inFlight === 0, inFlightAtStop: inFlight, waitedMs };
      }),

    rotationVersions: ({ instanceId }) =>
      guarded(async () => {
        const live = (row: { state: { status: string } }) => row.state.status === 'Starting' || row.state.status === 'Ready';
        const onInstance = (await environments.onInstances([instanceId])).filter((row) => row.state.placement !== undefined && live(row));
        const byVersion = new Map<string, { version: VersionRef; environmentIds: string[] }>();
        for (const row of onInstance) {
          const placement = row.state.placement!;
          const key = `${placement.functionName}\u0000${placement.version}\u0000${placement.revisionId ?? ''}`;
          const entry = byVersion.get(key) ?? {
            version: {
              functionName: placement.functionName,
              version: placement.version,
              ...(placement.revisionId !== undefined ? { revisionId: placement.revisionId } : {}),
            },
            environmentIds: [],
          };
          entry.environmentIds.push(row.environmentId);
          byVersion.set(key, entry);
        }
        const result: RotationVersion[] = [];
        for (const { version, environmentIds } of byVersion.values()) {
          const size = (await environments.ofFunction(version.functionName, version.version)).filter(
            (row) => live(row) && row.state.placement?.revisionId === version.revisionId,
          ).length;
          const configuration = await configurationOf(version).catch((error: unknown) => {
            if (error instanceof ResourceNotFoundException) return undefined;
            throw error;
          });
          result.push({ version, environmentIds, size, state: configuration?.State ?? 'NotFound' });
        }
        return result;
      }),

    terminateInstance: ({ instanceId, reason }) =>
      guarded(async () => {
        await callUnary(clients.instances, clients.instances.terminateInstance, { instanceId, reason }, { deadlineMs: 30_000 });
      }),

    completeTeardown: (input) =>
      guarded(async () => {
        await callUnary(clients.lifecycle, clients.lifecycle.completeTeardown, {
          functionName: input.functionName,
          ...(input.version ? { version: input.version } : {}),
        });
      }),
  };
}
