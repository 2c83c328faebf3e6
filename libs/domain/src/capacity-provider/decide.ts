/**
 * The capacity provider decider: which events a command produces given the
 * stream's state, or the exact LambdaError when the command is not allowed.
 *
 * Lifecycle: Create → Pending → Activate → Active (or Fail → Failed);
 * StartDeletion → Deleting → CompleteDeletion → absent, after which the name
 * may be created again. Commands that find the state already reached (Activate
 * on Active, StartDeletion on Deleting, CompleteDeletion on a deleted stream)
 * produce no events, so that retried workflow steps are harmless.
 */
import { CapacityProviderLimitExceededException, ResourceConflictException, ResourceNotFoundException } from '@hearth/errors';
import { capacityProviderArn, parseCapacityProviderName } from '../arn.js';
import type { DomainContext } from '../context.js';
import type { DomainCommand } from '../event.js';
import { sameValue } from '../same-value.js';
import { formatLambdaTimestamp } from '../time.js';
import type { CapacityProviderEvent } from './events.js';
import type { CreateCapacityProviderRequest, UpdateCapacityProviderRequest } from './shapes.js';
import { capacityProviderExists, type CapacityProviderStreamState, type ExistingCapacityProvider } from './state.js';
import {
  updatableCapacityProviderMembers,
  validateCreateCapacityProvider,
  validateUpdateCapacityProvider,
  type CapacityProviderChanges,
} from './validate.js';

/** Create a provider. The caller counts the account's existing providers (for the quota). */
export type CreateCapacityProvider = DomainCommand<
  'CreateCapacityProvider',
  { readonly request: CreateCapacityProviderRequest; readonly capacityProviderCount: number }
>;
/** Mark a Pending provider Active (the fleet side is ready). */
export type ActivateCapacityProvider = DomainCommand<'ActivateCapacityProvider', { readonly CapacityProviderName: string }>;
/** Mark a Pending provider Failed, with the reason. */
export type FailCapacityProvider = DomainCommand<
  'FailCapacityProvider',
  { readonly CapacityProviderName: string; readonly reason: string }
>;
/** Change scaling, tag propagation or telemetry. */
export type UpdateCapacityProvider = DomainCommand<'UpdateCapacityProvider', { readonly request: UpdateCapacityProviderRequest }>;
/**
 * Begin deleting. The caller passes how many function versions use the
 * provider and, to name them in the error, optionally their ARNs.
 */
export type StartCapacityProviderDeletion = DomainCommand<
  'StartCapacityProviderDeletion',
  {
    readonly CapacityProviderName: string;
    readonly attachedFunctionVersions: number;
    /** Default: none named. */
    readonly attachedFunctionVersionArns?: readonly string[];
  }
>;
/** Finish deleting once the provider's instances are released. */
export type CompleteCapacityProviderDeletion = DomainCommand<
  'CompleteCapacityProviderDeletion',
  { readonly CapacityProviderName: string }
>;

/** Every capacity provider command. */
export type CapacityProviderCommand =
  | CreateCapacityProvider
  | ActivateCapacityProvider
  | FailCapacityProvider
  | UpdateCapacityProvider
  | StartCapacityProviderDeletion
  | CompleteCapacityProviderDeletion;

/** The ResourceNotFoundException for a provider name: `Capacity provider not found: <arn>`. */
export function capacityProviderNotFound(name: string, ctx: Pick<DomainContext, 'region' | 'accountId'>): ResourceNotFoundException {
  return new ResourceNotFoundException(`Capacity provider not found: ${capacityProviderArn(ctx, name)}`);
}

function requireExisting(state: CapacityProviderStreamState, name: string, ctx: DomainContext): ExistingCapacityProvider {
  if (!capacityProviderExists(state)) throw capacityProviderNotFound(name, ctx);
  return state;
}

const listedVersions = 10;

function attachedMessage(name: string, count: number, arns: readonly string[] = []): string {
  const versions = count === 1 ? '1 function version uses it' : `${count} function versions use it`;
  const named = arns.slice(0, listedVersions).join(', ');
  const more = arns.length > listedVersions ? ` and ${arns.length - listedVersions} more` : '';
  const list = named === '' ? '' : `: ${named}${more}`;
  return `Capacity provider ${name} can't be deleted while ${versions}${list} (delete those function versions first)`;
}

function changedMembers(changes: CapacityProviderChanges, current: ExistingCapacityProvider): CapacityProviderChanges {
  const changed: Record<string, unknown> = {};
  for (const member of updatableCapacityProviderMembers) {
    const next = changes[member];
    if (next !== undefined && !sameValue(next, current.definition[member])) changed[member] = next;
  }
  return changed as CapacityProviderChanges;
}

/**
 * Decides a capacity provider command. Throws InvalidParameterValueException
 * (bad request), ResourceConflictException (exists, wrong state, versions
 * attached), ResourceNotFoundException or CapacityProviderLimitExceededException.
 */
export function decideCapacityProvider(
  command: CapacityProviderCommand,
  state: CapacityProviderStreamState,
  ctx: DomainContext,
): CapacityProviderEvent[] {
  const LastModified = formatLambdaTimestamp(ctx.now);
  switch (command.type) {
    case 'CreateCapacityProvider': {
      const definition = validateCreateCapacityProvider(command.data.request, ctx);
      const name = definition.CapacityProviderName;
      if (capacityProviderExists(state)) throw new ResourceConflictException(`Capacity provider ${name} already exists`);
      const limit = ctx.limits.capacityProvidersPerAccount;
      if (command.data.capacityProviderCount >= limit) {
        throw new CapacityProviderLimitExceededException(
          `Account ${ctx.accountId} already has ${command.data.capacityProviderCount} capacity providers (allowed: at most ${limit} per account)`,
        );
      }
      return [
        {
          type: 'CapacityProviderCreated',
          data: { CapacityProvider: definition, CapacityProviderArn: capacityProviderArn(ctx, name), LastModified },
        },
      ];
    }
    case 'ActivateCapacityProvider': {
      const name = command.data.CapacityProviderName;
      const current = requireExisting(state, name, ctx);
      if (current.status === 'Active') return [];
      if (current.status !== 'Pending') {
        throw new ResourceConflictException(`Capacity provider ${name} is ${current.status} and can't become Active (allowed from: Pending)`);
      }
      return [{ type: 'CapacityProviderActivated', data: { LastModified } }];
    }
    case 'FailCapacityProvider': {
      const name = command.data.CapacityProviderName;
      const current = requireExisting(state, name, ctx);
      if (current.status === 'Failed') return [];
      if (current.status !== 'Pending') {
        throw new ResourceConflictException(`Capacity provider ${name} is ${current.status} and can't become Failed (allowed from: Pending)`);
      }
      return [{ type: 'CapacityProviderFailed', data: { reason: command.data.reason, LastModified } }];
    }
    case 'UpdateCapacityProvider': {
      const name = parseCapacityProviderName(command.data.request.CapacityProviderName, ctx);
      const current = requireExisting(state, name, ctx);
      if (current.status === 'Deleting') throw new ResourceConflictException(`Capacity provider ${name} is being deleted`);
      const changes = changedMembers(validateUpdateCapacityProvider(command.data.request, current.definition), current);
      if (Object.keys(changes).length === 0) return [];
      return [{ type: 'CapacityProviderUpdated', data: { changes, LastModified } }];
    }
    case 'StartCapacityProviderDeletion': {
      const name = command.data.CapacityProviderName;
      const current = requireExisting(state, name, ctx);
      if (current.status === 'Deleting') return [];
      if (command.data.attachedFunctionVersions > 0) {
        throw new ResourceConflictException(
          attachedMessage(name, command.data.attachedFunctionVersions, command.data.attachedFunctionVersionArns),
        );
      }
      return [{ type: 'CapacityProviderDeletionStarted', data: { LastModified } }];
    }
    case 'CompleteCapacityProviderDeletion': {
      const name = command.data.CapacityProviderName;
      if (!capacityProviderExists(state)) return [];
      if (state.status !== 'Deleting') {
        throw new ResourceConflictException(`Capacity provider ${name} is ${state.status}; its deletion has not started`);
      }
      return [{ type: 'CapacityProviderDeleted', data: { LastModified } }];
    }
  }
}
