/**
 * Events of a function stream (`function:<FunctionName>`): `$LATEST` and all
 * its published versions. Each change carries its RevisionId and LastModified
 * (Lambda's format), so the state never computes either.
 */
import type { DomainEvent } from '../event.js';
import type { Architecture } from '../shapes.js';
import type { Tags } from '../tags.js';
import type { EventInvokeConfigRecord } from './event-invoke-config.js';
import type { FunctionVersionLatestPublished } from './shapes.js';
import type { CodeRef, FunctionChanges, FunctionDefinition } from './validate.js';
import type { ManagedInstancesReasonCode } from './versions.js';

/**
 * The publish flags of a create or code update, as the request gave them. What
 * was published is the FunctionVersionPublished event that follows in the
 * same append.
 */
export interface PublishRequest {
  /** Default: not given. */
  readonly Publish?: boolean;
  /** Default: not given. */
  readonly PublishTo?: FunctionVersionLatestPublished;
}

/** A function was created with its `$LATEST` configuration and code. */
export type FunctionCreated = DomainEvent<
  'FunctionCreated',
  PublishRequest & {
    /** `$LATEST`, defaults filled in. */
    readonly configuration: FunctionDefinition;
    readonly code: CodeRef;
    readonly Tags: Tags;
    readonly RevisionId: string;
    readonly LastModified: string;
  }
>;

/** `$LATEST` got new code (and possibly a new architecture). */
export type FunctionCodeUpdated = DomainEvent<
  'FunctionCodeUpdated',
  PublishRequest & {
    readonly code: CodeRef;
    /** The architecture after the update, changed or not. */
    readonly Architectures: [Architecture];
    readonly RevisionId: string;
    readonly LastModified: string;
  }
>;

/** `$LATEST` configuration changed; only changed members are present, each complete. */
export type FunctionConfigurationUpdated = DomainEvent<
  'FunctionConfigurationUpdated',
  { readonly changes: FunctionChanges; readonly RevisionId: string; readonly LastModified: string }
>;

/**
 * A version was published: numbered (a new one) or `$LATEST.PUBLISHED`
 * (created, or its snapshot replaced). It is Pending with reason Creating (or,
 * for an Active `$LATEST.PUBLISHED`, Active with LastUpdateStatus InProgress)
 * until a workflow has made it real capacity and activates or fails it.
 */
export type FunctionVersionPublished = DomainEvent<
  'FunctionVersionPublished',
  {
    /** `"1"`, `"2"`, … or `$LATEST.PUBLISHED`. */
    readonly Version: string;
    /** `$LATEST`'s whole configuration at publish time. */
    readonly configuration: FunctionDefinition;
    /** `$LATEST`'s code at publish time. */
    readonly code: CodeRef;
    /** PublishVersion's Description, else `$LATEST`'s. */
    readonly Description: string;
    /** The version's own RevisionId. */
    readonly RevisionId: string;
    readonly LastModified: string;
  }
>;

/** The version's execution environments are up: it is Active (and a republish Successful). */
export type FunctionVersionActivated = DomainEvent<'FunctionVersionActivated', { readonly Version: string; readonly LastModified: string }>;

/**
 * Making the version real capacity failed: a Pending version becomes Failed; a
 * republished Active `$LATEST.PUBLISHED` keeps serving its previous
 * environments and gets LastUpdateStatus Failed.
 */
export type FunctionVersionFailed = DomainEvent<
  'FunctionVersionFailed',
  {
    readonly Version: string;
    readonly StateReasonCode: ManagedInstancesReasonCode;
    readonly StateReason: string;
    readonly LastModified: string;
  }
>;

/** DeleteFunction with a Qualifier: the version is Deleting while its execution environments are torn down. */
export type FunctionVersionDeletionStarted = DomainEvent<'FunctionVersionDeletionStarted', { readonly Version: string }>;

/** The version is gone; its number is never used again. */
export type FunctionVersionDeleted = DomainEvent<'FunctionVersionDeleted', { readonly Version: string }>;

/**
 * DeleteFunction of a function with published versions: it is Deleting while
 * their execution environments are torn down; FunctionDeleted ends it.
 */
export type FunctionDeletionStarted = DomainEvent<
  'FunctionDeletionStarted',
  { readonly FunctionArn: string; readonly LastModified: string }
>;

/** The function and all its versions are gone; the name is free again. */
export type FunctionDeleted = DomainEvent<'FunctionDeleted', { readonly FunctionArn: string; readonly LastModified: string }>;

/**
 * PutFunctionEventInvokeConfig: the qualifier's asynchronous invocation
 * settings are now exactly `config` (whatever was there before is replaced).
 */
export type FunctionEventInvokeConfigPut = DomainEvent<
  'FunctionEventInvokeConfigPut',
  {
    /** `$LATEST` (also for an unqualified request), `$LATEST.PUBLISHED` or a version number. */
    readonly Qualifier: string;
    readonly config: EventInvokeConfigRecord;
  }
>;

/**
 * UpdateFunctionEventInvokeConfig: some settings of an existing configuration
 * changed; `config` is the whole configuration after the change, so replaying
 * needs no merge rules.
 */
export type FunctionEventInvokeConfigUpdated = DomainEvent<
  'FunctionEventInvokeConfigUpdated',
  { readonly Qualifier: string; readonly config: EventInvokeConfigRecord }
>;

/** DeleteFunctionEventInvokeConfig: the qualifier falls back to the unqualified configuration, or the defaults. */
export type FunctionEventInvokeConfigDeleted = DomainEvent<'FunctionEventInvokeConfigDeleted', { readonly Qualifier: string }>;

/**
 * PutFunctionScalingConfig: the version's requested scaling config is now
 * `Min`/`Max` (defaults already filled in; `Max` absent: unbounded).
 */
export type FunctionScalingConfigPut = DomainEvent<
  'FunctionScalingConfigPut',
  { readonly Version: string; readonly Min: number; readonly Max?: number }
>;

/** min = max = 0 on an Active version: it is Deactivating while a teardown stops its execution environments. */
export type FunctionVersionDeactivationStarted = DomainEvent<'FunctionVersionDeactivationStarted', { readonly Version: string; readonly LastModified: string }>;

/** The execution environments of a Deactivating version are gone: it is Deactivated (invocations refused). */
export type FunctionVersionDeactivated = DomainEvent<'FunctionVersionDeactivated', { readonly Version: string; readonly LastModified: string }>;

/** A non-zero scaling config on a Deactivated version: it is Pending until the publish workflow has started its environments again. */
export type FunctionVersionReactivationStarted = DomainEvent<'FunctionVersionReactivationStarted', { readonly Version: string; readonly LastModified: string }>;

/**
 * The fleet reached the version's requested scaling config (its Ready EEs are
 * within `Min`–`Max`): Applied becomes Requested. Reported by the scaler.
 */
export type FunctionScalingConfigApplied = DomainEvent<
  'FunctionScalingConfigApplied',
  { readonly Version: string; readonly Min: number; readonly Max?: number }
>;

/**
 * An Active version cannot grow to what its load asks for because its capacity
 * provider's MaxVCpuCount is reached: its StateReasonCode says so
 * (`CapacityProviderScalingLimitExceeded`) until the limit no longer binds.
 */
export type FunctionVersionScalingLimited = DomainEvent<
  'FunctionVersionScalingLimited',
  { readonly Version: string; readonly StateReasonCode: 'CapacityProviderScalingLimitExceeded'; readonly StateReason: string }
>;

/** The capacity limit of a {@link FunctionVersionScalingLimited} version no longer binds. */
export type FunctionVersionScalingLimitCleared = DomainEvent<'FunctionVersionScalingLimitCleared', { readonly Version: string }>;

/** Every event of a function stream. */
export type FunctionEvent =
  | FunctionCreated
  | FunctionCodeUpdated
  | FunctionConfigurationUpdated
  | FunctionVersionPublished
  | FunctionVersionActivated
  | FunctionVersionFailed
  | FunctionVersionDeletionStarted
  | FunctionVersionDeleted
  | FunctionDeletionStarted
  | FunctionDeleted
  | FunctionEventInvokeConfigPut
  | FunctionEventInvokeConfigUpdated
  | FunctionEventInvokeConfigDeleted
  | FunctionScalingConfigPut
  | FunctionVersionDeactivationStarted
  | FunctionVersionDeactivated
  | FunctionVersionReactivationStarted
  | FunctionScalingConfigApplied
  | FunctionVersionScalingLimited
  | FunctionVersionScalingLimitCleared;

/** Every function event type, for stream filters and subscriptions. */
export const functionEventTypes: readonly FunctionEvent['type'][] = [
  'FunctionCreated',
  'FunctionCodeUpdated',
  'FunctionConfigurationUpdated',
  'FunctionVersionPublished',
  'FunctionVersionActivated',
  'FunctionVersionFailed',
  'FunctionVersionDeletionStarted',
  'FunctionVersionDeleted',
  'FunctionDeletionStarted',
  'FunctionDeleted',
  'FunctionEventInvokeConfigPut',
  'FunctionEventInvokeConfigUpdated',
  'FunctionEventInvokeConfigDeleted',
  'FunctionScalingConfigPut',
  'FunctionVersionDeactivationStarted',
  'FunctionVersionDeactivated',
  'FunctionVersionReactivationStarted',
  'FunctionScalingConfigApplied',
  'FunctionVersionScalingLimited',
  'FunctionVersionScalingLimitCleared',
];
