/**
 * The function decider: which events a command on a function (its `$LATEST`
 * and its published versions) produces given the stream's state, or the exact
 * LambdaError when it is not allowed.
 *
 * Changing CapacityProviderConfig of an existing function, including its
 * CapacityProviderArn, is allowed: LocalStack (built with AWS) supports moving
 * `$LATEST` to another provider since PR #13702, and SAM only forbids adding or
 * removing the config, which Hearth cannot express anyway. Published versions
 * stay where they were published.
 *
 * Version lifecycle: PublishVersion (or Create / UpdateFunctionCode with
 * `Publish: true`) → Pending (reason Creating) → ActivateVersion → Active, or
 * FailVersion → Failed with a reason code; DeleteFunction with a Qualifier →
 * Deleting → CompleteVersionDeletion → gone (or, for a version Deactivating
 * after PutFunctionScalingConfig 0/0, → Deactivated). DeleteFunction of a function with
 * published versions → Deleting → CompleteFunctionDeletion → gone. The
 * workflow steps (Activate, Fail, Complete*) produce no events when they find
 * their target state already reached, so retried activities are harmless.
 */
import {
  FunctionVersionsPerCapacityProviderLimitExceededException,
  PreconditionFailedException,
  ResourceConflictException,
  ResourceNotFoundException,
} from '@hearth/errors';
import { functionArn, parseCapacityProviderArn, resolveFunctionName, type ArnScope } from '../arn.js';
import { capacityProviderExists, type CapacityProviderStreamState } from '../capacity-provider/state.js';
import type { DomainContext } from '../context.js';
import type { DomainCommand } from '../event.js';
import { sameValue } from '../same-value.js';
import type { Architecture } from '../shapes.js';
import { formatLambdaTimestamp } from '../time.js';
import { checkBoolean, checkEnum, checkObject, checkString, isPresent, reject, required, show } from '../validation.js';
import {
  applyEventInvokeConfigChanges,
  eventInvokeConfigFunctionMissingMessage,
  findEventInvokeConfig,
  noEventInvokeConfig,
  resolveEventInvokeConfigTarget,
  validateEventInvokeConfigChanges,
  type DestinationFacts,
  type FunctionEventInvokeConfigRequest,
  type PutFunctionEventInvokeConfigRequest,
  type UpdateFunctionEventInvokeConfigRequest,
} from './event-invoke-config.js';
import type { FunctionEvent, FunctionVersionPublished, PublishRequest } from './events.js';
import { decidePutFunctionScalingConfig, decideReportVersionScaling, type PutFunctionScalingConfigRequest, type VersionScalingReport } from './scaling-config.js';
import type {
  CreateFunctionRequest,
  DeleteFunctionRequest,
  PublishVersionRequest,
  State,
  UpdateFunctionCodeRequest,
  UpdateFunctionConfigurationRequest,
} from './shapes.js';
import { evolveFunction, functionExists, initialFunctionState, type ExistingFunction, type FunctionStreamState } from './state.js';
import {
  changeableFunctionMembers,
  validateArchitectures,
  validateCreateFunction,
  validateDescription,
  validatePublishTo,
  validateUpdateFunctionConfiguration,
  type CodeRef,
  type FunctionChanges,
} from './validate.js';
import {
  capacityProviderArnOf,
  findVersion,
  isPublishedQualifier,
  latestPublishedQualifier,
  latestPublishedVersion,
  latestQualifier,
  managedInstancesReasonCodes,
  nextVersionNumber,
  publishedVersions,
  versionInProgress,
  type FunctionVersionRecord,
  type ManagedInstancesReasonCode,
} from './versions.js';

/**
 * Create a function. The caller has validated and stored the package (`code`)
 * and loaded the stream of the capacity provider that CapacityProviderArn
 * names (undefined when the request names none or the ARN is malformed).
 */
export type CreateFunction = DomainCommand<
  'CreateFunction',
  {
    readonly request: CreateFunctionRequest;
    readonly code: CodeRef;
    readonly capacityProvider: CapacityProviderStreamState | undefined;
    /**
     * Published versions the capacity provider already carries, across all
     * functions (the quota's count). Needed only when the request has
     * `Publish: true`; publishing without it is a wiring error (a plain Error).
     * Default: not counted.
     */
    readonly functionVersionCount?: number;
  }
>;

/**
 * Replace `$LATEST`'s code. `capacityProvider` is the function's current
 * provider; it is needed when the request changes Architectures or publishes.
 */
export type UpdateFunctionCode = DomainCommand<
  'UpdateFunctionCode',
  {
    readonly request: UpdateFunctionCodeRequest;
    readonly code: CodeRef;
    /** Default: not loaded. */
    readonly capacityProvider?: CapacityProviderStreamState;
    /** As {@link CreateFunction}'s: needed only with `Publish: true`. Default: not counted. */
    readonly functionVersionCount?: number;
  }
>;

/**
 * Change `$LATEST`'s configuration. `capacityProvider` is the provider the
 * request's CapacityProviderArn names; it is needed only when the request
 * gives CapacityProviderConfig.
 */
export type UpdateFunctionConfiguration = DomainCommand<
  'UpdateFunctionConfiguration',
  {
    readonly request: UpdateFunctionConfigurationRequest;
    /** Default: not loaded. */
    readonly capacityProvider?: CapacityProviderStreamState;
  }
>;

/**
 * Delete the function, or with a Qualifier (a version number or
 * `$LATEST.PUBLISHED`) one published version: the DeleteVersion of issue #3.
 * A function without published versions is deleted at once; otherwise it, or
 * the version, is Deleting until the workflow completes the deletion.
 */
export type DeleteFunction = DomainCommand<'DeleteFunction', { readonly request: DeleteFunctionRequest }>;

/**
 * Publish `$LATEST` as a numbered version or as `$LATEST.PUBLISHED`. The
 * caller loads the capacity provider `$LATEST` names and counts the published
 * versions it already carries, across all functions.
 */
export type PublishVersion = DomainCommand<
  'PublishVersion',
  {
    readonly request: PublishVersionRequest;
    readonly capacityProvider: CapacityProviderStreamState | undefined;
    readonly functionVersionCount: number;
  }
>;

/**
 * The version's execution environments are up: Pending → Active (or an
 * updating `$LATEST.PUBLISHED` → Successful). `RevisionId`, when given, is the
 * version's RevisionId the workflow started for; a different one means the
 * version was republished since and the step is moot (no events).
 */
export type ActivateVersion = DomainCommand<
  'ActivateVersion',
  {
    readonly FunctionName: string;
    readonly Version: string;
    /** Default: not checked. */
    readonly RevisionId?: string;
  }
>;

/** Making the version real capacity failed: Pending → Failed with a Lambda reason code. `RevisionId` as in {@link ActivateVersion}. */
export type FailVersion = DomainCommand<
  'FailVersion',
  {
    readonly FunctionName: string;
    readonly Version: string;
    /** One of {@link managedInstancesReasonCodes}. */
    readonly StateReasonCode: ManagedInstancesReasonCode;
    /** What went wrong, for the caller of GetFunction. */
    readonly StateReason: string;
    /** Default: not checked. */
    readonly RevisionId?: string;
  }
>;

/** The execution environments of a Deleting version are gone: remove it. */
export type CompleteVersionDeletion = DomainCommand<'CompleteVersionDeletion', { readonly FunctionName: string; readonly Version: string }>;

/** The execution environments of a Deleting function's versions are gone: remove the function. */
export type CompleteFunctionDeletion = DomainCommand<'CompleteFunctionDeletion', { readonly FunctionName: string }>;

/**
 * Replace the asynchronous invocation settings of `$LATEST` (unqualified),
 * `$LATEST.PUBLISHED` or a version number. The caller loads whether each
 * function a destination names exists ({@link destinationFunctionNames}).
 */
export type PutFunctionEventInvokeConfig = DomainCommand<
  'PutFunctionEventInvokeConfig',
  DestinationFacts & { readonly request: PutFunctionEventInvokeConfigRequest }
>;

/** Change some asynchronous invocation settings of an existing configuration; facts as {@link PutFunctionEventInvokeConfig}. */
export type UpdateFunctionEventInvokeConfig = DomainCommand<
  'UpdateFunctionEventInvokeConfig',
  DestinationFacts & { readonly request: UpdateFunctionEventInvokeConfigRequest }
>;

/** Remove a qualifier's asynchronous invocation settings. */
export type DeleteFunctionEventInvokeConfig = DomainCommand<
  'DeleteFunctionEventInvokeConfig',
  { readonly request: FunctionEventInvokeConfigRequest }
>;

/**
 * PutFunctionScalingConfig on `$LATEST.PUBLISHED` or a version number: records
 * the config; min = max = 0 on an Active version starts its deactivation, a
 * non-zero config on a Deactivated version its reactivation (see
 * {@link decidePutFunctionScalingConfig}).
 */
export type PutFunctionScalingConfig = DomainCommand<'PutFunctionScalingConfig', { readonly request: PutFunctionScalingConfigRequest }>;

/**
 * The scaler's report on an Active version after a step: confirms the
 * Requested scaling config once the fleet is within it, and sets or clears
 * the capacity-limit reason (see {@link decideReportVersionScaling}).
 */
export type ReportVersionScaling = DomainCommand<'ReportVersionScaling', VersionScalingReport & { readonly FunctionName: string }>;

/** Every function command. */
export type FunctionCommand =
  | CreateFunction
  | UpdateFunctionCode
  | UpdateFunctionConfiguration
  | DeleteFunction
  | PublishVersion
  | ActivateVersion
  | FailVersion
  | CompleteVersionDeletion
  | CompleteFunctionDeletion
  | PutFunctionEventInvokeConfig
  | UpdateFunctionEventInvokeConfig
  | DeleteFunctionEventInvokeConfig
  | PutFunctionScalingConfig
  | ReportVersionScaling;

/** What a command decided: the events to append and the version the caller's response shows. */
export interface FunctionDecision {
  /** Events to append in one append; none when there is nothing to do. */
  readonly events: FunctionEvent[];
  /**
   * The version whose configuration the response shows: the one published, or
   * the existing one an unchanged publish returns (PublishVersion, and
   * Create / UpdateFunctionCode with `Publish: true`). Absent: `$LATEST`.
   */
  readonly version?: string;
}

/** The ResourceNotFoundException Lambda answers for a missing function: `Function not found: <arn>`. */
export function functionNotFound(name: string, scope: ArnScope, qualifier?: string): ResourceNotFoundException {
  return new ResourceNotFoundException(`Function not found: ${functionArn(scope, name, qualifier)}`);
}

/** Lambda's message when a RevisionId no longer matches. */
export const revisionMismatchMessage =
  'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id';

/**
 * Lambda's ResourceConflictException for a function or version whose state
 * forbids the call: `The operation cannot be performed at this time. The
 * function is currently in the following state: <State>`; `reason` carries the
 * StateReasonCode when there is one.
 */
export function functionStateConflict(state: State, reasonCode?: string): ResourceConflictException {
  return new ResourceConflictException(
    `The operation cannot be performed at this time. The function is currently in the following state: ${state}`,
    reasonCode === undefined ? {} : { reason: reasonCode },
  );
}

/** Lambda's ResourceConflictException while a resource is being updated. */
export function updateInProgress(arn: string): ResourceConflictException {
  return new ResourceConflictException(`The operation cannot be performed at this time. An update is in progress for resource: ${arn}`);
}

function requireExisting(state: FunctionStreamState, name: string, scope: ArnScope): ExistingFunction {
  if (!functionExists(state)) throw functionNotFound(name, scope);
  return state;
}

// $LATEST can't change, nor be published, while the function is being deleted.
function requireChangeable(state: FunctionStreamState, name: string, scope: ArnScope): ExistingFunction {
  const current = requireExisting(state, name, scope);
  if (current.status === 'Deleting') throw functionStateConflict('Deleting');
  return current;
}

function requireRevision(revisionId: unknown, current: ExistingFunction): void {
  if (isPresent(revisionId) && revisionId !== current.RevisionId) throw new PreconditionFailedException(revisionMismatchMessage);
}

// Only $LATEST has a configuration and code to change; published versions are immutable.
function latestName(functionName: unknown, scope: ArnScope): string {
  const parts = resolveFunctionName(required(functionName, 'FunctionName'), undefined, scope);
  if (parts.qualifier !== undefined && parts.qualifier !== latestQualifier) {
    reject(`FunctionName ${show(functionName)} names version or alias ${parts.qualifier} (allowed: the unqualified function, whose $LATEST is changed)`);
  }
  return parts.name;
}

function publishRequest(body: Record<string, unknown>): PublishRequest {
  const Publish = isPresent(body.Publish) ? checkBoolean(body.Publish, 'Publish') : undefined;
  const PublishTo = isPresent(body.PublishTo) ? validatePublishTo(body.PublishTo) : undefined;
  return { ...(Publish === undefined ? {} : { Publish }), ...(PublishTo === undefined ? {} : { PublishTo }) };
}

function codeArchitectures(body: Record<string, unknown>, current: ExistingFunction, provider: CapacityProviderStreamState | undefined): [Architecture] {
  if (!isPresent(body.Architectures)) return current.configuration.Architectures;
  const arn = capacityProviderArnOf(current.configuration);
  if (provider === undefined || !capacityProviderExists(provider)) {
    reject(`The capacity provider ${arn} of this function does not exist, so Architectures can't be checked against it`);
  }
  return validateArchitectures(body.Architectures, provider);
}

function changedMembers(changes: FunctionChanges, current: ExistingFunction): FunctionChanges {
  const changed: Record<string, unknown> = {};
  for (const member of changeableFunctionMembers) {
    const next = changes[member];
    if (next !== undefined && !sameValue(next, current.configuration[member])) changed[member] = next;
  }
  return changed as FunctionChanges;
}

/** What a publication needs besides `$LATEST`. */
interface Publication {
  /** `$LATEST.PUBLISHED` when PublishTo is `LATEST_PUBLISHED`, else a new number. */
  readonly target: 'numbered' | 'latestPublished';
  /** PublishVersion's Description; default `$LATEST`'s. */
  readonly Description?: string;
  readonly capacityProvider: CapacityProviderStreamState | undefined;
  readonly functionVersionCount: number | undefined;
}

// Lambda publishes nothing when code and configuration are those of the version it would replace.
function unchangedSince(version: FunctionVersionRecord, fn: ExistingFunction): boolean {
  return version.code.sha256Hex === fn.code.sha256Hex && sameValue(version.configuration, fn.configuration);
}

function requirePublishingProvider(fn: ExistingFunction, provider: CapacityProviderStreamState | undefined): void {
  const arn = capacityProviderArnOf(fn.configuration);
  const name = fn.configuration.FunctionName;
  // The caller must load the provider to publish: a missing one is a wiring bug, not a user error.
  if (provider === undefined) throw new Error(`capacity provider ${arn} was not loaded to publish a version of function ${name}`);
  if (!capacityProviderExists(provider)) {
    throw new ResourceConflictException(
      `Capacity provider ${arn} of function ${name} does not exist, so no version can be published (allowed: a capacity provider in state Active)`,
    );
  }
  if (provider.CapacityProviderArn !== arn) throw new Error(`capacity provider state of ${provider.CapacityProviderArn} was passed for ${arn}`);
  if (provider.status !== 'Active') {
    throw new ResourceConflictException(
      `Capacity provider ${arn} of function ${name} is ${provider.status}, so no version can be published (allowed: a capacity provider in state Active)`,
    );
  }
}

function requireVersionQuota(fn: ExistingFunction, count: number | undefined, ctx: DomainContext): void {
  const arn = capacityProviderArnOf(fn.configuration);
  if (count === undefined) throw new Error(`the function versions of capacity provider ${arn} were not counted to publish a version`);
  const limit = ctx.limits.functionVersionsPerCapacityProvider;
  if (count >= limit) {
    const provider = parseCapacityProviderArn(arn)?.name ?? arn;
    throw new FunctionVersionsPerCapacityProviderLimitExceededException(
      `Capacity provider ${provider} already carries ${count} function versions (allowed: at most ${limit} function versions per capacity provider)`,
    );
  }
}

/**
 * Publishes `fn`'s `$LATEST`. Numbered: a new number, unless the latest
 * numbered version has the same code and configuration, which is returned
 * instead. `$LATEST.PUBLISHED`: created, or its snapshot replaced; an
 * unchanged one is returned unless its last publication failed (a retry), and
 * one whose publication is still in progress or that is being deleted is a
 * conflict. Only a version that takes a new place on the provider counts
 * against the quota.
 */
function publish(fn: ExistingFunction, publication: Publication, ctx: DomainContext, LastModified: string): FunctionDecision {
  const providerArn = capacityProviderArnOf(fn.configuration);
  let Version: string;
  let takesNewPlace = true;
  if (publication.target === 'numbered') {
    const last = latestPublishedVersion(fn);
    if (last !== undefined && unchangedSince(last, fn)) return { events: [], version: last.Version };
    Version = String(nextVersionNumber(fn));
  } else {
    Version = latestPublishedQualifier;
    const current = findVersion(fn, Version);
    if (current !== undefined) {
      const lastFailed = current.State === 'Failed' || current.LastUpdateStatus === 'Failed';
      if (current.State !== 'Deleting' && !lastFailed && unchangedSince(current, fn)) return { events: [], version: Version };
      if (current.State === 'Deleting') throw functionStateConflict('Deleting');
      // The teardown of a deactivation owns its environments until it is Deactivated.
      if (current.State === 'Deactivating') throw functionStateConflict('Deactivating');
      if (versionInProgress(current)) throw updateInProgress(`${fn.configuration.FunctionArn}:${Version}`);
      // Republishing onto another provider (after $LATEST moved) takes a place there.
      takesNewPlace = capacityProviderArnOf(current.configuration) !== providerArn;
    }
  }
  requirePublishingProvider(fn, publication.capacityProvider);
  if (takesNewPlace) requireVersionQuota(fn, publication.functionVersionCount, ctx);
  const event: FunctionVersionPublished = {
    type: 'FunctionVersionPublished',
    data: {
      Version,
      configuration: fn.configuration,
      code: fn.code,
      Description: publication.Description ?? fn.configuration.Description,
      RevisionId: ctx.newId(),
      LastModified,
    },
  };
  return { events: [event], version: Version };
}

function publicationTarget(PublishTo: unknown): Publication['target'] {
  return PublishTo === undefined ? 'numbered' : 'latestPublished';
}

// A published version of an existing function, for the workflow steps.
function requireVersion(state: FunctionStreamState, name: string, version: string, scope: ArnScope): FunctionVersionRecord {
  if (!functionExists(state)) throw functionNotFound(name, scope, version);
  const record = findVersion(state, version);
  if (record === undefined) throw functionNotFound(state.configuration.FunctionName, scope, version);
  return record;
}

function versionConflict(name: string, record: FunctionVersionRecord, target: string, allowedFrom: string): ResourceConflictException {
  return new ResourceConflictException(
    `Version ${record.Version} of function ${name} is ${record.State} and can't become ${target} (allowed from: ${allowedFrom})`,
  );
}

function decideDelete(request: DeleteFunctionRequest, state: FunctionStreamState, ctx: DomainContext, LastModified: string): FunctionEvent[] {
  const parts = resolveFunctionName(required(request.FunctionName, 'FunctionName'), request.Qualifier, ctx);
  if (!functionExists(state)) throw functionNotFound(parts.name, ctx, parts.qualifier);
  const qualifier = parts.qualifier;
  if (qualifier === latestQualifier) reject('$LATEST version cannot be deleted without deleting the function.');
  if (qualifier !== undefined) {
    const version = isPublishedQualifier(qualifier) ? findVersion(state, qualifier) : undefined;
    // Hearth has no aliases, so any other qualifier names nothing.
    if (version === undefined) throw functionNotFound(parts.name, ctx, qualifier);
    if (version.State === 'Deleting' || state.status === 'Deleting') return [];
    return [{ type: 'FunctionVersionDeletionStarted', data: { Version: qualifier } }];
  }
  if (state.status === 'Deleting') return [];
  const FunctionArn = state.configuration.FunctionArn;
  // Published versions own execution environments that a workflow must tear down first.
  if (publishedVersions(state).length > 0) return [{ type: 'FunctionDeletionStarted', data: { FunctionArn, LastModified } }];
  return [{ type: 'FunctionDeleted', data: { FunctionArn, LastModified } }];
}

/**
 * Put / Update of an EventInvokeConfig, in Lambda's order: request members
 * (at least one setting, ranges, destinations) → the function and qualifier
 * exist (`The function doesn't exist.`) → not being deleted → (Update) a
 * configuration exists (`The function <arn> doesn't have an EventInvokeConfig`).
 */
function decideEventInvokeConfigChange(
  command: PutFunctionEventInvokeConfig | UpdateFunctionEventInvokeConfig,
  state: FunctionStreamState,
  ctx: DomainContext,
): FunctionEvent[] {
  const body = checkObject(command.data.request, 'request');
  const target = resolveEventInvokeConfigTarget(state, body as unknown as FunctionEventInvokeConfigRequest, ctx);
  const changes = validateEventInvokeConfigChanges(body, target.name, ctx, command.data);
  if (target.fn === undefined || !target.qualifierExists) throw new ResourceNotFoundException(eventInvokeConfigFunctionMissingMessage);
  if (target.fn.status === 'Deleting') throw functionStateConflict('Deleting');
  const { Qualifier } = target;
  const LastModified = ctx.now.toISOString();
  if (command.type === 'PutFunctionEventInvokeConfig') {
    return [{ type: 'FunctionEventInvokeConfigPut', data: { Qualifier, config: applyEventInvokeConfigChanges(undefined, changes, LastModified) } }];
  }
  const current = findEventInvokeConfig(target.fn, Qualifier);
  if (current === undefined) throw noEventInvokeConfig(functionArn(ctx, target.name, Qualifier));
  return [{ type: 'FunctionEventInvokeConfigUpdated', data: { Qualifier, config: applyEventInvokeConfigChanges(current, changes, LastModified) } }];
}

/** Delete of an EventInvokeConfig: one that does not exist is `The function <arn> doesn't have an EventInvokeConfig`. */
function decideEventInvokeConfigDeletion(command: DeleteFunctionEventInvokeConfig, state: FunctionStreamState, ctx: DomainContext): FunctionEvent[] {
  const target = resolveEventInvokeConfigTarget(state, command.data.request, ctx);
  if (target.fn === undefined || findEventInvokeConfig(target.fn, target.Qualifier) === undefined) {
    throw noEventInvokeConfig(functionArn(ctx, target.name, target.Qualifier));
  }
  return [{ type: 'FunctionEventInvokeConfigDeleted', data: { Qualifier: target.Qualifier } }];
}

/**
 * Decides a function command and says which version the response shows.
 * Throws InvalidParameterValueException (bad request, CodeSha256 mismatch),
 * ResourceConflictException (`Function already exist: <name>`, a state that
 * forbids the command), ResourceNotFoundException (`Function not found:
 * <arn>`), PreconditionFailedException (stale RevisionId) or
 * FunctionVersionsPerCapacityProviderLimitExceededException.
 */
export function decideFunctionResult(command: FunctionCommand, state: FunctionStreamState, ctx: DomainContext): FunctionDecision {
  const LastModified = formatLambdaTimestamp(ctx.now);
  switch (command.type) {
    case 'CreateFunction': {
      const { request, code, capacityProvider } = command.data;
      const body = checkObject(request, 'request');
      const parts = resolveFunctionName(required(body.FunctionName, 'FunctionName'), undefined, ctx);
      if (parts.qualifier !== undefined) {
        reject(`FunctionName ${show(body.FunctionName)} has a qualifier (allowed: an unqualified function name or ARN)`);
      }
      const validated = validateCreateFunction(body, parts.name, ctx, capacityProvider);
      if (functionExists(state)) throw new ResourceConflictException(`Function already exist: ${parts.name}`);
      const created: FunctionEvent = {
        type: 'FunctionCreated',
        data: {
          configuration: validated.definition,
          code,
          Tags: validated.Tags,
          RevisionId: ctx.newId(),
          LastModified,
          ...(validated.Publish === undefined ? {} : { Publish: validated.Publish }),
          ...(validated.PublishTo === undefined ? {} : { PublishTo: validated.PublishTo }),
        },
      };
      if (validated.Publish !== true) return { events: [created] };
      const fn = requireExisting(evolveFunction(initialFunctionState, created), parts.name, ctx);
      const published = publish(
        fn,
        { target: publicationTarget(validated.PublishTo), capacityProvider, functionVersionCount: command.data.functionVersionCount },
        ctx,
        LastModified,
      );
      return { events: [created, ...published.events], ...(published.version === undefined ? {} : { version: published.version }) };
    }
    case 'UpdateFunctionCode': {
      const body = checkObject(command.data.request, 'request');
      const current = requireChangeable(state, latestName(body.FunctionName, ctx), ctx);
      requireRevision(body.RevisionId, current);
      if (isPresent(body.ImageUri)) reject('ImageUri is not supported for Lambda Managed Instances functions in Hearth (allowed: ZipFile)');
      const Architectures = codeArchitectures(body, current, command.data.capacityProvider);
      const flags = publishRequest(body);
      if (isPresent(body.DryRun) && checkBoolean(body.DryRun, 'DryRun')) return { events: [] };
      const updated: FunctionEvent = {
        type: 'FunctionCodeUpdated',
        data: { code: command.data.code, Architectures, RevisionId: ctx.newId(), LastModified, ...flags },
      };
      if (flags.Publish !== true) return { events: [updated] };
      const fn = requireExisting(evolveFunction(current, updated), current.configuration.FunctionName, ctx);
      const published = publish(
        fn,
        {
          target: publicationTarget(flags.PublishTo),
          capacityProvider: command.data.capacityProvider,
          functionVersionCount: command.data.functionVersionCount,
        },
        ctx,
        LastModified,
      );
      return { events: [updated, ...published.events], ...(published.version === undefined ? {} : { version: published.version }) };
    }
    case 'UpdateFunctionConfiguration': {
      const body = checkObject(command.data.request, 'request');
      const current = requireChangeable(state, latestName(body.FunctionName, ctx), ctx);
      requireRevision(body.RevisionId, current);
      const validated = validateUpdateFunctionConfiguration(body, current.configuration, ctx, command.data.capacityProvider);
      const changes = changedMembers(validated, current);
      if (Object.keys(changes).length === 0) return { events: [] };
      return { events: [{ type: 'FunctionConfigurationUpdated', data: { changes, RevisionId: ctx.newId(), LastModified } }] };
    }
    case 'DeleteFunction':
      return { events: decideDelete(command.data.request, state, ctx, LastModified) };
    case 'PublishVersion': {
      const body = checkObject(command.data.request, 'request');
      const name = latestName(body.FunctionName, ctx);
      // An empty CodeSha256 checks nothing, as in Lambda.
      const CodeSha256 = isPresent(body.CodeSha256) && body.CodeSha256 !== '' ? checkString(body.CodeSha256, 'CodeSha256') : undefined;
      const Description = isPresent(body.Description) ? validateDescription(body.Description) : undefined;
      if (isPresent(body.RevisionId)) checkString(body.RevisionId, 'RevisionId');
      const PublishTo = isPresent(body.PublishTo) ? validatePublishTo(body.PublishTo) : undefined;
      const current = requireChangeable(state, name, ctx);
      requireRevision(body.RevisionId, current);
      if (CodeSha256 !== undefined && CodeSha256 !== current.code.CodeSha256) {
        reject(
          `CodeSHA256 (${CodeSha256}) is different from current CodeSHA256 in $LATEST (${current.code.CodeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
        );
      }
      return publish(
        current,
        {
          target: publicationTarget(PublishTo),
          ...(Description === undefined ? {} : { Description }),
          capacityProvider: command.data.capacityProvider,
          functionVersionCount: command.data.functionVersionCount,
        },
        ctx,
        LastModified,
      );
    }
    case 'ActivateVersion': {
      const { FunctionName, Version, RevisionId } = command.data;
      const version = requireVersion(state, FunctionName, Version, ctx);
      if (RevisionId !== undefined && RevisionId !== version.RevisionId) return { events: [] };
      const deleting = state.status === 'Deleting' || version.State === 'Deleting';
      if (!deleting && versionInProgress(version)) return { events: [{ type: 'FunctionVersionActivated', data: { Version, LastModified } }] };
      if (!deleting && version.State === 'Active') return { events: [] };
      throw versionConflict(FunctionName, deleting ? { ...version, State: 'Deleting' } : version, 'Active', 'Pending, or Active while updating');
    }
    case 'FailVersion': {
      const { FunctionName, Version, RevisionId, StateReason } = command.data;
      const StateReasonCode = checkEnum(command.data.StateReasonCode, 'StateReasonCode', managedInstancesReasonCodes);
      checkString(StateReason, 'StateReason', { min: 1 });
      const version = requireVersion(state, FunctionName, Version, ctx);
      if (RevisionId !== undefined && RevisionId !== version.RevisionId) return { events: [] };
      const deleting = state.status === 'Deleting' || version.State === 'Deleting';
      if (!deleting && versionInProgress(version)) {
        return { events: [{ type: 'FunctionVersionFailed', data: { Version, StateReasonCode, StateReason, LastModified } }] };
      }
      if (!deleting && (version.State === 'Failed' || version.LastUpdateStatus === 'Failed')) return { events: [] };
      throw versionConflict(FunctionName, deleting ? { ...version, State: 'Deleting' } : version, 'Failed', 'Pending, or Active while updating');
    }
    case 'CompleteVersionDeletion': {
      const { FunctionName, Version } = command.data;
      if (!functionExists(state)) return { events: [] };
      const version = findVersion(state, Version);
      if (version === undefined) return { events: [] };
      // A teardown of a deactivation (min = max = 0) ends Deactivated, not deleted; a retried one appends nothing.
      if (state.status !== 'Deleting' && version.State === 'Deactivating') {
        return { events: [{ type: 'FunctionVersionDeactivated', data: { Version, LastModified } }] };
      }
      if (state.status !== 'Deleting' && version.State === 'Deactivated') return { events: [] };
      if (version.State !== 'Deleting' && state.status !== 'Deleting') {
        throw new ResourceConflictException(`Version ${Version} of function ${FunctionName} is ${version.State}; its deletion has not started`);
      }
      return { events: [{ type: 'FunctionVersionDeleted', data: { Version } }] };
    }
    case 'PutFunctionEventInvokeConfig':
    case 'UpdateFunctionEventInvokeConfig':
      return { events: decideEventInvokeConfigChange(command, state, ctx) };
    case 'DeleteFunctionEventInvokeConfig':
      return { events: decideEventInvokeConfigDeletion(command, state, ctx) };
    case 'PutFunctionScalingConfig': {
      const events = decidePutFunctionScalingConfig(command.data.request, state, ctx);
      const version = events[0]?.data && 'Version' in events[0].data ? (events[0].data.Version as string) : undefined;
      return { events, ...(version === undefined ? {} : { version }) };
    }
    case 'ReportVersionScaling':
      return { events: decideReportVersionScaling(command.data, state) };
    case 'CompleteFunctionDeletion': {
      if (!functionExists(state)) return { events: [] };
      if (state.status !== 'Deleting') {
        throw new ResourceConflictException(`Function ${command.data.FunctionName} is not being deleted; its deletion has not started`);
      }
      return { events: [{ type: 'FunctionDeleted', data: { FunctionArn: state.configuration.FunctionArn, LastModified } }] };
    }
  }
}

/**
 * Decides a function command: the events of {@link decideFunctionResult}
 * without the version to show. Throws what {@link decideFunctionResult} throws.
 */
export function decideFunction(command: FunctionCommand, state: FunctionStreamState, ctx: DomainContext): FunctionEvent[] {
  return decideFunctionResult(command, state, ctx).events;
}
