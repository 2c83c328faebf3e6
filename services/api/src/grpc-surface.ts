import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { unaryHandlers } from '@hearth/grpc';
import { api, lambdaTypes, lifecycle } from '@hearth/proto';
import type { Logger } from '@hearth/telemetry';
import type { ControlPlane } from './control-plane/index.js';
import type { Invoker } from './invoke/index.js';

/**
 * Drops what proto3 cannot tell from "absent": empty lists, empty maps and
 * unset optionals, so the domain sees a gRPC request exactly as it sees the
 * same request in Lambda JSON (ADR 0001). Binary fields pass untouched.
 */
export function withoutProtoDefaults<T>(value: T): T {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(withoutProtoDefaults) as T;
  const result: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (member === undefined) continue;
    if (Array.isArray(member) && member.length === 0) continue;
    const compacted = withoutProtoDefaults(member);
    if (compacted !== null && typeof compacted === 'object' && !(compacted instanceof Uint8Array) && !Array.isArray(compacted) && Object.keys(compacted).length === 0) continue;
    result[key] = compacted;
  }
  return result as T;
}

// The control plane takes and returns the Lambda shapes; the generated messages
// have the same member names (ADR 0001), so a request passes through after its
// proto defaults are dropped, and a response is completed by fromPartial.
const asInput = <T>(request: unknown): T => withoutProtoDefaults(request) as T;

/**
 * A response message from a Lambda shape. Lambda members that Hearth's proto
 * leaves out (VpcConfig, Layers, SnapStart… which managed-instance functions
 * never set) are dropped by fromPartial.
 */
const toMessage = <M>(fns: { fromPartial(object: never): M }, value: object): M => fns.fromPartial(value as never);

/** An Invoke result as the gRPC message: bytes as a Buffer, unset members left out. */
function invokeResponse(result: { StatusCode: number; Payload?: Uint8Array; FunctionError?: string; ExecutedVersion?: string }): api.InvokeResponse {
  return api.InvokeResponse.fromPartial({
    StatusCode: result.StatusCode,
    Payload: result.Payload === undefined ? Buffer.alloc(0) : Buffer.from(result.Payload.buffer, result.Payload.byteOffset, result.Payload.byteLength),
    ...(result.FunctionError === undefined ? {} : { FunctionError: result.FunctionError }),
    ...(result.ExecutedVersion === undefined ? {} : { ExecutedVersion: result.ExecutedVersion }),
  });
}

/** The gRPC services of the api, over the control plane and Invoke. */
export function grpcServices(plane: ControlPlane, invoker: Invoker, logger: Logger): Array<[ServiceDefinition, UntypedServiceImplementation]> {
  const cp = api.CapacityProviderResponse;
  const fc = lambdaTypes.FunctionConfiguration;
  const eic = api.FunctionEventInvokeConfig;
  return [
    [
      api.CapacityProviderServiceService,
      unaryHandlers(
        api.CapacityProviderServiceService,
        {
          createCapacityProvider: async (request) => toMessage(cp, await plane.CreateCapacityProvider(asInput(request))),
          getCapacityProvider: async (request) => toMessage(cp, await plane.GetCapacityProvider(asInput(request))),
          updateCapacityProvider: async (request) => toMessage(cp, await plane.UpdateCapacityProvider(asInput(request))),
          deleteCapacityProvider: async (request) => toMessage(cp, await plane.DeleteCapacityProvider(asInput(request))),
          listCapacityProviders: async (request) =>
            toMessage(api.ListCapacityProvidersResponse, await plane.ListCapacityProviders(asInput(request))),
          listFunctionVersionsByCapacityProvider: async (request) =>
            toMessage(api.ListFunctionVersionsByCapacityProviderResponse, await plane.ListFunctionVersionsByCapacityProvider(asInput(request))),
        },
        logger,
      ),
    ],
    [
      api.FunctionServiceService,
      unaryHandlers(
        api.FunctionServiceService,
        {
          createFunction: async (request) => toMessage(fc, await plane.CreateFunction(asInput(request))),
          getFunction: async (request) => toMessage(api.GetFunctionResponse, await plane.GetFunction(asInput(request))),
          getFunctionConfiguration: async (request) => toMessage(fc, await plane.GetFunctionConfiguration(asInput(request))),
          updateFunctionCode: async (request) => toMessage(fc, await plane.UpdateFunctionCode(asInput(request))),
          updateFunctionConfiguration: async (request) => toMessage(fc, await plane.UpdateFunctionConfiguration(asInput(request))),
          deleteFunction: async (request) => toMessage(api.DeleteFunctionResponse, await plane.DeleteFunction(asInput(request))),
          listFunctions: async (request) => toMessage(api.ListFunctionsResponse, await plane.ListFunctions(asInput(request))),
          publishVersion: async (request) => toMessage(fc, await plane.PublishVersion(asInput(request))),
          listVersionsByFunction: async (request) =>
            toMessage(api.ListVersionsByFunctionResponse, await plane.ListVersionsByFunction(asInput(request))),
          // The invocation's id is the call's x-request-id (or a fresh uuid); cancelling the call cancels it.
          invoke: async (request, ctx) => invokeResponse(await invoker.invoke(asInput(request), { requestId: ctx.requestId, signal: ctx.signal })),
          putFunctionEventInvokeConfig: async (request) => toMessage(eic, await plane.PutFunctionEventInvokeConfig(asInput(request))),
          updateFunctionEventInvokeConfig: async (request) => toMessage(eic, await plane.UpdateFunctionEventInvokeConfig(asInput(request))),
          getFunctionEventInvokeConfig: async (request) => toMessage(eic, await plane.GetFunctionEventInvokeConfig(asInput(request))),
          deleteFunctionEventInvokeConfig: async (request) => {
            await plane.DeleteFunctionEventInvokeConfig(asInput(request));
            return api.DeleteFunctionEventInvokeConfigResponse.fromPartial({});
          },
          listFunctionEventInvokeConfigs: async (request) =>
            toMessage(api.ListFunctionEventInvokeConfigsResponse, await plane.ListFunctionEventInvokeConfigs(asInput(request))),
          putFunctionScalingConfig: async (request) =>
            toMessage(api.PutFunctionScalingConfigResponse, await plane.PutFunctionScalingConfig(asInput(request))),
          getFunctionScalingConfig: async (request) =>
            toMessage(api.GetFunctionScalingConfigResponse, await plane.GetFunctionScalingConfig(asInput(request))),
        },
        logger,
      ),
    ],
    [
      lifecycle.FunctionLifecycleServiceService,
      unaryHandlers(
        lifecycle.FunctionLifecycleServiceService,
        {
          activateVersion: async (request) => ({ state: await plane.activateVersion(request.functionName, request.version, request.revisionId) }),
          failVersion: async (request) => ({
            state: await plane.failVersion(
              request.functionName,
              request.version,
              request.stateReasonCode ?? 'InternalError',
              request.stateReason ?? 'The fleet workflow failed without a reason',
              request.revisionId,
            ),
          }),
          completeTeardown: async (request) => ({ state: await plane.completeTeardown(request.functionName, request.version) }),
          reportVersionScaling: async (request) => ({
            state: await plane.reportVersionScaling(request.functionName, {
              Version: request.version,
              ReadyEnvironments: request.readyEnvironments,
              Min: request.minEnvironments,
              ...(request.maxEnvironments === undefined ? {} : { Max: request.maxEnvironments }),
              ...(request.limitReason ? { LimitReason: request.limitReason } : {}),
            }),
          }),
        },
        logger,
      ),
    ],
  ];
}
