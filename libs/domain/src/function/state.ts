/** The state of one function and its published versions, folded from its stream. */
import type { Tags } from '../tags.js';
import type { EventInvokeConfigRecord } from './event-invoke-config.js';
import type { FunctionEvent, FunctionScalingConfigApplied, FunctionScalingConfigPut, FunctionVersionFailed, FunctionVersionPublished } from './events.js';
import { isDeactivationConfig } from './scaling-config.js';
import type { LastUpdateStatus, State } from './shapes.js';
import type { CodeRef, FunctionDefinition } from './validate.js';
import {
  creatingStateReason,
  findVersion,
  isNumberedVersion,
  latestPublishedQualifier,
  nextVersionNumber,
  updatingStatusReason,
  versionInProgress,
  type FunctionVersionRecord,
} from './versions.js';

/** No function by this name: never created, or deleted (the name is free). */
export interface AbsentFunction {
  readonly status: 'Absent';
}

/**
 * A function that exists, with its `$LATEST` configuration and its published
 * versions. `Deleting` while the execution environments of its versions are
 * torn down (DeleteFunction of a function with published versions).
 */
export interface ExistingFunction {
  readonly status: 'Present' | 'Deleting';
  /** `$LATEST`. */
  readonly configuration: FunctionDefinition;
  /** `$LATEST`'s code. */
  readonly code: CodeRef;
  readonly Tags: Tags;
  /** `$LATEST`'s RevisionId. */
  readonly RevisionId: string;
  /** `$LATEST`'s LastModified. */
  readonly LastModified: string;
  /**
   * Published versions by qualifier (`"1"`, …, `$LATEST.PUBLISHED`), in any
   * state until deleted. A plain object so that the state stays JSON. Read it
   * through {@link publishedVersions} / {@link findVersion}, which also accept
   * states stored before versions existed.
   */
  readonly versions: Readonly<Record<string, FunctionVersionRecord>>;
  /** The number the next numbered version gets; starts at 1 and only grows. */
  readonly nextVersion: number;
  /**
   * Asynchronous invocation settings by qualifier (`$LATEST` for the
   * unqualified configuration). Absent in states folded before they existed;
   * read through `eventInvokeConfigsOf` / `findEventInvokeConfig`.
   */
  readonly eventInvokeConfigs?: Readonly<Record<string, EventInvokeConfigRecord>>;
}

/** What {@link evolveFunction} folds: absent or existing. */
export type FunctionStreamState = AbsentFunction | ExistingFunction;

/** The state of an empty stream. */
export const initialFunctionState: FunctionStreamState = Object.freeze({ status: 'Absent' });

/**
 * State of `$LATEST` of a Lambda Managed Instances function: it is never
 * invoked (invocations go to published versions), so it is ActiveNonInvocable,
 * and its updates take effect at once (spec §2).
 */
export const latestVersionStatus: Readonly<{ State: State; LastUpdateStatus: LastUpdateStatus }> = Object.freeze({
  State: 'ActiveNonInvocable',
  LastUpdateStatus: 'Successful',
});

/** True when the function exists (also while it is being deleted). */
export function functionExists(state: FunctionStreamState): state is ExistingFunction {
  return state.status !== 'Absent';
}

function withVersion(state: ExistingFunction, version: FunctionVersionRecord): ExistingFunction {
  return { ...state, versions: { ...state.versions, [version.Version]: version } };
}

function withoutStateReason(version: FunctionVersionRecord): FunctionVersionRecord {
  const { StateReason: _reason, StateReasonCode: _code, ...rest } = version;
  return rest;
}

function withoutUpdateReason(version: FunctionVersionRecord): FunctionVersionRecord {
  const { LastUpdateStatusReason: _reason, LastUpdateStatusReasonCode: _code, ...rest } = version;
  return rest;
}

function published(state: ExistingFunction, event: FunctionVersionPublished): ExistingFunction {
  const { Version, configuration, code, Description, RevisionId, LastModified } = event.data;
  const snapshot = { Version, configuration, code, Description, RevisionId, LastModified };
  const creating = { State: 'Pending', StateReason: creatingStateReason, StateReasonCode: 'Creating' } as const;
  if (Version !== latestPublishedQualifier) {
    const next = isNumberedVersion(Version) ? Math.max(state.nextVersion, Number(Version) + 1) : state.nextVersion;
    return { ...withVersion(state, { ...snapshot, ...creating, LastUpdateStatus: 'Successful' }), nextVersion: next };
  }
  const current = findVersion(state, Version);
  // Its scaling config carries over to the new snapshot (spec §2).
  const scaling = {
    ...(current?.scalingConfig === undefined ? {} : { scalingConfig: current.scalingConfig }),
    ...(current?.appliedScalingConfig === undefined ? {} : { appliedScalingConfig: current.appliedScalingConfig }),
  };
  // A deactivated $LATEST.PUBLISHED stays deactivated: only a non-zero scaling config reactivates it.
  if (current?.State === 'Deactivated' && current.scalingConfig !== undefined && isDeactivationConfig(current.scalingConfig)) {
    return withVersion(state, { ...snapshot, ...scaling, State: 'Deactivated', LastUpdateStatus: 'Successful' });
  }
  // An Active $LATEST.PUBLISHED keeps serving its current environments while the new snapshot's come up.
  const serving = current?.State === 'Active';
  const updating = { LastUpdateStatus: 'InProgress', LastUpdateStatusReason: updatingStatusReason } as const;
  return withVersion(state, serving ? { ...snapshot, ...scaling, State: 'Active', ...updating } : { ...snapshot, ...scaling, ...creating, ...updating });
}

// What the fleet runs is confirmed once the version is Active or Deactivated: Applied becomes Requested.
function confirmed(version: FunctionVersionRecord): FunctionVersionRecord {
  return version.scalingConfig === undefined ? version : { ...version, appliedScalingConfig: version.scalingConfig };
}

// Requested until the fleet converges: the scaler reports FunctionScalingConfigApplied once the version's
// Ready EEs are within the new bounds (or activation / deactivation confirms it).
function scalingConfigPut(version: FunctionVersionRecord, event: FunctionScalingConfigPut): FunctionVersionRecord {
  const { Min, Max } = event.data;
  return { ...version, scalingConfig: Max === undefined ? { Min } : { Min, Max } };
}

function scalingConfigApplied(version: FunctionVersionRecord, event: FunctionScalingConfigApplied): FunctionVersionRecord {
  const { Min, Max } = event.data;
  return { ...version, appliedScalingConfig: Max === undefined ? { Min } : { Min, Max } };
}

function failed(version: FunctionVersionRecord, event: FunctionVersionFailed): FunctionVersionRecord {
  const { StateReasonCode, StateReason } = event.data;
  const update =
    version.LastUpdateStatus === 'InProgress'
      ? { LastUpdateStatus: 'Failed' as const, LastUpdateStatusReason: StateReason, LastUpdateStatusReasonCode: StateReasonCode }
      : {};
  // A republished $LATEST.PUBLISHED that was Active stays Active on its previous environments; only the update failed.
  if (version.State === 'Active') return { ...version, ...update };
  return { ...version, State: 'Failed', StateReason, StateReasonCode, ...update };
}

// States folded before versions existed (stored as JSON in read models) lack the version members.
function upgrade(state: ExistingFunction): ExistingFunction {
  if (state.versions !== undefined && state.nextVersion !== undefined) return state;
  return { ...state, versions: state.versions ?? {}, nextVersion: nextVersionNumber(state) };
}

/** Applies one event. Events that do not fit the state (a replay bug) leave it as it was. */
export function evolveFunction(current: FunctionStreamState, event: FunctionEvent): FunctionStreamState {
  if (event.type === 'FunctionCreated') {
    return {
      status: 'Present',
      configuration: event.data.configuration,
      code: event.data.code,
      Tags: event.data.Tags,
      RevisionId: event.data.RevisionId,
      LastModified: event.data.LastModified,
      versions: {},
      nextVersion: 1,
    };
  }
  if (!functionExists(current)) return current;
  const state = upgrade(current);
  switch (event.type) {
    case 'FunctionCodeUpdated':
      return {
        ...state,
        configuration: { ...state.configuration, Architectures: event.data.Architectures },
        code: event.data.code,
        RevisionId: event.data.RevisionId,
        LastModified: event.data.LastModified,
      };
    case 'FunctionConfigurationUpdated':
      return {
        ...state,
        configuration: { ...state.configuration, ...event.data.changes },
        RevisionId: event.data.RevisionId,
        LastModified: event.data.LastModified,
      };
    case 'FunctionVersionPublished':
      return published(state, event);
    case 'FunctionVersionActivated': {
      const version = findVersion(state, event.data.Version);
      if (version === undefined) return state;
      return withVersion(state, confirmed({ ...withoutUpdateReason(withoutStateReason(version)), State: 'Active', LastUpdateStatus: 'Successful' }));
    }
    case 'FunctionScalingConfigPut': {
      const version = findVersion(state, event.data.Version);
      return version === undefined ? state : withVersion(state, scalingConfigPut(version, event));
    }
    case 'FunctionScalingConfigApplied': {
      const version = findVersion(state, event.data.Version);
      return version === undefined ? state : withVersion(state, scalingConfigApplied(version, event));
    }
    case 'FunctionVersionScalingLimited': {
      const version = findVersion(state, event.data.Version);
      if (version === undefined) return state;
      return withVersion(state, { ...version, StateReasonCode: event.data.StateReasonCode, StateReason: event.data.StateReason });
    }
    case 'FunctionVersionScalingLimitCleared': {
      const version = findVersion(state, event.data.Version);
      return version === undefined || version.StateReasonCode !== 'CapacityProviderScalingLimitExceeded' ? state : withVersion(state, withoutStateReason(version));
    }
    case 'FunctionVersionDeactivationStarted': {
      const version = findVersion(state, event.data.Version);
      return version === undefined ? state : withVersion(state, { ...withoutStateReason(version), State: 'Deactivating' });
    }
    case 'FunctionVersionDeactivated': {
      const version = findVersion(state, event.data.Version);
      return version === undefined ? state : withVersion(state, confirmed({ ...withoutStateReason(version), State: 'Deactivated' }));
    }
    case 'FunctionVersionReactivationStarted': {
      const version = findVersion(state, event.data.Version);
      if (version === undefined) return state;
      return withVersion(state, { ...version, State: 'Pending', StateReason: creatingStateReason, StateReasonCode: 'Creating' });
    }
    case 'FunctionVersionFailed': {
      const version = findVersion(state, event.data.Version);
      return version === undefined ? state : withVersion(state, failed(version, event));
    }
    case 'FunctionVersionDeletionStarted': {
      const version = findVersion(state, event.data.Version);
      return version === undefined ? state : withVersion(state, { ...withoutStateReason(version), State: 'Deleting' });
    }
    case 'FunctionVersionDeleted': {
      const { [event.data.Version]: _deleted, ...versions } = state.versions;
      if (state.eventInvokeConfigs === undefined) return { ...state, versions };
      // A deleted version's asynchronous settings go with it, as in Lambda.
      const { [event.data.Version]: _config, ...eventInvokeConfigs } = state.eventInvokeConfigs;
      return { ...state, versions, eventInvokeConfigs };
    }
    case 'FunctionEventInvokeConfigPut':
    case 'FunctionEventInvokeConfigUpdated':
      return { ...state, eventInvokeConfigs: { ...state.eventInvokeConfigs, [event.data.Qualifier]: event.data.config } };
    case 'FunctionEventInvokeConfigDeleted': {
      const { [event.data.Qualifier]: _deleted, ...eventInvokeConfigs } = state.eventInvokeConfigs ?? {};
      return { ...state, eventInvokeConfigs };
    }
    case 'FunctionDeletionStarted':
      return { ...state, status: 'Deleting' };
    case 'FunctionDeleted':
      return initialFunctionState;
    default:
      return state;
  }
}

/** Folds events from the initial state. */
export function foldFunction(events: readonly FunctionEvent[]): FunctionStreamState {
  return events.reduce(evolveFunction, initialFunctionState);
}
