/**
 * Fleet workflows. Deterministic: they touch the world only through
 * activities (imported as types) and keep compensations saga-style, so a
 * placement process killed mid-publish resumes where it was from history.
 */
import { ApplicationFailure, proxyActivities, isCancellation, sleep, type ActivityFailure } from '@temporalio/workflow';
import type {
  FleetActivities,
  PublishVersionInput,
  PublishVersionResult,
  ReconcileVersionInput,
  RotateInstanceInput,
  ScaleInVersionInput,
  TeardownInput,
  VersionRef,
} from './contract.js';
import { rotationTerminateReason, versionFailureReasonCodes } from './contract.js';

const finalTypes = [...versionFailureReasonCodes, 'ResourceNotFoundException', 'InvalidParameterValueException'];

// Activities heartbeat every 2 s: a worker that dies is noticed after 10 s and its activities retried
// elsewhere, instead of after their whole start-to-close timeout. Fleet calls are short; init may take
// up to 15 minutes (Lambda's limit) and is bounded by the agent's own deadline.
const fleet = proxyActivities<FleetActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '10 s', maximumAttempts: 8, nonRetryableErrorTypes: finalTypes },
});
const init = proxyActivities<Pick<FleetActivities, 'startEnvironment'>>({
  startToCloseTimeout: '16 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 s', maximumAttempts: 3, nonRetryableErrorTypes: finalTypes },
});

// Draining waits for in-flight invocations, which may run for the function's whole timeout (up to 15 minutes).
const drain = proxyActivities<Pick<FleetActivities, 'drainEnvironment'>>({
  startToCloseTimeout: '17 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 s', backoffCoefficient: 2, maximumInterval: '10 s', maximumAttempts: 5, nonRetryableErrorTypes: finalTypes },
});

/** The Lambda reason code and message of a failure, or a capacity reason for infrastructure faults. */
function reasonOf(error: unknown): { reasonCode: string; reason: string } {
  let cause: unknown = error;
  while (cause && typeof cause === 'object' && 'cause' in cause && !(cause instanceof ApplicationFailure)) {
    cause = (cause as ActivityFailure).cause;
  }
  if (cause instanceof ApplicationFailure && cause.type && (versionFailureReasonCodes as readonly string[]).includes(cause.type)) {
    return { reasonCode: cause.type, reason: cause.message };
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return { reasonCode: 'InsufficientCapacity', reason: `The fleet could not be prepared: ${message}` };
}

/** Launches what the plan needs and starts its environments; returns the compensations for what it did. */
async function carryOut(
  version: VersionRef,
  desiredEnvironments: number,
  compensations: Array<() => Promise<void>>,
  excludeInstanceIds?: string[],
): Promise<number> {
  const plan = await fleet.planVersionCapacity({ version, desiredEnvironments, ...(excludeInstanceIds ? { excludeInstanceIds } : {}) });
  const addresses = new Map<string, string>();
  await Promise.all(
    plan.instancesToLaunch.map(async (instance) => {
      compensations.push(() => fleet.terminateIdleInstance({ instanceId: instance.instanceId, reason: `publish of ${version.functionName}:${version.version} failed` }));
      const { agentAddress } = await fleet.launchInstance(instance);
      addresses.set(instance.instanceId, agentAddress);
    }),
  );
  await Promise.all(
    plan.environments.map(async (environment) => {
      compensations.push(() => fleet.stopEnvironment({ environmentId: environment.environmentId, reason: 'publish failed' }));
      const agentAddress = environment.agentAddress ?? addresses.get(environment.instanceId);
      if (!agentAddress) throw ApplicationFailure.nonRetryable(`no agent address for instance ${environment.instanceId}`, 'InsufficientCapacity');
      await init.startEnvironment({ version, environment, agentAddress });
    }),
  );
  return plan.alreadyReady + plan.environments.length;
}

/**
 * Publish: plan → launch instances → start environments (waiting for init) →
 * Active. On any failure: stop what was started, terminate instances this
 * publish launched if they are idle, and mark the version Failed with the
 * Lambda reason code.
 */
export async function publishVersion(input: PublishVersionInput): Promise<PublishVersionResult> {
  const desired = input.desiredEnvironments ?? 3;
  const compensations: Array<() => Promise<void>> = [];
  // Pinned once, so every step of this run works for the same snapshot even if the version is republished meanwhile.
  const version: VersionRef = { ...input.version, revisionId: input.version.revisionId ?? (await fleet.currentRevision(input.version)) };
  try {
    const environments = await carryOut(version, desired, compensations);
    await fleet.activateVersion(version);
    // A republished $LATEST.PUBLISHED served from its previous environments until now; retire them.
    await fleet.retireStaleEnvironments({ ...version, revisionId: version.revisionId! });
    return { state: 'Active', environments };
  } catch (error) {
    if (isCancellation(error)) throw error;
    const { reasonCode, reason } = reasonOf(error);
    // Environments first (they hold the instances), then the instances, in reverse order of creation.
    for (const compensate of compensations.reverse()) {
      await compensate().catch(() => undefined);
    }
    await fleet.failVersion({ version, reasonCode, reason });
    return { state: 'Failed', environments: 0, stateReasonCode: reasonCode, stateReason: reason };
  }
}

/** Brings a running version back to its desired environments (after an instance is lost, or to scale). */
export async function reconcileVersion(input: ReconcileVersionInput): Promise<{ environments: number }> {
  const compensations: Array<() => Promise<void>> = [];
  try {
    return { environments: await carryOut(input.version, input.desiredEnvironments, compensations) };
  } catch (error) {
    for (const compensate of compensations.reverse()) await compensate().catch(() => undefined);
    throw error;
  }
}

/** Stops every environment of a version or function, releases idle instances, and tells the api. */
export async function teardown(input: TeardownInput): Promise<{ stopped: number }> {
  const environments = await fleet.listEnvironments({ functionName: input.functionName, ...(input.version ? { version: input.version } : {}) });
  await Promise.all(environments.map((environment) => fleet.stopEnvironment({ environmentId: environment.environmentId, reason: input.reason })));
  const instances = [...new Set(environments.map((environment) => environment.instanceId))];
  await Promise.all(instances.map((instanceId) => fleet.terminateIdleInstance({ instanceId, reason: input.reason })));
  await fleet.completeTeardown(input);
  return { stopped: environments.length };
}

/**
 * Scale-in: plan which environments go (most-loaded zone first, emptying the
 * least-loaded instances; never below the version's min), drain each (no new
 * work, in-flight invocations finish) and stop it, then terminate the
 * instances that were emptied if they are still idle. Nothing is compensated:
 * a stopped environment is what was asked for, and a failed drain leaves the
 * environment running (the scaler decides again on its next step).
 */
export async function scaleInVersion(input: ScaleInVersionInput): Promise<{ stopped: number; keep: number }> {
  const plan = await fleet.planScaleIn({ version: input.version, desiredEnvironments: input.desiredEnvironments });
  const results = await Promise.allSettled(
    plan.environments.map((environment) => drain.drainEnvironment({ environmentId: environment.environmentId, reason: input.reason })),
  );
  await Promise.all(
    plan.emptiedInstances.map((instanceId) =>
      fleet.terminateIdleInstance({ instanceId, reason: `scale in of ${input.version.functionName}:${input.version.version}` }),
    ),
  );
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  return { stopped: plan.environments.length, keep: plan.keep };
}

/** Rounds of moving environments off a rotating instance (a concurrent workflow may place one on it meanwhile). */
const rotationRounds = 3;

/** How long a rotation waits, at most, for versions on the instance that are still being published. */
const pendingWaits = { count: 60, interval: '5 seconds' } as const;

/**
 * Rotation of an instance past its maximum lifetime, new capacity first: for
 * every version with environments on the instance, bring the version back to
 * its size on OTHER instances (the rotating one is excluded from planning),
 * then drain (no new work, in-flight invocations finish) and stop its
 * environments on the instance, and finally terminate the instance. A version
 * therefore never has fewer Ready environments than its size, and no admitted
 * request is dropped. Versions still being published are waited for (their
 * publish workflow owns those environments); versions that are not Active are
 * only drained. New capacity that fails to start is compensated and the
 * workflow fails with the old environments still serving.
 */
export async function rotateInstance(input: RotateInstanceInput): Promise<{ moved: number; versions: number }> {
  let moved = 0;
  let rounds = 0;
  let waits = 0;
  const seen = new Set<string>();
  for (;;) {
    const versions = await fleet.rotationVersions({ instanceId: input.instanceId });
    const settled = versions.filter((entry) => entry.state !== 'Pending');
    if (settled.length > 0 && rounds < rotationRounds) {
      rounds += 1;
      for (const entry of settled) {
        seen.add(`${entry.version.functionName}:${entry.version.version}`);
        if (entry.state === 'Active') {
          const compensations: Array<() => Promise<void>> = [];
          try {
            await carryOut(entry.version, entry.size, compensations, [input.instanceId]);
          } catch (error) {
            for (const compensate of compensations.reverse()) await compensate().catch(() => undefined);
            throw error;
          }
        }
        const reason = `instance ${input.instanceId} rotated: max lifetime`;
        await Promise.all(entry.environmentIds.map((environmentId) => drain.drainEnvironment({ environmentId, reason })));
        moved += entry.environmentIds.length;
      }
      continue;
    }
    if (versions.length > settled.length && waits < pendingWaits.count) {
      waits += 1;
      await sleep(pendingWaits.interval);
      continue;
    }
    break;
  }
  await fleet.terminateInstance({ instanceId: input.instanceId, reason: rotationTerminateReason });
  return { moved, versions: seen.size };
}
