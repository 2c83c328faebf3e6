/** Read-side views of capacity providers: the API shapes Get, List and the write operations return. */
import { parseCapacityProviderName, type ArnScope } from '../arn.js';
import { compareKeys, maxItemsRanges, page } from '../paging.js';
import { checkEnum, isPresent } from '../validation.js';
import { capacityProviderNotFound } from './decide.js';
import {
  capacityProviderStates,
  type CapacityProvider,
  type FunctionVersionsByCapacityProviderListItem,
  type ListCapacityProvidersRequest,
  type ListCapacityProvidersResponse,
  type ListFunctionVersionsByCapacityProviderRequest,
  type ListFunctionVersionsByCapacityProviderResponse,
} from './shapes.js';
import { capacityProviderExists, type CapacityProviderStreamState, type ExistingCapacityProvider } from './state.js';

/**
 * The existing provider of a stream, or ResourceNotFoundException naming it.
 * `nameOrArn` is what the caller gave (a name or an ARN).
 */
export function requireCapacityProvider(state: CapacityProviderStreamState, nameOrArn: string, scope: ArnScope): ExistingCapacityProvider {
  const name = parseCapacityProviderName(nameOrArn, scope);
  if (!capacityProviderExists(state)) throw capacityProviderNotFound(name, scope);
  return state;
}

/**
 * The CapacityProvider API shape of an existing provider. Empty instance type
 * lists are left out, as a request that never set them would expect; the
 * result shares nothing with the state.
 */
export function capacityProviderView(provider: ExistingCapacityProvider): CapacityProvider {
  const definition = provider.definition;
  const requirements = definition.InstanceRequirements;
  const scaling = definition.CapacityProviderScalingConfig;
  return {
    CapacityProviderArn: provider.CapacityProviderArn,
    State: provider.status,
    VpcConfig: { SubnetIds: [...definition.VpcConfig.SubnetIds], SecurityGroupIds: [...definition.VpcConfig.SecurityGroupIds] },
    PermissionsConfig: { CapacityProviderOperatorRoleArn: definition.PermissionsConfig.CapacityProviderOperatorRoleArn },
    InstanceRequirements: {
      Architectures: [...requirements.Architectures],
      ...(requirements.AllowedInstanceTypes.length > 0 ? { AllowedInstanceTypes: [...requirements.AllowedInstanceTypes] } : {}),
      ...(requirements.ExcludedInstanceTypes.length > 0 ? { ExcludedInstanceTypes: [...requirements.ExcludedInstanceTypes] } : {}),
    },
    CapacityProviderScalingConfig: {
      MaxVCpuCount: scaling.MaxVCpuCount,
      ScalingMode: scaling.ScalingMode,
      ...(scaling.ScalingPolicies === undefined ? {} : { ScalingPolicies: scaling.ScalingPolicies.map((policy) => ({ ...policy })) }),
    },
    ...(definition.KmsKeyArn === undefined ? {} : { KmsKeyArn: definition.KmsKeyArn }),
    LastModified: provider.LastModified,
    ...(definition.PropagateTags === undefined
      ? {}
      : {
          PropagateTags: {
            Mode: definition.PropagateTags.Mode,
            ...(definition.PropagateTags.ExplicitTags === undefined ? {} : { ExplicitTags: { ...definition.PropagateTags.ExplicitTags } }),
          },
        }),
    TelemetryConfig: { LoggingConfig: { ...definition.TelemetryConfig.LoggingConfig } },
  };
}

/**
 * One page of ListCapacityProviders over all of the account's providers, in
 * ARN order, filtered by `State` when given. Throws InvalidParameterValueException
 * for a bad State, Marker or MaxItems (1–50, default 50).
 */
export function listCapacityProviders(
  providers: readonly CapacityProvider[],
  request: ListCapacityProvidersRequest = {},
): ListCapacityProvidersResponse {
  const state = isPresent(request.State) ? checkEnum(request.State, 'State', capacityProviderStates) : undefined;
  const sorted = providers
    .filter((provider) => state === undefined || provider.State === state)
    .sort((a, b) => compareKeys(a.CapacityProviderArn, b.CapacityProviderArn));
  const result = page(sorted, (provider) => provider.CapacityProviderArn, {
    marker: request.Marker,
    maxItems: request.MaxItems,
    range: maxItemsRanges.ListCapacityProviders,
  });
  return { CapacityProviders: result.items, ...(result.nextMarker === undefined ? {} : { NextMarker: result.nextMarker }) };
}

/**
 * One page of ListFunctionVersionsByCapacityProvider, in function ARN order.
 * Throws InvalidParameterValueException for a bad Marker or MaxItems (1–50, default 50).
 */
export function listFunctionVersionsByCapacityProvider(
  capacityProviderArn: string,
  versions: readonly FunctionVersionsByCapacityProviderListItem[],
  request: Pick<ListFunctionVersionsByCapacityProviderRequest, 'Marker' | 'MaxItems'> = {},
): ListFunctionVersionsByCapacityProviderResponse {
  const sorted = [...versions].sort((a, b) => compareKeys(a.FunctionArn, b.FunctionArn));
  const result = page(sorted, (version) => version.FunctionArn, {
    marker: request.Marker,
    maxItems: request.MaxItems,
    range: maxItemsRanges.ListFunctionVersionsByCapacityProvider,
  });
  return {
    CapacityProviderArn: capacityProviderArn,
    FunctionVersions: result.items,
    ...(result.nextMarker === undefined ? {} : { NextMarker: result.nextMarker }),
  };
}
