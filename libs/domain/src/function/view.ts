/** Read-side views of functions: the API shapes GetFunction, GetFunctionConfiguration and ListFunctions return. */
import { resolveFunctionName, type ArnScope } from '../arn.js';
import { compareKeys, maxItemsRanges, page } from '../paging.js';
import { checkEnum, isPresent } from '../validation.js';
import { functionNotFound } from './decide.js';
import type { FunctionConfiguration, GetFunctionResponse, ListFunctionsRequest, ListFunctionsResponse } from './shapes.js';
import { functionExists, latestVersionStatus, type ExistingFunction, type FunctionStreamState } from './state.js';

/** Where packages are served from; the view appends `/<sha256Hex>`. */
export interface CodeLocationContext {
  /** Base URL of the artifact store, without a trailing slash, e.g. `http://127.0.0.1:9000/code`. */
  readonly codeBaseUrl: string;
}

/**
 * The existing function of a stream, or ResourceNotFoundException
 * (`Function not found: <arn>`). Accepts what the caller got in the path and
 * query: a name or ARN and an optional Qualifier; only `$LATEST` exists until
 * publishing is implemented.
 */
export function requireFunction(state: FunctionStreamState, nameOrArn: string, qualifier: string | undefined, scope: ArnScope): ExistingFunction {
  const parts = resolveFunctionName(nameOrArn, qualifier, scope);
  if (!functionExists(state)) throw functionNotFound(parts.name, scope, parts.qualifier);
  if (parts.qualifier !== undefined && parts.qualifier !== '$LATEST') throw functionNotFound(parts.name, scope, parts.qualifier);
  return state;
}

/** The FunctionConfiguration of `$LATEST`, as Lambda returns it; shares nothing with the state. */
export function functionConfigurationView(fn: ExistingFunction): FunctionConfiguration {
  const config = fn.configuration;
  const managed = config.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig;
  const variables = config.Environment.Variables;
  return {
    FunctionName: config.FunctionName,
    FunctionArn: config.FunctionArn,
    Runtime: config.Runtime,
    Role: config.Role,
    Handler: config.Handler,
    CodeSize: fn.code.CodeSize,
    Description: config.Description,
    Timeout: config.Timeout,
    MemorySize: config.MemorySize,
    LastModified: fn.LastModified,
    CodeSha256: fn.code.CodeSha256,
    Version: '$LATEST',
    ...(Object.keys(variables).length === 0 ? {} : { Environment: { Variables: { ...variables } } }),
    ...(config.KMSKeyArn === '' ? {} : { KMSKeyArn: config.KMSKeyArn }),
    TracingConfig: { Mode: config.TracingConfig.Mode },
    RevisionId: fn.RevisionId,
    State: latestVersionStatus.State,
    LastUpdateStatus: latestVersionStatus.LastUpdateStatus,
    PackageType: config.PackageType,
    Architectures: [...config.Architectures],
    EphemeralStorage: { Size: config.EphemeralStorage.Size },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { ...config.LoggingConfig },
    CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { ...managed } },
  };
}

/** The GetFunction response: configuration, where to download the code (`<codeBaseUrl>/<sha256Hex>`, type S3) and tags if any. */
export function getFunctionView(fn: ExistingFunction, ctx: CodeLocationContext): GetFunctionResponse {
  return {
    Configuration: functionConfigurationView(fn),
    Code: { RepositoryType: 'S3', Location: `${ctx.codeBaseUrl}/${fn.code.sha256Hex}` },
    ...(Object.keys(fn.Tags).length === 0 ? {} : { Tags: { ...fn.Tags } }),
  };
}

/**
 * One page of ListFunctions over the account's functions, in name order.
 * Throws InvalidParameterValueException for a bad FunctionVersion, Marker or
 * MaxItems (1–10000, default 50).
 */
export function listFunctions(functions: readonly FunctionConfiguration[], request: ListFunctionsRequest = {}): ListFunctionsResponse {
  if (isPresent(request.FunctionVersion)) checkEnum(request.FunctionVersion, 'FunctionVersion', ['ALL'] as const);
  const sorted = [...functions].sort((a, b) => compareKeys(a.FunctionName ?? '', b.FunctionName ?? ''));
  const result = page(sorted, (fn) => fn.FunctionName ?? '', {
    marker: request.Marker,
    maxItems: request.MaxItems,
    range: maxItemsRanges.ListFunctions,
  });
  return { Functions: result.items, ...(result.nextMarker === undefined ? {} : { NextMarker: result.nextMarker }) };
}
