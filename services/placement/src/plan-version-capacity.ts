import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { ZoneConfig } from '@hearth/config';
import { zonesOfProvider, type Architecture, type MemoryGiBPerVCpu } from '@hearth/domain';
import type { CapacityPlan, VersionRef } from '@hearth/fleet';
import { callUnary, type FleetClients } from './clients.js';
import { chooseInstanceType, holdsZoneShare, planPlacement } from './decisions/index.js';
import type { Environments } from './environments/table.js';
import { createPlanReservations, withReservations, type PlanReservations } from './plan-reservations.js';
import { environmentKey, loadProviderFleet } from './provider-fleet.js';

/** What planning reads. */
export interface PlanningDeps {
  clients: FleetClients;
  environments: Environments;
  zones: ZoneConfig;
  /** Serializes plans per provider and holds what they placed until the fleet shows it; default: a private instance. */
  reservations?: PlanReservations;
}

/**
 * The reservations of this process's plans when the caller passes none: the
 * placement worker's plans and activities share them.
 */
export const processPlanReservations = createPlanReservations();

/** EC2-shaped ids: `i-` and 17 hex digits; environments `ee-` and 16. */
const newInstanceId = () => `i-${randomBytes(9).toString('hex').slice(0, 17)}`;
const newEnvironmentId = () => `ee-${randomBytes(8).toString('hex')}`;

function refuse(reasonCode: string, message: string): never {
  throw ApplicationFailure.nonRetryable(message, reasonCode);
}

/**
 * Plans what a version needs to have `desiredEnvironments` environments:
 * reads the version and its provider from the api, the provider's instances
 * from the instance-manager and the environments on them from placement's read
 * model, then chooses an instance type and places the missing environments
 * (zones first, then packing). A plan the limits forbid fails with the
 * version's reason code. Environments of the version already starting or
 * ready count toward the desired number, so a retried publish starts nothing twice.
 * Plans of one provider run one at a time and see what earlier plans reserved
 * (plan-reservations.ts), so concurrent workflows never overcommit an instance.
 */
export async function planVersionCapacity(
  deps: PlanningDeps,
  input: { version: VersionRef; desiredEnvironments: number; excludeInstanceIds?: readonly string[] },
): Promise<CapacityPlan> {
  const { clients } = deps;
  const configuration = await callUnary(clients.functions, clients.functions.getFunctionConfiguration, {
    FunctionName: input.version.functionName,
    Qualifier: input.version.version,
  });
  const managed = configuration.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig;
  if (!managed) refuse('InsufficientCapacity', `${configuration.FunctionArn} has no capacity provider`);
  const { CapacityProvider: provider } = await callUnary(clients.capacityProviders, clients.capacityProviders.getCapacityProvider, {
    CapacityProviderName: managed.CapacityProviderArn,
  });
  if (!provider) refuse('InsufficientCapacity', `capacity provider ${managed.CapacityProviderArn} not found`);
  const zones = zonesOfProvider(
    { VpcConfig: { SubnetIds: provider.VpcConfig?.SubnetIds ?? [] } },
    { zones: deps.zones.zones, explicit: deps.zones.subnetZones },
  );

  const reservations = deps.reservations ?? processPlanReservations;
  return reservations.exclusive(provider.CapacityProviderArn, async (reserved, settle) => {
    // Excluded instances (one being rotated) are not part of the fleet: nothing goes there, nothing there counts.
    const excluded = new Set(input.excludeInstanceIds ?? []);
    const loaded = await loadProviderFleet(deps, provider.CapacityProviderArn);
    // What the fleet shows now needs no reservation any more.
    const recorded = new Set(loaded.rows.map((row) => row.environmentId));
    settle({ environmentIds: recorded });
    const instances = loaded.instances.filter((instance) => !excluded.has(instance.instanceId));
    const rows = loaded.rows.filter((row) => !excluded.has(row.state.placement!.instanceId));
    // Other plans' EEs and instances that their workflows have not recorded or launched yet hold capacity too.
    const fleet = withReservations(loaded.fleet, recorded, reserved).filter((instance) => !excluded.has(instance.id));

    const revisionId = input.version.revisionId ?? configuration.RevisionId;
    const versionKey = environmentKey(configuration.FunctionArn, revisionId);
    const liveInstances = new Set(fleet.filter((instance) => holdsZoneShare(instance.state)).map((instance) => instance.id));
    // Only what runs or starts counts toward the version's size, not what a concurrent workflow of the same
    // version reserved: rotations of several of its instances at once each replace their own share.
    const present = rows.filter(
      (row) =>
        row.state.placement !== undefined &&
        environmentKey(row.state.placement.functionArn, row.state.placement.revisionId) === versionKey &&
        (row.state.status === 'Starting' || row.state.status === 'Ready') &&
        liveInstances.has(row.state.placement.instanceId),
    ).length;
    const missing = input.desiredEnvironments - present;
    if (missing <= 0) return { result: { instancesToLaunch: [], environments: [], alreadyReady: present }, reserve: { instances: [], environments: [] } };
    const architecture = (configuration.Architectures[0] ?? 'x86_64') as Architecture;
    const choice = chooseInstanceType(
      { memoryMiB: configuration.MemorySize, memoryGiBPerVCpu: (managed.ExecutionEnvironmentMemoryGiBPerVCpu ?? 2) as MemoryGiBPerVCpu, architecture },
      {
        Architectures: (provider.InstanceRequirements?.Architectures ?? ['x86_64']) as Architecture[],
        AllowedInstanceTypes: provider.InstanceRequirements?.AllowedInstanceTypes ?? [],
        ExcludedInstanceTypes: provider.InstanceRequirements?.ExcludedInstanceTypes ?? [],
      },
    );
    if (!choice.ok) refuse(choice.reasonCode, choice.message);
    const launchType = choice.value.instanceType;
    const plan = planPlacement(
      fleet,
      {
        version: versionKey,
        count: missing,
        environment: choice.value.environment,
        zones,
        launchType: { name: launchType.name, vCpus: launchType.vCpus, memoryMiB: launchType.memoryMiB },
        newInstanceId: () => newInstanceId(),
      },
      { maxVCpuCount: provider.CapacityProviderScalingConfig?.MaxVCpuCount ?? 400 },
    );
    if (!plan.ok) refuse(plan.reasonCode, plan.message);

    // Instances an earlier plan is launching: this plan joins the launch of those it places on.
    const launching = new Map(reserved.instances.map((instance) => [instance.id, instance.launch]));
    const addressOf = new Map(instances.filter((instance) => instance.agentAddress).map((instance) => [instance.instanceId, instance.agentAddress]));
    const newLaunches = plan.value.launches.map((launch) => ({
      instanceId: launch.id,
      capacityProviderArn: provider.CapacityProviderArn,
      instanceType: launch.type,
      zone: launch.zone,
      architecture: launchType.architecture,
      vcpus: launch.vCpus,
      memoryMib: launch.memoryMiB,
    }));
    const joined = [...new Set(plan.value.placements.map((placement) => placement.instanceId))]
      .filter((id) => launching.has(id) && !addressOf.has(id))
      .map((id) => launching.get(id)!);
    const result: CapacityPlan = {
      instancesToLaunch: [...newLaunches, ...joined],
      environments: plan.value.placements.map((placement) => {
        const agentAddress = placement.newInstance ? undefined : addressOf.get(placement.instanceId);
        return {
          environmentId: newEnvironmentId(),
          instanceId: placement.instanceId,
          zone: placement.zone,
          ...(agentAddress ? { agentAddress } : {}),
        };
      }),
      alreadyReady: present,
    };
    return {
      result,
      reserve: {
        instances: newLaunches.map((launch) => ({
          id: launch.instanceId,
          type: launch.instanceType,
          zone: launch.zone,
          vCpus: launch.vcpus,
          memoryMiB: launch.memoryMib,
          launch,
        })),
        environments: result.environments.map((environment) => ({
          id: environment.environmentId,
          instanceId: environment.instanceId,
          version: versionKey,
          vCpus: choice.value.environment.vCpus,
          memoryMiB: choice.value.environment.memoryMiB,
        })),
      },
    };
  });
}
