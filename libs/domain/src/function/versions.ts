/**
 * Published versions of a function (spec §2): immutable snapshots of `$LATEST`
 * that own real capacity on a capacity provider. A version is numbered (`1`,
 * `2`, … never reused, like Lambda) or `$LATEST.PUBLISHED`, the re-publishable
 * version an unqualified invoke targets.
 */
import type { FunctionVersionsByCapacityProviderListItem } from '../capacity-provider/shapes.js';
import type { LastUpdateStatus, LastUpdateStatusReasonCode, State, StateReasonCode } from './shapes.js';
import type { ScalingConfigRecord } from './scaling-config.js';
import type { ExistingFunction } from './state.js';
import type { CodeRef, FunctionDefinition } from './validate.js';

/** The unpublished version: the configuration that UpdateFunction* change. ActiveNonInvocable on LMI. */
export const latestQualifier = '$LATEST';
/** The re-publishable version that unqualified invokes of an LMI function target. */
export const latestPublishedQualifier = '$LATEST.PUBLISHED';

/**
 * Reason codes a version's creation or update may fail with: the codes added
 * for Lambda Managed Instances (spec §2: at launch, then
 * ServiceQuotaExceededException, DisallowedByVpcEncryptionControl and
 * DependencyError) plus `InternalError`, Lambda's code for a fault of the
 * service itself, which Hearth uses when its own machinery fails.
 */
export const managedInstancesReasonCodes = [
  'VcpuLimitExceeded',
  'CapacityProviderScalingLimitExceeded',
  'InsufficientCapacity',
  'EC2RequestLimitExceeded',
  'FunctionError.InitTimeout',
  'FunctionError.RuntimeInitError',
  'FunctionError.ExtensionInitError',
  'FunctionError.InvalidEntryPoint',
  'FunctionError.InvalidWorkingDirectory',
  'FunctionError.PermissionDenied',
  'FunctionError.TooManyExtensions',
  'FunctionError.InitResourceExhausted',
  'ServiceQuotaExceededException',
  'DisallowedByVpcEncryptionControl',
  'DependencyError',
  'InternalError',
] as const satisfies readonly (StateReasonCode & LastUpdateStatusReasonCode)[];

/** One of {@link managedInstancesReasonCodes}. */
export type ManagedInstancesReasonCode = (typeof managedInstancesReasonCodes)[number];

/** Lambda's StateReason of a version whose capacity is being created. */
export const creatingStateReason = 'The function is being created.';
/** Lambda's LastUpdateStatusReason of a `$LATEST.PUBLISHED` being republished. */
export const updatingStatusReason = 'The function is being updated.';

/** A published version as the function's state keeps it. */
export interface FunctionVersionRecord {
  /** A number (`"1"`, `"2"`, …) or `$LATEST.PUBLISHED`. */
  readonly Version: string;
  /** `$LATEST`'s configuration when the version was (last) published. */
  readonly configuration: FunctionDefinition;
  /** `$LATEST`'s code when the version was (last) published. */
  readonly code: CodeRef;
  /** PublishVersion's Description, else `$LATEST`'s at publish time. */
  readonly Description: string;
  /** The version's own RevisionId, new at each (re)publish. */
  readonly RevisionId: string;
  /** When the version was (last) published, in Lambda's format. */
  readonly LastModified: string;
  /** Pending (creating or reactivating), Active, Failed, Deactivating, Deactivated or Deleting. */
  readonly State: State;
  /** Set while Pending (`The function is being created.`) and when Failed. */
  readonly StateReason?: string;
  /** `Creating` while Pending, a {@link ManagedInstancesReasonCode} when Failed. */
  readonly StateReasonCode?: StateReasonCode;
  /** `Successful` for numbered versions; `InProgress` while `$LATEST.PUBLISHED` is being (re)published. */
  readonly LastUpdateStatus: LastUpdateStatus;
  /** Set while InProgress and when Failed. */
  readonly LastUpdateStatusReason?: string;
  /** Set when the last (re)publish failed. */
  readonly LastUpdateStatusReasonCode?: LastUpdateStatusReasonCode;
  /**
   * The FunctionScalingConfig the last Put asked for. Absent: the defaults (a
   * new numbered version; a republished `$LATEST.PUBLISHED` keeps its own).
   */
  readonly scalingConfig?: ScalingConfigRecord;
  /** The scaling config the fleet last confirmed. Absent: the defaults. */
  readonly appliedScalingConfig?: ScalingConfigRecord;
}

/** True for a numbered version qualifier: digits without a leading zero. */
export function isNumberedVersion(qualifier: string): boolean {
  return /^[1-9][0-9]*$/.test(qualifier);
}

/** True for the qualifiers a published version may have: a number or `$LATEST.PUBLISHED`. */
export function isPublishedQualifier(qualifier: string): boolean {
  return qualifier === latestPublishedQualifier || isNumberedVersion(qualifier);
}

/**
 * A key that orders versions as Lambda lists them: `$LATEST`, then
 * `$LATEST.PUBLISHED`, then numbered versions by number. Keys compare with
 * {@link compareKeys}, so they can key a {@link page}.
 */
export function versionSortKey(version: string): string {
  if (version === latestQualifier) return '0';
  if (version === latestPublishedQualifier) return '1';
  // Zero-padded so that text order is numeric order (version 10 after version 9).
  return `2${version.padStart(12, '0')}`;
}

// States written by functions folded before versions existed lack these members.
function versionMap(fn: ExistingFunction): Readonly<Record<string, FunctionVersionRecord>> {
  return fn.versions ?? {};
}

/** The published versions of a function in {@link versionSortKey} order. */
export function publishedVersions(fn: ExistingFunction): FunctionVersionRecord[] {
  return Object.values(versionMap(fn)).sort((a, b) => {
    const left = versionSortKey(a.Version);
    const right = versionSortKey(b.Version);
    return left < right ? -1 : left > right ? 1 : 0;
  });
}

/** A published version by qualifier, or undefined. */
export function findVersion(fn: ExistingFunction, version: string): FunctionVersionRecord | undefined {
  const versions = versionMap(fn);
  return Object.hasOwn(versions, version) ? versions[version] : undefined;
}

/** The number the next numbered version gets (1 for a new function). Numbers are never reused. */
export function nextVersionNumber(fn: ExistingFunction): number {
  return fn.nextVersion ?? 1;
}

/**
 * The most recently published numbered version, if it still exists and is
 * not being deleted: the version an unchanged PublishVersion returns.
 */
export function latestPublishedVersion(fn: ExistingFunction): FunctionVersionRecord | undefined {
  const last = findVersion(fn, String(nextVersionNumber(fn) - 1));
  return last === undefined || last.State === 'Deleting' ? undefined : last;
}

/** The capacity provider a configuration runs on. */
export function capacityProviderArnOf(configuration: FunctionDefinition): string {
  return configuration.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig.CapacityProviderArn;
}

/**
 * Published versions of the function that hold capacity on a provider, in any
 * state (Pending, Active, Failed, Deleting): each counts against
 * {@link DomainLimits.functionVersionsPerCapacityProvider} until it is deleted.
 */
export function publishedVersionsOnCapacityProvider(fn: ExistingFunction, capacityProviderArn: string): FunctionVersionRecord[] {
  return publishedVersions(fn).filter((version) => capacityProviderArnOf(version.configuration) === capacityProviderArn);
}

/**
 * The ListFunctionVersionsByCapacityProvider items a function contributes for
 * a provider: `$LATEST` (ActiveNonInvocable) when its configuration names the
 * provider, and every published version that runs there, each with its
 * qualified ARN. A function being deleted shows every item Deleting.
 */
export function functionVersionsOnCapacityProvider(
  fn: ExistingFunction,
  capacityProviderArn: string,
): FunctionVersionsByCapacityProviderListItem[] {
  const deleting = fn.status === 'Deleting';
  const items: FunctionVersionsByCapacityProviderListItem[] = [];
  if (capacityProviderArnOf(fn.configuration) === capacityProviderArn) {
    items.push({ FunctionArn: `${fn.configuration.FunctionArn}:${latestQualifier}`, State: deleting ? 'Deleting' : 'ActiveNonInvocable' });
  }
  for (const version of publishedVersionsOnCapacityProvider(fn, capacityProviderArn)) {
    items.push({ FunctionArn: `${fn.configuration.FunctionArn}:${version.Version}`, State: deleting ? 'Deleting' : version.State });
  }
  return items;
}

/** True while a version's capacity is being created or replaced: a workflow owns it. */
export function versionInProgress(version: FunctionVersionRecord): boolean {
  return version.State === 'Pending' || version.LastUpdateStatus === 'InProgress';
}
