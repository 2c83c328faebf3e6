/**
 * Which published version an Invoke runs (spec §2). An LMI function's `$LATEST`
 * never runs (ActiveNonInvocable): an unqualified invoke targets
 * `$LATEST.PUBLISHED`, and only an Active version accepts invocations.
 */
import { InvalidParameterValueException, NoPublishedVersionException, ResourceNotFoundException } from '@hearth/errors';
import { functionArn, resolveFunctionName, type ArnScope } from '../arn.js';
import { functionStateConflict } from './decide.js';
import { functionExists, type FunctionStreamState } from './state.js';
import { findVersion, isPublishedQualifier, latestPublishedQualifier, latestQualifier, type FunctionVersionRecord } from './versions.js';

/** Lambda's InvalidParameterValueException for invoking `$LATEST` of an LMI function that has `$LATEST.PUBLISHED`. */
export const latestNotInvocableMessage =
  "Functions configured with capacity provider configuration can't be invoked with $LATEST qualifier. To invoke this function, specify a published version qualifier or $LATEST.PUBLISHED.";

/** Lambda's NoPublishedVersionException for invoking `$LATEST` (or no qualifier) of an LMI function without `$LATEST.PUBLISHED`. */
export const noPublishedVersionMessage =
  "The function can't be invoked because no published version exists. For functions with capacity provider configuration, either publish a version to $LATEST.PUBLISHED, or specify a published version qualifier.";

/** The version an invocation runs. */
export interface InvocationTarget {
  readonly FunctionName: string;
  /** A version number or `$LATEST.PUBLISHED`: what `X-Amz-Executed-Version` reports. */
  readonly Version: string;
  /** ARN of that version (qualified). */
  readonly FunctionArn: string;
  /** The version: its configuration and code snapshot, Active. */
  readonly version: FunctionVersionRecord;
}

/**
 * Resolves an Invoke's FunctionName (name, ARN or partial ARN, optionally
 * qualified) and Qualifier to the Active version to run:
 * - no qualifier → `$LATEST.PUBLISHED`; without one, NoPublishedVersionException;
 * - `$LATEST` → InvalidParameterValueException when `$LATEST.PUBLISHED`
 *   exists, else NoPublishedVersionException (Lambda's messages);
 * - a version that does not exist, or an alias (Hearth has none) →
 *   ResourceNotFoundException `Function not found: <arn>`;
 * - a version that is not Active (Pending, Failed, Deleting, or any version
 *   of a function being deleted) → ResourceConflictException `The operation
 *   cannot be performed at this time. The function is currently in the
 *   following state: <State>`, with the StateReasonCode as its reason.
 */
export function resolveInvocationQualifier(
  state: FunctionStreamState,
  nameOrArn: string,
  qualifier: string | undefined,
  scope: ArnScope,
): InvocationTarget {
  const parts = resolveFunctionName(nameOrArn, qualifier, scope);
  if (!functionExists(state)) {
    // Lambda names the version an unqualified invoke would have run.
    throw new ResourceNotFoundException(`Function not found: ${functionArn(scope, parts.name, parts.qualifier ?? latestQualifier)}`);
  }
  const hasLatestPublished = findVersion(state, latestPublishedQualifier) !== undefined;
  if (parts.qualifier === latestQualifier || (parts.qualifier === undefined && !hasLatestPublished)) {
    if (parts.qualifier === latestQualifier && hasLatestPublished) throw new InvalidParameterValueException(latestNotInvocableMessage);
    throw new NoPublishedVersionException(noPublishedVersionMessage);
  }
  const Version = parts.qualifier ?? latestPublishedQualifier;
  const FunctionArn = functionArn(scope, parts.name, Version);
  const version = isPublishedQualifier(Version) ? findVersion(state, Version) : undefined;
  if (version === undefined) throw new ResourceNotFoundException(`Function not found: ${FunctionArn}`);
  if (state.status === 'Deleting') throw functionStateConflict('Deleting');
  if (version.State !== 'Active') throw functionStateConflict(version.State, version.StateReasonCode);
  return { FunctionName: parts.name, Version, FunctionArn, version };
}
