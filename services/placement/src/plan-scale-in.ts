import type { ScaleInPlan, VersionRef } from '@hearth/fleet';
import type { Logger } from '@hearth/telemetry';
import { callUnary } from './clients.js';
import { planRemoval } from './decisions/index.js';
import type { PlanningDeps } from './plan-version-capacity.js';
import { environmentKey, loadProviderFleet } from './provider-fleet.js';

/** MinExecutionEnvironments when the version has no scaling config (spec §2). */
export const defaultMinEnvironments = 3;

/**
 * The version's MinExecutionEnvironments: the requested config (the scaler
 * converges to it), else the applied one, else 3. An api without
 * GetFunctionScalingConfig yet (UNIMPLEMENTED) or one that fails gives the default.
 */
export async function minEnvironmentsOf(deps: Pick<PlanningDeps, 'clients'>, ref: VersionRef, logger?: Logger): Promise<number> {
  const { clients } = deps;
  try {
    const response = await callUnary(clients.functions, clients.functions.getFunctionScalingConfig, {
      FunctionName: ref.functionName,
      Qualifier: ref.version,
    });
    const config = response.RequestedFunctionScalingConfig ?? response.AppliedFunctionScalingConfig;
    return config?.MinExecutionEnvironments ?? defaultMinEnvironments;
  } catch (error) {
    // callUnary maps statuses to Lambda errors; UNIMPLEMENTED (the api not there yet) and any failure alike fall back.
    logger?.debug({ err: error, function: ref.functionName, version: ref.version }, 'scaling config unavailable; keeping the default min');
    return defaultMinEnvironments;
  }
}

/**
 * Plans a scale-in of a version to `desiredEnvironments` (never below its
 * min): reads the provider's instances and the environments on them, and lets
 * planRemoval choose which of the version's Starting or Ready environments go
 * (most-loaded zone first, emptying the least-loaded instances).
 */
export async function planScaleIn(
  deps: PlanningDeps & { logger?: Logger },
  input: { version: VersionRef; desiredEnvironments: number },
): Promise<ScaleInPlan> {
  const { clients } = deps;
  const configuration = await callUnary(clients.functions, clients.functions.getFunctionConfiguration, {
    FunctionName: input.version.functionName,
    Qualifier: input.version.version,
  });
  const capacityProviderArn = configuration.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig?.CapacityProviderArn;
  const min = await minEnvironmentsOf(deps, input.version, deps.logger);
  const keep = Math.max(input.desiredEnvironments, min);
  if (!capacityProviderArn) return { environments: [], emptiedInstances: [], present: 0, keep };

  const { fleet } = await loadProviderFleet(deps, capacityProviderArn, (row) => row.state.status === 'Starting' || row.state.status === 'Ready');
  const revisionId = input.version.revisionId ?? configuration.RevisionId;
  const versionKey = environmentKey(configuration.FunctionArn, revisionId);
  const present = fleet.reduce((sum, instance) => sum + instance.environments.filter((environment) => environment.version === versionKey).length, 0);
  const surplus = Math.max(0, present - keep);
  if (surplus === 0) return { environments: [], emptiedInstances: [], present, keep };
  const plan = planRemoval(fleet, { version: versionKey, count: surplus });
  return {
    environments: plan.removals.map((removal) => ({ environmentId: removal.environmentId, instanceId: removal.instanceId, zone: removal.zone })),
    emptiedInstances: [...plan.emptiedInstances],
    present,
    keep,
  };
}
