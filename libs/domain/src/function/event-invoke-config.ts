/**
 * Asynchronous invocation settings of a function or one of its versions
 * (Put/Get/Update/Delete/ListFunctionEventInvokeConfigs): how often an event
 * whose invocation failed is retried, how old it may grow while it waits, and
 * where the record of its outcome goes.
 *
 * A destination is another function's ARN (it is invoked asynchronously with
 * the record as its event) or, Hearth's own kind, `nats:<subject>`: the record
 * is published on that NATS subject (stored durably when a JetStream stream
 * captures the subject). Lambda's other kinds (SQS, SNS, EventBridge, S3) name
 * AWS services Hearth does not have and are refused by name.
 */
import { ResourceNotFoundException } from '@hearth/errors';
import { functionArn, parseFunctionName, resolveFunctionName, type ArnScope } from '../arn.js';
import { maxItemsRanges, page } from '../paging.js';
import { checkInteger, checkObject, checkString, isPresent, reject, show } from '../validation.js';
import { functionExists, type ExistingFunction, type FunctionStreamState } from './state.js';
import { findVersion, isPublishedQualifier, latestQualifier, versionSortKey } from './versions.js';

/** Bounds and defaults of the settings (botocore `MaximumRetryAttempts`, `MaximumEventAgeInSeconds`). */
export const eventInvokeConfigLimits = Object.freeze({
  /** Retries after a function error: 0–2, default 2. */
  MaximumRetryAttempts: Object.freeze({ min: 0, max: 2, default: 2 }),
  /** Seconds an event may wait (queued or between retries): 60–21600, default 21600 (6 hours). */
  MaximumEventAgeInSeconds: Object.freeze({ min: 60, max: 21_600, default: 21_600 }),
  /** Longest destination text (botocore `DestinationArn`). */
  destinationMaxLength: 350,
});

/** Prefix of a NATS subject destination: `nats:orders.failed`. */
export const natsDestinationPrefix = 'nats:';

/** Where successful invocations' records go. */
export interface OnSuccess {
  /** A function ARN or `nats:<subject>`; absent or empty: none. */
  Destination?: string;
}

/** Where the records of events that failed every attempt, or grew too old, go. */
export interface OnFailure {
  /** A function ARN or `nats:<subject>`; absent or empty: none. */
  Destination?: string;
}

/** botocore `DestinationConfig`. */
export interface DestinationConfig {
  OnSuccess?: OnSuccess;
  OnFailure?: OnFailure;
}

/** Input of PutFunctionEventInvokeConfig and UpdateFunctionEventInvokeConfig. */
export interface PutFunctionEventInvokeConfigRequest {
  FunctionName: string;
  /** `$LATEST` (the default), `$LATEST.PUBLISHED` or a version number. */
  Qualifier?: string;
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
  DestinationConfig?: DestinationConfig;
}

/** Input of UpdateFunctionEventInvokeConfig: members given replace the stored ones; DestinationConfig is replaced whole. */
export type UpdateFunctionEventInvokeConfigRequest = PutFunctionEventInvokeConfigRequest;

/** Input of GetFunctionEventInvokeConfig and DeleteFunctionEventInvokeConfig. */
export interface FunctionEventInvokeConfigRequest {
  FunctionName: string;
  Qualifier?: string;
}

/** Input of ListFunctionEventInvokeConfigs. */
export interface ListFunctionEventInvokeConfigsRequest {
  FunctionName: string;
  Marker?: string;
  /** 1–50. Default 50. */
  MaxItems?: number;
}

/** botocore `FunctionEventInvokeConfig`, as Get/Put/Update/List return it. */
export interface FunctionEventInvokeConfig {
  /** When the configuration last changed, epoch seconds (a timestamp on the JSON wire). */
  LastModified: number;
  /** The function's ARN qualified with the configuration's qualifier (`…:$LATEST` when unqualified). */
  FunctionArn: string;
  /** Absent when never set (the default 2 applies). */
  MaximumRetryAttempts?: number;
  /** Absent when never set (the default 21600 applies). */
  MaximumEventAgeInSeconds?: number;
  /** Always present, with an empty object for a missing destination, as Lambda answers. */
  DestinationConfig: { OnSuccess: OnSuccess; OnFailure: OnFailure };
}

/** Output of ListFunctionEventInvokeConfigs. */
export interface ListFunctionEventInvokeConfigsResponse {
  FunctionEventInvokeConfigs: FunctionEventInvokeConfig[];
  NextMarker?: string;
}

/** One qualifier's configuration as the function's state keeps it; only what was set is present. */
export interface EventInvokeConfigRecord {
  readonly MaximumRetryAttempts?: number;
  readonly MaximumEventAgeInSeconds?: number;
  /** Destination of success records. */
  readonly OnSuccess?: string;
  /** Destination of failure records. */
  readonly OnFailure?: string;
  /** When it last changed, ISO 8601. */
  readonly LastModified: string;
}

/** A destination, parsed. */
export type EventDestination =
  | {
      readonly kind: 'function';
      /** The ARN as given. */
      readonly arn: string;
      readonly FunctionName: string;
      /** The version the ARN names; absent: unqualified (`$LATEST.PUBLISHED` on LMI). */
      readonly Qualifier?: string;
    }
  | { readonly kind: 'nats'; readonly subject: string };

/** What validation needs besides the request: facts about other resources, loaded by the caller. */
export interface DestinationFacts {
  /**
   * For every function a destination ARN names: whether it exists. A name the
   * request uses but this map lacks is a wiring error (a plain Error).
   */
  readonly destinationFunctions: Readonly<Record<string, boolean>>;
  /**
   * First subject tokens a `nats:` destination may not use, because Hearth
   * itself publishes there (its bus prefix). Default none; `$…` and `_INBOX`
   * are always refused.
   */
  readonly reservedSubjectPrefixes?: readonly string[];
}

const subjectToken = /^[A-Za-z0-9_-]+$/;

/**
 * Parses a destination: a full function ARN (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`)
 * or `nats:<subject>` (dot-separated tokens of letters, digits, `_` and `-`, no wildcards).
 * Undefined when the text is neither. Scope and existence are not checked here.
 */
export function parseEventDestination(text: string): EventDestination | undefined {
  if (text.startsWith(natsDestinationPrefix)) {
    const subject = text.slice(natsDestinationPrefix.length);
    const tokens = subject.split('.');
    return subject !== '' && tokens.every((token) => subjectToken.test(token)) ? { kind: 'nats', subject } : undefined;
  }
  if (!text.startsWith('arn:')) return undefined;
  try {
    const parts = parseFunctionName(text);
    if (parts.region === undefined || parts.accountId === undefined) return undefined;
    return { kind: 'function', arn: text, FunctionName: parts.name, ...(parts.qualifier === undefined ? {} : { Qualifier: parts.qualifier }) };
  } catch {
    return undefined;
  }
}

const destinationAllowed = `a function ARN arn:aws:lambda:<region>:<account-id>:function:<name>[:<version>] or ${natsDestinationPrefix}<subject>`;

/** The names of the functions the request's destinations name (to load their existence for {@link DestinationFacts}). */
export function destinationFunctionNames(request: unknown): string[] {
  if (typeof request !== 'object' || request === null) return [];
  const config = (request as { DestinationConfig?: unknown }).DestinationConfig;
  if (typeof config !== 'object' || config === null) return [];
  const names = new Set<string>();
  for (const member of ['OnSuccess', 'OnFailure'] as const) {
    const destination = (config as Record<string, { Destination?: unknown } | undefined>)[member]?.Destination;
    if (typeof destination !== 'string') continue;
    const parsed = parseEventDestination(destination);
    if (parsed?.kind === 'function') names.add(parsed.FunctionName);
  }
  return [...names];
}

function validateDestination(value: unknown, path: string, self: string, scope: ArnScope, facts: DestinationFacts): string | undefined {
  if (!isPresent(value)) return undefined;
  const text = checkString(value, path, { max: eventInvokeConfigLimits.destinationMaxLength });
  // botocore's pattern `^$|arn:…` lets an empty destination mean "none".
  if (text === '') return undefined;
  const parsed = parseEventDestination(text);
  if (parsed === undefined) {
    const service = /^arn:[^:]*:([^:]+):/.exec(text)?.[1];
    if (service !== undefined && service !== 'lambda') {
      reject(`${path} ${show(text)} names the AWS service ${service}, which Hearth does not have (allowed: ${destinationAllowed})`);
    }
    reject(`${path} ${show(text)} is invalid (allowed: ${destinationAllowed})`);
  }
  if (parsed.kind === 'nats') {
    const first = parsed.subject.split('.')[0] ?? '';
    const reserved = [...(facts.reservedSubjectPrefixes ?? []), '_INBOX'];
    if (reserved.includes(first)) {
      reject(`${path} ${show(text)} publishes under ${first}., which Hearth reserves (allowed: any other subject)`);
    }
    return text;
  }
  const parts = parseFunctionName(text, undefined, path);
  if (parts.region !== scope.region || parts.accountId !== scope.accountId) {
    reject(`${path} ${show(text)} names a function of another region or account (allowed: functions in ${scope.region}, account ${scope.accountId})`);
  }
  if (parsed.FunctionName === self) reject("You can't specify the function as a destination for itself.");
  const exists = facts.destinationFunctions[parsed.FunctionName];
  if (exists === undefined) throw new Error(`existence of destination function ${parsed.FunctionName} was not loaded`);
  if (!exists) reject(`The destination ARN ${text} is invalid.`);
  return text;
}

/** The settings a Put or Update request gives, validated; members it leaves out are absent. */
export interface EventInvokeConfigChanges {
  readonly MaximumRetryAttempts?: number;
  readonly MaximumEventAgeInSeconds?: number;
  /** Present when the request gave DestinationConfig (which then replaces both destinations). */
  readonly destinations?: { readonly OnSuccess?: string; readonly OnFailure?: string };
}

/**
 * Validates the settings of a Put or Update request in botocore member order.
 * At least one setting is required (Lambda's `You must specify at least one
 * of error handling or destination setting.`). Throws InvalidParameterValueException.
 */
export function validateEventInvokeConfigChanges(
  request: Record<string, unknown>,
  self: string,
  scope: ArnScope,
  facts: DestinationFacts,
): EventInvokeConfigChanges {
  const limits = eventInvokeConfigLimits;
  if (!isPresent(request.MaximumRetryAttempts) && !isPresent(request.MaximumEventAgeInSeconds) && !isPresent(request.DestinationConfig)) {
    reject('You must specify at least one of error handling or destination setting.');
  }
  const changes: { -readonly [K in keyof EventInvokeConfigChanges]: EventInvokeConfigChanges[K] } = {};
  if (isPresent(request.MaximumRetryAttempts)) {
    changes.MaximumRetryAttempts = checkInteger(request.MaximumRetryAttempts, 'MaximumRetryAttempts', limits.MaximumRetryAttempts);
  }
  if (isPresent(request.MaximumEventAgeInSeconds)) {
    changes.MaximumEventAgeInSeconds = checkInteger(request.MaximumEventAgeInSeconds, 'MaximumEventAgeInSeconds', limits.MaximumEventAgeInSeconds);
  }
  if (isPresent(request.DestinationConfig)) {
    const config = checkObject(request.DestinationConfig, 'DestinationConfig');
    const member = (name: 'OnSuccess' | 'OnFailure') =>
      isPresent(config[name]) ? checkObject(config[name], `DestinationConfig.${name}`).Destination : undefined;
    const OnSuccess = validateDestination(member('OnSuccess'), 'DestinationConfig.OnSuccess.Destination', self, scope, facts);
    const OnFailure = validateDestination(member('OnFailure'), 'DestinationConfig.OnFailure.Destination', self, scope, facts);
    changes.destinations = { ...(OnSuccess === undefined ? {} : { OnSuccess }), ...(OnFailure === undefined ? {} : { OnFailure }) };
  }
  return changes;
}

/** A stored configuration with `changes` applied: given members replace, DestinationConfig replaces both destinations. */
export function applyEventInvokeConfigChanges(
  current: EventInvokeConfigRecord | undefined,
  changes: EventInvokeConfigChanges,
  LastModified: string,
): EventInvokeConfigRecord {
  const base: Omit<EventInvokeConfigRecord, 'LastModified'> = current === undefined ? {} : withoutTimestamp(current);
  const { OnSuccess: _success, OnFailure: _failure, ...settings } = base;
  const destinations = changes.destinations ?? {
    ...(base.OnSuccess === undefined ? {} : { OnSuccess: base.OnSuccess }),
    ...(base.OnFailure === undefined ? {} : { OnFailure: base.OnFailure }),
  };
  return {
    ...settings,
    ...(changes.MaximumRetryAttempts === undefined ? {} : { MaximumRetryAttempts: changes.MaximumRetryAttempts }),
    ...(changes.MaximumEventAgeInSeconds === undefined ? {} : { MaximumEventAgeInSeconds: changes.MaximumEventAgeInSeconds }),
    ...destinations,
    LastModified,
  };
}

function withoutTimestamp(record: EventInvokeConfigRecord): Omit<EventInvokeConfigRecord, 'LastModified'> {
  const { LastModified: _time, ...rest } = record;
  return rest;
}

/** The configurations of a function by qualifier (`$LATEST` for the unqualified one); states folded before configs existed have none. */
export function eventInvokeConfigsOf(fn: ExistingFunction): Readonly<Record<string, EventInvokeConfigRecord>> {
  return fn.eventInvokeConfigs ?? {};
}

/** A function's configuration for a qualifier, or undefined. */
export function findEventInvokeConfig(fn: ExistingFunction, qualifier: string): EventInvokeConfigRecord | undefined {
  const configs = eventInvokeConfigsOf(fn);
  return Object.hasOwn(configs, qualifier) ? configs[qualifier] : undefined;
}

/** Lambda's ResourceNotFoundException for a function or version that Put/Update/List cannot find. */
export const eventInvokeConfigFunctionMissingMessage = "The function doesn't exist.";

/** Lambda's ResourceNotFoundException when a qualifier has no configuration: `The function <arn> doesn't have an EventInvokeConfig`. */
export function noEventInvokeConfig(arn: string): ResourceNotFoundException {
  return new ResourceNotFoundException(`The function ${arn} doesn't have an EventInvokeConfig`);
}

/** The function and qualifier a configuration request addresses. */
export interface EventInvokeConfigTarget {
  readonly name: string;
  /** `$LATEST` for an unqualified request. */
  readonly Qualifier: string;
  /** The function, when it exists. */
  readonly fn: ExistingFunction | undefined;
  /** True when the qualifier is `$LATEST` or names a published version that exists. */
  readonly qualifierExists: boolean;
}

/**
 * Resolves a configuration request's FunctionName and Qualifier. Configurations
 * attach to `$LATEST` (also for an unqualified request), `$LATEST.PUBLISHED` or
 * a numbered version; Hearth has no aliases. Throws what resolveFunctionName throws.
 */
export function resolveEventInvokeConfigTarget(state: FunctionStreamState, request: FunctionEventInvokeConfigRequest, scope: ArnScope): EventInvokeConfigTarget {
  const body = checkObject(request, 'request');
  const parts = resolveFunctionName(body.FunctionName, body.Qualifier, scope);
  const Qualifier = parts.qualifier ?? latestQualifier;
  const fn = functionExists(state) ? state : undefined;
  const qualifierExists = fn !== undefined && (Qualifier === latestQualifier || (isPublishedQualifier(Qualifier) && findVersion(fn, Qualifier) !== undefined));
  return { name: parts.name, Qualifier, fn, qualifierExists };
}

/** The API view of one stored configuration. */
export function eventInvokeConfigView(fn: ExistingFunction, Qualifier: string, record: EventInvokeConfigRecord): FunctionEventInvokeConfig {
  return {
    LastModified: Date.parse(record.LastModified) / 1000,
    FunctionArn: `${fn.configuration.FunctionArn}:${Qualifier}`,
    ...(record.MaximumRetryAttempts === undefined ? {} : { MaximumRetryAttempts: record.MaximumRetryAttempts }),
    ...(record.MaximumEventAgeInSeconds === undefined ? {} : { MaximumEventAgeInSeconds: record.MaximumEventAgeInSeconds }),
    DestinationConfig: {
      OnSuccess: record.OnSuccess === undefined ? {} : { Destination: record.OnSuccess },
      OnFailure: record.OnFailure === undefined ? {} : { Destination: record.OnFailure },
    },
  };
}

/**
 * GetFunctionEventInvokeConfig: the configuration of the request's qualifier
 * (`$LATEST` when unqualified), or ResourceNotFoundException `The function
 * <arn> doesn't have an EventInvokeConfig` (also when the function is missing).
 */
export function getEventInvokeConfigView(state: FunctionStreamState, request: FunctionEventInvokeConfigRequest, scope: ArnScope): FunctionEventInvokeConfig {
  const target = resolveEventInvokeConfigTarget(state, request, scope);
  const record = target.fn === undefined ? undefined : findEventInvokeConfig(target.fn, target.Qualifier);
  if (target.fn === undefined || record === undefined) throw noEventInvokeConfig(functionArn(scope, target.name, target.Qualifier));
  return eventInvokeConfigView(target.fn, target.Qualifier, record);
}

/**
 * One page of ListFunctionEventInvokeConfigs, in version order (`$LATEST`,
 * `$LATEST.PUBLISHED`, then numbers). A qualified FunctionName is refused;
 * a missing function is ResourceNotFoundException `The function doesn't exist.`;
 * MaxItems 1–50, default 50.
 */
export function listFunctionEventInvokeConfigs(
  state: FunctionStreamState,
  request: ListFunctionEventInvokeConfigsRequest,
  scope: ArnScope,
): ListFunctionEventInvokeConfigsResponse {
  const body = checkObject(request, 'request');
  const parts = resolveFunctionName(body.FunctionName, undefined, scope);
  if (parts.qualifier !== undefined) {
    reject(`FunctionName ${show(body.FunctionName)} has a qualifier (allowed: an unqualified function name or ARN)`);
  }
  if (!functionExists(state)) throw new ResourceNotFoundException(eventInvokeConfigFunctionMissingMessage);
  const fn = state;
  const qualifiers = Object.keys(eventInvokeConfigsOf(fn)).sort((a, b) => {
    const left = versionSortKey(a);
    const right = versionSortKey(b);
    return left < right ? -1 : left > right ? 1 : 0;
  });
  const result = page(qualifiers, versionSortKey, {
    marker: request.Marker,
    maxItems: request.MaxItems,
    range: maxItemsRanges.ListFunctionEventInvokeConfigs,
  });
  return {
    FunctionEventInvokeConfigs: result.items.map((qualifier) => eventInvokeConfigView(fn, qualifier, eventInvokeConfigsOf(fn)[qualifier]!)),
    ...(result.nextMarker === undefined ? {} : { NextMarker: result.nextMarker }),
  };
}

/** The settings an asynchronous invocation of one version runs with, defaults applied. */
export interface AsyncInvokeSettings {
  /** 0–2. */
  readonly MaximumRetryAttempts: number;
  /** 60–21600. */
  readonly MaximumEventAgeInSeconds: number;
  /** Parsed destination of success records; absent: none. */
  readonly OnSuccess?: EventDestination;
  /** Parsed destination of failure records; absent: none. */
  readonly OnFailure?: EventDestination;
  /** Which configuration applied: the version's qualifier, `$LATEST` (the unqualified one), or `default` (none). */
  readonly source: string;
}

/**
 * The settings of an asynchronous invocation of `version`: the version's own
 * configuration, else the unqualified one (stored as `$LATEST`, which on LMI
 * never runs and so serves as the function-wide default), else Lambda's
 * defaults. Members a configuration leaves unset take the defaults.
 */
export function asyncInvokeSettings(fn: ExistingFunction, version: string): AsyncInvokeSettings {
  const own = findEventInvokeConfig(fn, version);
  const record = own ?? findEventInvokeConfig(fn, latestQualifier);
  const source = own !== undefined ? version : record !== undefined ? latestQualifier : 'default';
  const destination = (text: string | undefined) => (text === undefined ? undefined : parseEventDestination(text));
  const OnSuccess = destination(record?.OnSuccess);
  const OnFailure = destination(record?.OnFailure);
  return {
    MaximumRetryAttempts: record?.MaximumRetryAttempts ?? eventInvokeConfigLimits.MaximumRetryAttempts.default,
    MaximumEventAgeInSeconds: record?.MaximumEventAgeInSeconds ?? eventInvokeConfigLimits.MaximumEventAgeInSeconds.default,
    ...(OnSuccess === undefined ? {} : { OnSuccess }),
    ...(OnFailure === undefined ? {} : { OnFailure }),
    source,
  };
}
