/**
 * The live sources of the fleet status: the api's own capacity-provider read
 * model (through the control plane), the instance-manager's ListInstances over
 * gRPC, and the load-report cache fed from NATS.
 */
import { callUnary, createClient } from '@hearth/grpc';
import { instanceManager } from '@hearth/proto';
import type { ControlPlane } from '../control-plane/index.js';
import type { FleetSources, InstanceSummary, ProviderSummary } from './fleet-status.js';
import { providerNameOf } from './fleet-status.js';
import type { LoadReportCache } from './load-report-cache.js';

/** MaxVCpuCount a provider has when its scaling config names none (LMI's default). */
const defaultMaxVCpuCount = 400;
/** Most pages of ListCapacityProviders read (50 a page: the account quota of 1000 fits twice). */
const maxProviderPages = 40;

/** Every capacity provider of the read model, page by page. */
export async function listAllCapacityProviders(plane: Pick<ControlPlane, 'ListCapacityProviders'>, signal: AbortSignal): Promise<ProviderSummary[]> {
  const providers: ProviderSummary[] = [];
  let marker: string | undefined;
  for (let page = 0; page < maxProviderPages && !signal.aborted; page += 1) {
    const answer = await plane.ListCapacityProviders({ MaxItems: 50, ...(marker === undefined ? {} : { Marker: marker }) });
    for (const provider of answer.CapacityProviders ?? []) {
      providers.push({
        name: providerNameOf(provider.CapacityProviderArn),
        arn: provider.CapacityProviderArn,
        state: provider.State,
        maxVCpuCount: provider.CapacityProviderScalingConfig?.MaxVCpuCount ?? defaultMaxVCpuCount,
      });
    }
    marker = answer.NextMarker;
    if (marker === undefined) break;
  }
  return providers;
}

/** A client of the instance-manager's ListInstances. */
export interface InstanceLister {
  list(deadlineMs: number): Promise<InstanceSummary[]>;
  close(): void;
}

/** Connects to the instance-manager at `address` (one long-lived channel). */
export function connectInstanceLister(address: string): InstanceLister {
  const client = createClient(instanceManager.InstanceManagerServiceClient, address, { maxReceiveMessageBytes: 64 * 1024 * 1024 });
  return {
    async list(deadlineMs) {
      const answer = await callUnary(client, client.listInstances, { includeTerminated: false }, { deadlineMs });
      return answer.instances.map((instance) => ({
        instanceId: instance.instanceId,
        capacityProviderArn: instance.capacityProviderArn,
        instanceType: instance.instanceType,
        zone: instance.zone,
        state: instance.state,
        vCpus: instance.vcpus,
        memoryMiB: instance.memoryMib,
        launchedAt: instance.launchedAt,
        ...(instance.stateReason ? { stateReason: instance.stateReason } : {}),
      }));
    },
    close: () => client.close(),
  };
}

/** The fleet sources of a running api. */
export function liveFleetSources(options: {
  plane: Pick<ControlPlane, 'ListCapacityProviders'>;
  instances: Pick<InstanceLister, 'list'>;
  loadReports: LoadReportCache;
}): FleetSources {
  return {
    listCapacityProviders: (signal) => listAllCapacityProviders(options.plane, signal),
    listInstances: (_signal, deadlineMs) => options.instances.list(deadlineMs),
    loadReports: options.loadReports,
  };
}
