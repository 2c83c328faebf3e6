/**
 * `hearth.v1.InstanceManagerService` over the lifecycle: each method maps its
 * request onto the InstanceManager and the state back onto the proto
 * `Instance`; errors are typed LambdaErrors, mapped to statuses by unaryHandlers.
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { unaryHandlers } from '@hearth/grpc';
import { instanceManager as proto } from '@hearth/proto';
import type { Logger } from '@hearth/telemetry';
import type { InstanceView } from './instance-events.js';
import type { InstanceManager } from './instance-manager.js';

/** The proto `Instance` of an instance view. */
export function toProtoInstance(state: InstanceView): proto.Instance {
  const instance: proto.Instance = {
    instanceId: state.instanceId,
    capacityProviderArn: state.capacityProviderArn,
    instanceType: state.instanceType,
    zone: state.zone,
    architecture: state.architecture,
    vcpus: state.vcpus,
    memoryMib: state.memoryMib,
    state: state.status,
    agentAddress: state.agentAddress,
    launchedAt: state.launchedAt,
    agentPid: state.agentPid ?? 0,
  };
  if (state.stateReason !== undefined) instance.stateReason = state.stateReason;
  return instance;
}

/** The service implementation to add to the gRPC server. */
export function instanceManagerService(manager: InstanceManager, logger: Logger): UntypedServiceImplementation {
  return unaryHandlers(
    proto.InstanceManagerServiceService,
    {
      async launchInstance(request) {
        const state = await manager.launch({
          instanceId: request.instanceId,
          capacityProviderArn: request.capacityProviderArn,
          instanceType: request.instanceType,
          zone: request.zone,
          architecture: request.architecture,
          vcpus: request.vcpus,
          memoryMib: request.memoryMib,
        });
        return toProtoInstance(state);
      },
      async terminateInstance(request) {
        return toProtoInstance(await manager.terminate(request.instanceId, request.reason));
      },
      async listInstances(request) {
        const states = await manager.list({
          capacityProviderArn: request.capacityProviderArn || undefined,
          includeTerminated: request.includeTerminated,
        });
        return { instances: states.map(toProtoInstance) };
      },
    },
    logger,
  );
}
