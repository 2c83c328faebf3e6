/**
 * Read-side views of functions and their versions: the API shapes GetFunction,
 * GetFunctionConfiguration, ListFunctions and ListVersionsByFunction return.
 */
import { ResourceNotFoundException } from '@hearth/errors';
import { resolveFunctionName, type ArnScope } from '../arn.js';
import { compareKeys, maxItemsRanges, page } from '../paging.js';
import { checkEnum, isPresent } from '../validation.js';
import { functionNotFound } from './decide.js';
import type {
  FunctionConfiguration,
  GetFunctionResponse,
  ListFunctionsRequest,
  ListFunctionsResponse,
  ListVersionsByFunctionRequest,
  ListVersionsByFunctionResponse,
} from './shapes.js';
import { functionExists, latestVersionStatus, type ExistingFunction, type FunctionStreamState } from './state.js';
import type { CodeRef, FunctionDefinition } from './validate.js';
import {
  findVersion,
  isPublishedQualifier,
  latestQualifier,
  publishedVersions,
  versionSortKey,
  type FunctionVersionRecord,
} from './versions.js';

/** Where packages are served from; the view appends `/<sha256Hex>`. */
export interface CodeLocationContext {
  /** Base URL of the artifact store, without a trailing slash, e.g. `http://127.0.0.1:9000/code`. */
  readonly codeBaseUrl: string;
}

/** Which version of a function a view shows, and how its ARN reads. */
export interface VersionSelector {
  /** `$LATEST`, `$LATEST.PUBLISHED` or a version number. Default `$LATEST`. */
  readonly Version?: string;
  /**
   * FunctionArn with `:<Version>`, as Lambda answers a qualified request.
   * Default: qualified for published versions, unqualified for `$LATEST`.
   */
  readonly qualifiedArn?: boolean;
}

/** A version an API request addressed: the function, the version and whether the ARN is shown qualified. */
export interface FunctionVersionRef {
  readonly fn: ExistingFunction;
  /** `$LATEST`, `$LATEST.PUBLISHED` or a version number. */
  readonly Version: string;
  /** True when the request named a qualifier (`$LATEST` included): the views then show a qualified FunctionArn. */
  readonly qualifiedArn: boolean;
}

/**
 * The function and version a GetFunction / GetFunctionConfiguration request
 * addresses (a name or ARN and an optional Qualifier: `$LATEST`,
 * `$LATEST.PUBLISHED` or a version number), or ResourceNotFoundException
 * `Function not found: <arn>` naming the qualifier. Pass the result to
 * {@link functionConfigurationView} or {@link getFunctionView}.
 */
export function resolveFunctionVersion(
  state: FunctionStreamState,
  nameOrArn: string,
  qualifier: string | undefined,
  scope: ArnScope,
): FunctionVersionRef {
  const parts = resolveFunctionName(nameOrArn, qualifier, scope);
  if (!functionExists(state)) throw functionNotFound(parts.name, scope, parts.qualifier);
  if (parts.qualifier === undefined) return { fn: state, Version: latestQualifier, qualifiedArn: false };
  if (parts.qualifier === latestQualifier) return { fn: state, Version: latestQualifier, qualifiedArn: true };
  // Hearth has no aliases: a qualifier that is no published version names nothing.
  if (!isPublishedQualifier(parts.qualifier) || findVersion(state, parts.qualifier) === undefined) {
    throw functionNotFound(parts.name, scope, parts.qualifier);
  }
  return { fn: state, Version: parts.qualifier, qualifiedArn: true };
}

/**
 * The existing function of a stream for a request about `$LATEST`, or
 * ResourceNotFoundException (`Function not found: <arn>`). Accepts a name or
 * ARN and an optional Qualifier, which must be `$LATEST`: a caller that serves
 * published versions uses {@link resolveFunctionVersion}, which also says
 * which version to show.
 */
export function requireFunction(state: FunctionStreamState, nameOrArn: string, qualifier: string | undefined, scope: ArnScope): ExistingFunction {
  const parts = resolveFunctionName(nameOrArn, qualifier, scope);
  if (!functionExists(state)) throw functionNotFound(parts.name, scope, parts.qualifier);
  if (parts.qualifier !== undefined && parts.qualifier !== latestQualifier) throw functionNotFound(parts.name, scope, parts.qualifier);
  return state;
}

interface Snapshot {
  readonly config: FunctionDefinition;
  readonly code: CodeRef;
  readonly Description: string;
  readonly LastModified: string;
  readonly RevisionId: string;
}

function configurationOf(snapshot: Snapshot, FunctionArn: string, Version: string, status: Partial<FunctionConfiguration>): FunctionConfiguration {
  const { config, code } = snapshot;
  const managed = config.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig;
  const variables = config.Environment.Variables;
  return {
    FunctionName: config.FunctionName,
    FunctionArn,
    Runtime: config.Runtime,
    Role: config.Role,
    Handler: config.Handler,
    CodeSize: code.CodeSize,
    Description: snapshot.Description,
    Timeout: config.Timeout,
    MemorySize: config.MemorySize,
    LastModified: snapshot.LastModified,
    CodeSha256: code.CodeSha256,
    Version,
    ...(Object.keys(variables).length === 0 ? {} : { Environment: { Variables: { ...variables } } }),
    ...(config.KMSKeyArn === '' ? {} : { KMSKeyArn: config.KMSKeyArn }),
    TracingConfig: { Mode: config.TracingConfig.Mode },
    RevisionId: snapshot.RevisionId,
    ...status,
    PackageType: config.PackageType,
    Architectures: [...config.Architectures],
    EphemeralStorage: { Size: config.EphemeralStorage.Size },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { ...config.LoggingConfig },
    CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { ...managed } },
  };
}

function versionStatus(version: FunctionVersionRecord, fn: ExistingFunction): Partial<FunctionConfiguration> {
  // A function being deleted is tearing down every version, whatever state each was in.
  if (fn.status === 'Deleting') return { State: 'Deleting', LastUpdateStatus: version.LastUpdateStatus };
  return {
    State: version.State,
    ...(version.StateReason === undefined ? {} : { StateReason: version.StateReason }),
    ...(version.StateReasonCode === undefined ? {} : { StateReasonCode: version.StateReasonCode }),
    LastUpdateStatus: version.LastUpdateStatus,
    ...(version.LastUpdateStatusReason === undefined ? {} : { LastUpdateStatusReason: version.LastUpdateStatusReason }),
    ...(version.LastUpdateStatusReasonCode === undefined ? {} : { LastUpdateStatusReasonCode: version.LastUpdateStatusReasonCode }),
  };
}

function requirePublished(fn: ExistingFunction, Version: string): FunctionVersionRecord {
  const version = findVersion(fn, Version);
  if (version === undefined) throw new ResourceNotFoundException(`Function not found: ${fn.configuration.FunctionArn}:${Version}`);
  return version;
}

/**
 * The FunctionConfiguration of a version, as Lambda returns it; shares nothing
 * with the state. `$LATEST` (the default) is ActiveNonInvocable; a published
 * version shows its own State (Pending with StateReasonCode Creating until it
 * is Active, or Failed with its reason), Description, RevisionId and
 * LastModified. While the function is being deleted every version is Deleting.
 * Throws ResourceNotFoundException for a version that does not exist.
 */
export function functionConfigurationView(fn: ExistingFunction, selector: VersionSelector = {}): FunctionConfiguration {
  const Version = selector.Version ?? latestQualifier;
  const qualified = selector.qualifiedArn ?? Version !== latestQualifier;
  const FunctionArn = qualified ? `${fn.configuration.FunctionArn}:${Version}` : fn.configuration.FunctionArn;
  if (Version === latestQualifier) {
    const snapshot = { config: fn.configuration, code: fn.code, Description: fn.configuration.Description, LastModified: fn.LastModified, RevisionId: fn.RevisionId };
    const State = fn.status === 'Deleting' ? 'Deleting' : latestVersionStatus.State;
    return configurationOf(snapshot, FunctionArn, Version, { State, LastUpdateStatus: latestVersionStatus.LastUpdateStatus });
  }
  const version = requirePublished(fn, Version);
  const snapshot = { config: version.configuration, code: version.code, Description: version.Description, LastModified: version.LastModified, RevisionId: version.RevisionId };
  return configurationOf(snapshot, FunctionArn, Version, versionStatus(version, fn));
}

/**
 * The GetFunction response of a version (default `$LATEST`): its
 * configuration, where to download its code (`<codeBaseUrl>/<sha256Hex>`,
 * type S3) and the function's tags if any.
 */
export function getFunctionView(fn: ExistingFunction, ctx: CodeLocationContext, selector: VersionSelector = {}): GetFunctionResponse {
  const Version = selector.Version ?? latestQualifier;
  const code = Version === latestQualifier ? fn.code : requirePublished(fn, Version).code;
  return {
    Configuration: functionConfigurationView(fn, selector),
    Code: { RepositoryType: 'S3', Location: `${ctx.codeBaseUrl}/${code.sha256Hex}` },
    ...(Object.keys(fn.Tags).length === 0 ? {} : { Tags: { ...fn.Tags } }),
  };
}

/**
 * Every version of a function with qualified ARNs, in Lambda's order:
 * `$LATEST`, `$LATEST.PUBLISHED`, then numbered versions by number.
 */
export function functionVersionViews(fn: ExistingFunction): FunctionConfiguration[] {
  return [
    functionConfigurationView(fn, { Version: latestQualifier, qualifiedArn: true }),
    ...publishedVersions(fn).map((version) => functionConfigurationView(fn, { Version: version.Version })),
  ];
}

/**
 * One page of ListVersionsByFunction: `$LATEST` first, then
 * `$LATEST.PUBLISHED`, then numbered versions by number, each with its
 * qualified FunctionArn. Throws InvalidParameterValueException for a bad
 * Marker or MaxItems (1–10000, default 50).
 */
export function listVersionsByFunction(
  fn: ExistingFunction,
  request: Pick<ListVersionsByFunctionRequest, 'Marker' | 'MaxItems'> = {},
): ListVersionsByFunctionResponse {
  const result = page(functionVersionViews(fn), (version) => versionSortKey(version.Version ?? latestQualifier), {
    marker: request.Marker,
    maxItems: request.MaxItems,
    range: maxItemsRanges.ListVersionsByFunction,
  });
  return { Versions: result.items, ...(result.nextMarker === undefined ? {} : { NextMarker: result.nextMarker }) };
}

/**
 * The ListFunctions items of one function: `$LATEST` with its unqualified ARN
 * or, with `FunctionVersion=ALL`, every version with its qualified ARN (as
 * {@link functionVersionViews}). Feed them, for all functions, to {@link listFunctions}.
 */
export function listedFunctionConfigurations(fn: ExistingFunction, FunctionVersion?: 'ALL'): FunctionConfiguration[] {
  return FunctionVersion === 'ALL' ? functionVersionViews(fn) : [functionConfigurationView(fn)];
}

// A space sorts before every character of a function name, so name order comes first, then version order.
function listKey(fn: FunctionConfiguration, allVersions: boolean): string {
  const name = fn.FunctionName ?? '';
  return allVersions ? `${name} ${versionSortKey(fn.Version ?? latestQualifier)}` : name;
}

/**
 * One page of ListFunctions over the account's functions, in name order and,
 * with `FunctionVersion=ALL`, in version order within a function (see
 * {@link listedFunctionConfigurations}). Throws InvalidParameterValueException
 * for a bad FunctionVersion, Marker or MaxItems (1–10000, default 50).
 */
export function listFunctions(functions: readonly FunctionConfiguration[], request: ListFunctionsRequest = {}): ListFunctionsResponse {
  const allVersions = isPresent(request.FunctionVersion) && checkEnum(request.FunctionVersion, 'FunctionVersion', ['ALL'] as const) === 'ALL';
  const sorted = [...functions].sort((a, b) => compareKeys(listKey(a, allVersions), listKey(b, allVersions)));
  const result = page(sorted, (fn) => listKey(fn, allVersions), {
    marker: request.Marker,
    maxItems: request.MaxItems,
    range: maxItemsRanges.ListFunctions,
  });
  return { Functions: result.items, ...(result.nextMarker === undefined ? {} : { NextMarker: result.nextMarker }) };
}
