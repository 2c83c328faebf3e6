/**
 * The function decider: which events a command on a function's `$LATEST`
 * produces given the stream's state, or the exact LambdaError when it is not
 * allowed. Version publishing is a later concern; Publish and PublishTo are
 * validated and recorded in the events only.
 *
 * Changing CapacityProviderConfig of an existing function, including its
 * CapacityProviderArn, is allowed: LocalStack (built with AWS) supports moving
 * `$LATEST` to another provider since PR #13702, and SAM only forbids adding or
 * removing the config, which Hearth cannot express anyway. Published versions,
 * once they exist, stay where they were published.
 */
import { PreconditionFailedException, ResourceConflictException, ResourceNotFoundException } from '@hearth/errors';
import { functionArn, resolveFunctionName, type ArnScope } from '../arn.js';
import { capacityProviderExists, type CapacityProviderStreamState } from '../capacity-provider/state.js';
import type { DomainContext } from '../context.js';
import type { DomainCommand } from '../event.js';
import { sameValue } from '../same-value.js';
import type { Architecture } from '../shapes.js';
import { formatLambdaTimestamp } from '../time.js';
import { checkBoolean, checkObject, isPresent, reject, required, show } from '../validation.js';
import type { FunctionEvent, PublishRequest } from './events.js';
import type {
  CreateFunctionRequest,
  DeleteFunctionRequest,
  UpdateFunctionCodeRequest,
  UpdateFunctionConfigurationRequest,
} from './shapes.js';
import { functionExists, type ExistingFunction, type FunctionStreamState } from './state.js';
import {
  changeableFunctionMembers,
  validateArchitectures,
  validateCreateFunction,
  validatePublishTo,
  validateUpdateFunctionConfiguration,
  type CodeRef,
  type FunctionChanges,
} from './validate.js';

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
  }
>;

/**
 * Replace `$LATEST`'s code. `capacityProvider` is the function's current
 * provider; it is needed only when the request changes Architectures.
 */
export type UpdateFunctionCode = DomainCommand<
  'UpdateFunctionCode',
  {
    readonly request: UpdateFunctionCodeRequest;
    readonly code: CodeRef;
    /** Default: not loaded. */
    readonly capacityProvider?: CapacityProviderStreamState;
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

/** Delete the function (unqualified). Deleting single versions comes with publishing. */
export type DeleteFunction = DomainCommand<'DeleteFunction', { readonly request: DeleteFunctionRequest }>;

/** Every function command. */
export type FunctionCommand = CreateFunction | UpdateFunctionCode | UpdateFunctionConfiguration | DeleteFunction;

/** The ResourceNotFoundException Lambda answers for a missing function: `Function not found: <arn>`. */
export function functionNotFound(name: string, scope: ArnScope, qualifier?: string): ResourceNotFoundException {
  return new ResourceNotFoundException(`Function not found: ${functionArn(scope, name, qualifier)}`);
}

/** Lambda's message when a RevisionId no longer matches. */
export const revisionMismatchMessage =
  'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id';

function requireExisting(state: FunctionStreamState, name: string, scope: ArnScope): ExistingFunction {
  if (!functionExists(state)) throw functionNotFound(name, scope);
  return state;
}

function requireRevision(revisionId: unknown, current: ExistingFunction): void {
  if (isPresent(revisionId) && revisionId !== current.RevisionId) throw new PreconditionFailedException(revisionMismatchMessage);
}

// Only $LATEST has a configuration and code to change; published versions are immutable.
function latestName(functionName: unknown, scope: ArnScope): string {
  const parts = resolveFunctionName(required(functionName, 'FunctionName'), undefined, scope);
  if (parts.qualifier !== undefined && parts.qualifier !== '$LATEST') {
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
  const arn = current.configuration.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig.CapacityProviderArn;
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

/**
 * Decides a function command. Throws InvalidParameterValueException (bad
 * request), ResourceConflictException (`Function already exist: <name>`),
 * ResourceNotFoundException (`Function not found: <arn>`) or
 * PreconditionFailedException (stale RevisionId).
 */
export function decideFunction(command: FunctionCommand, state: FunctionStreamState, ctx: DomainContext): FunctionEvent[] {
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
      return [
        {
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
        },
      ];
    }
    case 'UpdateFunctionCode': {
      const body = checkObject(command.data.request, 'request');
      const current = requireExisting(state, latestName(body.FunctionName, ctx), ctx);
      requireRevision(body.RevisionId, current);
      if (isPresent(body.ImageUri)) reject('ImageUri is not supported for Lambda Managed Instances functions in Hearth (allowed: ZipFile)');
      const Architectures = codeArchitectures(body, current, command.data.capacityProvider);
      const publish = publishRequest(body);
      if (isPresent(body.DryRun) && checkBoolean(body.DryRun, 'DryRun')) return [];
      return [
        {
          type: 'FunctionCodeUpdated',
          data: { code: command.data.code, Architectures, RevisionId: ctx.newId(), LastModified, ...publish },
        },
      ];
    }
    case 'UpdateFunctionConfiguration': {
      const body = checkObject(command.data.request, 'request');
      const current = requireExisting(state, latestName(body.FunctionName, ctx), ctx);
      requireRevision(body.RevisionId, current);
      const validated = validateUpdateFunctionConfiguration(body, current.configuration, ctx, command.data.capacityProvider);
      const changes = changedMembers(validated, current);
      if (Object.keys(changes).length === 0) return [];
      return [{ type: 'FunctionConfigurationUpdated', data: { changes, RevisionId: ctx.newId(), LastModified } }];
    }
    case 'DeleteFunction': {
      const request = command.data.request;
      const parts = resolveFunctionName(required(request.FunctionName, 'FunctionName'), request.Qualifier, ctx);
      if (!functionExists(state)) throw functionNotFound(parts.name, ctx, parts.qualifier);
      if (parts.qualifier === '$LATEST') reject('$LATEST version cannot be deleted without deleting the function.');
      // No published versions exist until publishing is implemented, so any other qualifier names nothing.
      if (parts.qualifier !== undefined) throw functionNotFound(parts.name, ctx, parts.qualifier);
      return [{ type: 'FunctionDeleted', data: { FunctionArn: state.configuration.FunctionArn, LastModified } }];
    }
  }
}
