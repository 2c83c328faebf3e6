/**
 * The api's control plane: the operations on capacity providers and
 * functions, written once and served by both the gRPC services and the
 * Lambda-compatible HTTP API. Each command folds its stream, decides with
 * @hearth/domain, and appends with an expected version; reads come from the
 * inline read models.
 */
import { capacityProviderOperations, type CapacityProviderOperations } from './capacity-providers.js';
import type { ControlPlaneDeps } from './context.js';
import { eventInvokeConfigOperations, type EventInvokeConfigOperations } from './event-invoke-configs.js';
import { functionOperations, type FunctionOperations } from './functions.js';

export type { ControlPlaneDeps } from './context.js';
export type { CreateFunctionInput, UpdateFunctionCodeInput, ZipPackage } from './functions.js';

/** Every control-plane operation. */
export type ControlPlane = CapacityProviderOperations & FunctionOperations & EventInvokeConfigOperations;

/** Creates the control plane over its dependencies. */
export function createControlPlane(deps: ControlPlaneDeps): ControlPlane {
  return { ...capacityProviderOperations(deps), ...functionOperations(deps), ...eventInvokeConfigOperations(deps) };
}
