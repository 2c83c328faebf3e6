import { callUnary, type FleetClients } from './clients.js';
import type { FleetInstance, InstanceState } from './decisions/index.js';
import type { EnvironmentRow, Environments } from './environments/table.js';
import type { instanceManager } from '@hearth/proto';

/**
 * Environments of one version and one revision of its snapshot are
 * interchangeable: one key for both (`$LATEST.PUBLISHED` is republished in place).
 */
export function environmentKey(functionArn: string, revisionId: string | undefined): string {
  return `${functionArn}#${revisionId ?? ''}`;
}

/** A capacity provider's fleet as placement decides over it. */
export interface ProviderFleet {
  /** The provider's instances that are not terminated, from the instance-manager. */
  instances: instanceManager.Instance[];
  /** Environment rows on those instances that passed the filter. */
  rows: EnvironmentRow[];
  /** The same, shaped for the placement decisions; each environment keyed by environmentKey. */
  fleet: FleetInstance[];
}

/**
 * Reads a provider's instances and the environments placement recorded on
 * them, keeping the rows `include` accepts (default: all), grouped by
 * instance in one pass.
 */
export async function loadProviderFleet(
  deps: { clients: FleetClients; environments: Environments },
  capacityProviderArn: string,
  include: (row: EnvironmentRow) => boolean = () => true,
): Promise<ProviderFleet> {
  const { instances } = await callUnary(deps.clients.instances, deps.clients.instances.listInstances, {
    capacityProviderArn,
    includeTerminated: false,
  });
  const rows = (await deps.environments.onInstances(instances.map((instance) => instance.instanceId))).filter(
    (row) => row.state.placement !== undefined && include(row),
  );
  const rowsByInstance = new Map<string, EnvironmentRow[]>();
  for (const row of rows) {
    const instanceId = row.state.placement!.instanceId;
    rowsByInstance.set(instanceId, [...(rowsByInstance.get(instanceId) ?? []), row]);
  }
  const fleet: FleetInstance[] = instances.map((instance) => ({
    id: instance.instanceId,
    type: instance.instanceType,
    zone: instance.zone,
    state: instance.state as InstanceState,
    vCpus: instance.vcpus,
    memoryMiB: instance.memoryMib,
    environments: (rowsByInstance.get(instance.instanceId) ?? []).map((row) => ({
      id: row.environmentId,
      version: environmentKey(row.state.placement!.functionArn, row.state.placement!.revisionId),
      vCpus: row.state.placement!.vcpus,
      memoryMiB: row.state.placement!.memoryMib,
    })),
  }));
  return { instances, rows, fleet };
}
