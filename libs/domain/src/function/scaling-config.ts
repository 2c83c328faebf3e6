/**
 * FunctionScalingConfig of a published version (spec §2): how many execution
 * environments (EEs) the fleet keeps it between.
 *
 * - The Qualifier is required: `$LATEST.PUBLISHED` or a version number.
 * - MinExecutionEnvironments and MaxExecutionEnvironments are whole numbers
 *   0–15000 set as a pair: an omitted one reverts to its default (min 3, max
 *   unbounded); min may be 0 only when max is 0.
 * - min = max = 0 deactivates an Active version (Deactivating, then
 *   Deactivated once its EEs are stopped); nothing reactivates it but a later
 *   non-zero Put, which makes it Pending while the publish workflow starts its
 *   EEs again.
 * - A config on `$LATEST.PUBLISHED` carries over to its next republish; a new
 *   numbered version starts with the defaults.
 * - A Failed version refuses a Put (ResourceConflictException).
 *
 * Requested is what the last Put asked for; Applied is what the fleet last
 * confirmed (set when the version becomes Active or Deactivated after the Put,
 * or at once on a version that is Active and not being updated).
 */
import { ResourceConflictException, ResourceNotFoundException } from '@hearth/errors';
import { functionArn, resolveFunctionName, type ArnScope } from '../arn.js';
import type { DomainContext } from '../context.js';
import { formatLambdaTimestamp } from '../time.js';
import { checkInteger, checkObject, isPresent, reject, show } from '../validation.js';
import { functionNotFound, functionStateConflict, updateInProgress } from './decide.js';
import type { FunctionEvent } from './events.js';
import { functionExists, type ExistingFunction, type FunctionStreamState } from './state.js';
import { findVersion, isPublishedQualifier, versionInProgress, type FunctionVersionRecord } from './versions.js';

/** The API shape (botocore `FunctionScalingConfig`). */
export interface FunctionScalingConfig {
  MinExecutionEnvironments?: number;
  MaxExecutionEnvironments?: number;
}

/** Input of PutFunctionScalingConfig. */
export interface PutFunctionScalingConfigRequest {
  FunctionName: string;
  /** Required: `$LATEST.PUBLISHED` or a version number. */
  Qualifier?: string;
  /** Default: both members at their defaults. */
  FunctionScalingConfig?: FunctionScalingConfig;
}

/** PutFunctionScalingConfig's answer (HTTP 202). */
export interface PutFunctionScalingConfigResponse {
  /** The version's State after the request: `Deactivating` for min = max = 0, `Pending` when it reactivates. */
  FunctionState: string;
}

/** Input of GetFunctionScalingConfig. */
export interface GetFunctionScalingConfigRequest {
  FunctionName: string;
  /** Required: `$LATEST.PUBLISHED` or a version number. */
  Qualifier?: string;
}

/** GetFunctionScalingConfig's answer. */
export interface GetFunctionScalingConfigResponse {
  /** The version's qualified ARN. */
  FunctionArn: string;
  /** What the fleet last confirmed. */
  AppliedFunctionScalingConfig: FunctionScalingConfig;
  /** What the last Put asked for; only while it differs from Applied. */
  RequestedFunctionScalingConfig?: FunctionScalingConfig;
}

/** A version's scaling config as events and state keep it. */
export interface ScalingConfigRecord {
  /** 0–15000. */
  readonly Min: number;
  /** 0–15000; absent: unbounded. */
  readonly Max?: number;
}

/** Default MinExecutionEnvironments: one EE in each of three zones. */
export const defaultMinExecutionEnvironments = 3;
/** Largest MinExecutionEnvironments / MaxExecutionEnvironments. */
export const maxExecutionEnvironmentsLimit = 15000;
/** The config a version has until a Put: min 3, max unbounded. */
export const defaultScalingConfig: ScalingConfigRecord = Object.freeze({ Min: defaultMinExecutionEnvironments });

const qualifierAllowed = '$LATEST.PUBLISHED or a version number';

/** True for min = max = 0: the version is (to be) deactivated. */
export function isDeactivationConfig(config: ScalingConfigRecord): boolean {
  return config.Min === 0 && config.Max === 0;
}

/** What the last Put asked for, else the defaults. */
export function requestedScalingConfig(version: FunctionVersionRecord): ScalingConfigRecord {
  return version.scalingConfig ?? defaultScalingConfig;
}

/** What the fleet last confirmed, else the defaults. */
export function appliedScalingConfig(version: FunctionVersionRecord): ScalingConfigRecord {
  return version.appliedScalingConfig ?? defaultScalingConfig;
}

/**
 * How many EEs the publish workflow starts for the version: its min (default
 * 3), at least 1 (a reactivation always brings up capacity). 0 only for a
 * deactivated version, which is never published.
 */
export function desiredEnvironmentsOf(version: FunctionVersionRecord): number {
  const config = requestedScalingConfig(version);
  return isDeactivationConfig(config) ? 0 : Math.max(config.Min, 1);
}

/** The API shape of a record: MaxExecutionEnvironments left out when unbounded. */
export function scalingConfigShape(config: ScalingConfigRecord): FunctionScalingConfig {
  return { MinExecutionEnvironments: config.Min, ...(config.Max === undefined ? {} : { MaxExecutionEnvironments: config.Max }) };
}

function sameConfig(left: ScalingConfigRecord, right: ScalingConfigRecord): boolean {
  return left.Min === right.Min && left.Max === right.Max;
}

/**
 * Validates a FunctionScalingConfig with the pair rules: omitted members take
 * their defaults, min ≤ max, min 0 only with max 0.
 */
export function validateFunctionScalingConfig(value: unknown): ScalingConfigRecord {
  if (!isPresent(value)) return defaultScalingConfig;
  const body = checkObject(value, 'FunctionScalingConfig');
  const range = { min: 0, max: maxExecutionEnvironmentsLimit };
  const minGiven = isPresent(body.MinExecutionEnvironments);
  const Min = minGiven
    ? checkInteger(body.MinExecutionEnvironments, 'FunctionScalingConfig.MinExecutionEnvironments', range)
    : defaultMinExecutionEnvironments;
  const Max = isPresent(body.MaxExecutionEnvironments)
    ? checkInteger(body.MaxExecutionEnvironments, 'FunctionScalingConfig.MaxExecutionEnvironments', range)
    : undefined;
  if (Max !== undefined && Min > Max) {
    const min = minGiven ? `${Min}` : `${Min} (the default, as it was omitted; the two are set as a pair)`;
    reject(
      `FunctionScalingConfig.MinExecutionEnvironments ${min} is greater than FunctionScalingConfig.MaxExecutionEnvironments ${Max} (allowed: MinExecutionEnvironments ≤ MaxExecutionEnvironments)`,
    );
  }
  if (Min === 0 && Max !== 0) {
    const max = Max === undefined ? 'unbounded (omitted)' : `${Max}`;
    reject(
      `FunctionScalingConfig.MinExecutionEnvironments 0 requires FunctionScalingConfig.MaxExecutionEnvironments 0, which deactivates the version; got MaxExecutionEnvironments ${max} (allowed: MinExecutionEnvironments 1–15000, or 0 together with MaxExecutionEnvironments 0)`,
    );
  }
  return Max === undefined ? { Min } : { Min, Max };
}

/** The function, its name and the version qualifier a scaling-config request addresses. */
export interface ScalingConfigTarget {
  readonly name: string;
  readonly Qualifier: string;
  /** The qualified ARN of the version. */
  readonly FunctionArn: string;
}

/**
 * Checks FunctionName and the required Qualifier (`$LATEST.PUBLISHED` or a
 * version number; a qualified FunctionName counts as giving it).
 */
export function scalingConfigTarget(request: unknown, scope: ArnScope): ScalingConfigTarget {
  const body = checkObject(request, 'request');
  const parts = resolveFunctionName(body.FunctionName, body.Qualifier === '' ? undefined : body.Qualifier, scope);
  const Qualifier = parts.qualifier;
  if (Qualifier === undefined) reject(`Qualifier is required (allowed: ${qualifierAllowed})`);
  if (!isPublishedQualifier(Qualifier)) reject(`Qualifier ${show(Qualifier)} is invalid (allowed: ${qualifierAllowed})`);
  return { name: parts.name, Qualifier, FunctionArn: functionArn(scope, parts.name, Qualifier) };
}

function requireTargetVersion(state: FunctionStreamState, target: ScalingConfigTarget, scope: ArnScope): { fn: ExistingFunction; version: FunctionVersionRecord } {
  if (!functionExists(state)) throw functionNotFound(target.name, scope, target.Qualifier);
  const version = findVersion(state, target.Qualifier);
  if (version === undefined) throw new ResourceNotFoundException(`Function not found: ${target.FunctionArn}`);
  return { fn: state, version };
}

/**
 * The events of a PutFunctionScalingConfig, in Lambda's order: request members
 * → the function and version exist → the version's state allows it.
 * - Failed, Deleting (or the function Deleting) → ResourceConflictException;
 * - Pending or updating: a non-zero config is recorded (the running publish
 *   keeps its count; the scaler brings it to the new bounds), 0/0 → update in progress;
 * - Active: 0/0 → Deactivating;
 * - Deactivating: only 0/0 again (no events); anything else waits until Deactivated;
 * - Deactivated: 0/0 → no events; non-zero → Pending (reactivating).
 * An unchanged config on a version in a settled state appends nothing.
 */
export function decidePutFunctionScalingConfig(request: unknown, state: FunctionStreamState, ctx: DomainContext): FunctionEvent[] {
  const target = scalingConfigTarget(request, ctx);
  const config = validateFunctionScalingConfig((request as Record<string, unknown>).FunctionScalingConfig);
  const { fn, version } = requireTargetVersion(state, target, ctx);
  if (fn.status === 'Deleting') throw functionStateConflict('Deleting');
  const { Version } = version;
  const put: FunctionEvent = {
    type: 'FunctionScalingConfigPut',
    data: { Version, Min: config.Min, ...(config.Max === undefined ? {} : { Max: config.Max }) },
  };
  const unchanged = version.scalingConfig !== undefined && sameConfig(version.scalingConfig, config);
  const deactivate = isDeactivationConfig(config);
  const LastModified = formatLambdaTimestamp(ctx.now);
  switch (version.State) {
    case 'Failed':
    case 'Deleting':
      throw functionStateConflict(version.State, version.StateReasonCode);
    case 'Deactivating':
      if (deactivate) return [];
      throw new ResourceConflictException(
        `The operation cannot be performed at this time. The function is currently in the following state: Deactivating (a non-zero FunctionScalingConfig is accepted once the version is Deactivated)`,
      );
    case 'Deactivated':
      if (deactivate) return [];
      return [put, { type: 'FunctionVersionReactivationStarted', data: { Version, LastModified } }];
    default:
      break;
  }
  if (versionInProgress(version)) {
    if (deactivate) throw updateInProgress(target.FunctionArn);
    return unchanged ? [] : [put];
  }
  if (version.State !== 'Active') throw functionStateConflict(version.State, version.StateReasonCode);
  if (deactivate) return [put, { type: 'FunctionVersionDeactivationStarted', data: { Version, LastModified } }];
  return unchanged ? [] : [put];
}

/** GetFunctionScalingConfig: Applied always, Requested only while it differs. */
export function getFunctionScalingConfigView(state: FunctionStreamState, request: unknown, scope: ArnScope): GetFunctionScalingConfigResponse {
  const target = scalingConfigTarget(request, scope);
  const { version } = requireTargetVersion(state, target, scope);
  const applied = appliedScalingConfig(version);
  const requested = requestedScalingConfig(version);
  return {
    FunctionArn: target.FunctionArn,
    AppliedFunctionScalingConfig: scalingConfigShape(applied),
    ...(sameConfig(applied, requested) ? {} : { RequestedFunctionScalingConfig: scalingConfigShape(requested) }),
  };
}

/** What the scaler reports of an Active version after a step (command ReportVersionScaling). */
export interface VersionScalingReport {
  readonly Version: string;
  /** The version's Ready EEs as the scaler counted them. */
  readonly ReadyEnvironments: number;
  /** The scaling config the scaler worked toward (the Requested one it read). */
  readonly Min: number;
  readonly Max?: number;
  /** Why the version cannot grow to what its load asks for (its provider's MaxVCpuCount); absent when nothing limits it. */
  readonly LimitReason?: string;
}

/**
 * The events of a scaler's report on a version; none when nothing changed, so
 * a report every step appends nothing in the steady state.
 * - Applied becomes Requested when the report is about the Requested config
 *   (a Put since makes it moot) and the Ready EEs are within its bounds;
 * - an Active version gets StateReasonCode `CapacityProviderScalingLimitExceeded`
 *   with the reason while a limit binds, and loses it when it no longer does.
 * A version that is not Active, or is gone, takes nothing: deactivation,
 * republish and deletion own its state then.
 */
export function decideReportVersionScaling(report: VersionScalingReport, state: FunctionStreamState): FunctionEvent[] {
  checkInteger(report.ReadyEnvironments, 'ReadyEnvironments', { min: 0, max: 1_000_000 });
  if (!functionExists(state) || state.status === 'Deleting') return [];
  const version = findVersion(state, report.Version);
  if (version === undefined || version.State !== 'Active') return [];
  const events: FunctionEvent[] = [];
  const requested = requestedScalingConfig(version);
  const reported: ScalingConfigRecord = report.Max === undefined ? { Min: report.Min } : { Min: report.Min, Max: report.Max };
  const converged = report.ReadyEnvironments >= requested.Min && (requested.Max === undefined || report.ReadyEnvironments <= requested.Max);
  if (!sameConfig(appliedScalingConfig(version), requested) && sameConfig(requested, reported) && converged && !versionInProgress(version)) {
    events.push({ type: 'FunctionScalingConfigApplied', data: { Version: version.Version, ...reported } });
  }
  const limited = version.StateReasonCode === 'CapacityProviderScalingLimitExceeded';
  if (report.LimitReason !== undefined && report.LimitReason !== '') {
    if (!limited) {
      events.push({
        type: 'FunctionVersionScalingLimited',
        data: { Version: version.Version, StateReasonCode: 'CapacityProviderScalingLimitExceeded', StateReason: report.LimitReason },
      });
    }
  } else if (limited) {
    events.push({ type: 'FunctionVersionScalingLimitCleared', data: { Version: version.Version } });
  }
  return events;
}
