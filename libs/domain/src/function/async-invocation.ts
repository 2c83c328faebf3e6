/**
 * The asynchronous invocation queue's contract, shared by its producer (the
 * api, on Invoke with InvocationType Event) and its consumer (the router's
 * async invoker): where messages live and what their headers say. Pure data;
 * the NATS calls are the services' business.
 *
 * - Stream `${PREFIX}_INVOCATIONS` (work-queue retention), subjects
 *   `${prefix}.invocations.<FunctionName>`.
 * - Body: the event payload bytes, untouched.
 * - Headers: {@link asyncInvocationHeaders}, plus the W3C `traceparent` / `tracestate`
 *   of the Invoke call, so the invocation continues the caller's trace.
 * - JetStream message id: the request id for the api's message, `<requestId>#<generation>`
 *   for a re-enqueued retry, so a publish repeated after a crash is dropped as a duplicate.
 */
import { functionNamePattern } from '../arn.js';
import { isPublishedQualifier } from './versions.js';

/** An asynchronous invocation waiting in the queue: what its headers carry. */
export interface AsyncInvocation {
  /** The invocation's id: the Invoke call's request id, kept by every retry (as Lambda does). */
  readonly requestId: string;
  readonly functionName: string;
  /** The resolved version: `1`, `2`, … or `$LATEST.PUBLISHED`. */
  readonly version: string;
  /** Qualified ARN of that version: `requestContext.functionArn` of the invocation record. */
  readonly functionArn: string;
  /** The version's Timeout, seconds: each attempt's deadline. */
  readonly timeoutSeconds: number;
  /** When the api accepted the event, epoch ms; its age counts from here across retries. */
  readonly enqueuedAtMs: number;
  /**
   * Version of the function's event stream the api resolved the invocation
   * against; a consumer with its own view of the function waits until it has
   * seen that far, so a configuration put just before the Invoke applies.
   * Default: no wait.
   */
  readonly functionStreamVersion?: number;
  /** `X-Amz-Client-Context` (base64 JSON). Default none. */
  readonly clientContext?: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** Retries after function errors already made (counted against MaximumRetryAttempts). Default 0. */
  readonly retries: number;
  /** Invocations that reached the function so far (before the next one). Default 0. */
  readonly invocations: number;
  /** Consecutive throttles or system errors (the backoff exponent); reset by an invocation. Default 0. */
  readonly throttles: number;
  /** Times the event was re-enqueued; 0 for the api's message. Default 0. */
  readonly generation: number;
  /** Not to be invoked before this time, epoch ms. Default: at once. */
  readonly notBeforeMs?: number;
}

/** NATS header names of an {@link AsyncInvocation}. */
export const asyncInvocationHeaders = Object.freeze({
  requestId: 'Hearth-Request-Id',
  functionName: 'Hearth-Function-Name',
  version: 'Hearth-Version',
  functionArn: 'Hearth-Function-Arn',
  timeoutSeconds: 'Hearth-Timeout-Seconds',
  enqueuedAtMs: 'Hearth-Enqueued-At',
  functionStreamVersion: 'Hearth-Function-Stream-Version',
  clientContext: 'Hearth-Client-Context',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  retries: 'Hearth-Retries',
  invocations: 'Hearth-Invocations',
  throttles: 'Hearth-Throttles',
  generation: 'Hearth-Generation',
  notBeforeMs: 'Hearth-Not-Before',
} satisfies Record<keyof AsyncInvocation, string>);

const prefixPattern = /^[a-z][a-z0-9-]{0,31}$/;

function checkedPrefix(prefix: string): string {
  // Same rule as the bus's prefix: it becomes a subject token and part of a stream name.
  if (!prefixPattern.test(prefix)) throw new RangeError(`NATS prefix "${prefix}" must match ${prefixPattern.source}`);
  return prefix;
}

/** The work-queue stream of asynchronous invocations: `${PREFIX}_INVOCATIONS` (`HEARTH_INVOCATIONS`). */
export function asyncInvocationStreamName(prefix: string): string {
  return `${checkedPrefix(prefix).toUpperCase().replaceAll('-', '_')}_INVOCATIONS`;
}

/** Subject of one function's asynchronous invocations: `${prefix}.invocations.<FunctionName>`. */
export function asyncInvocationSubject(prefix: string, functionName: string): string {
  if (!functionNamePattern.regex.test(functionName)) throw new RangeError(`"${functionName}" is not a function name`);
  return `${checkedPrefix(prefix)}.invocations.${functionName}`;
}

/** Subject filter of every asynchronous invocation: `${prefix}.invocations.>`. */
export function allAsyncInvocationsSubject(prefix: string): string {
  return `${checkedPrefix(prefix)}.invocations.>`;
}

/** JetStream message id of an invocation message: the request id, then `<requestId>#<generation>` for retries. */
export function asyncInvocationMessageId(invocation: Pick<AsyncInvocation, 'requestId' | 'generation'>): string {
  return invocation.generation === 0 ? invocation.requestId : `${invocation.requestId}#${invocation.generation}`;
}

/** The headers of an invocation message, by name; optional members that are absent are left out. */
export function encodeAsyncInvocation(invocation: AsyncInvocation): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [member, name] of Object.entries(asyncInvocationHeaders) as [keyof AsyncInvocation, string][]) {
    const value = invocation[member];
    if (value !== undefined) headers[name] = String(value);
  }
  return headers;
}

/** A malformed invocation message: its delivery should be ended, not retried. */
export class MalformedAsyncInvocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedAsyncInvocationError';
  }
}

/**
 * Reads an invocation back from its headers (`get` returns a header's value,
 * or undefined). Throws MalformedAsyncInvocationError naming the first bad header.
 */
export function decodeAsyncInvocation(get: (name: string) => string | undefined): AsyncInvocation {
  const h = asyncInvocationHeaders;
  const text = (name: string, optional = false): string | undefined => {
    const value = get(name);
    if (value === undefined || value === '') {
      if (optional) return undefined;
      throw new MalformedAsyncInvocationError(`header ${name} is missing`);
    }
    return value;
  };
  const count = (name: string, optional = true): number | undefined => {
    const value = text(name, optional);
    if (value === undefined) return undefined;
    if (!/^\d{1,15}$/.test(value)) throw new MalformedAsyncInvocationError(`header ${name} is not a whole number: ${value.slice(0, 40)}`);
    return Number(value);
  };
  const functionName = text(h.functionName)!;
  if (!functionNamePattern.regex.test(functionName)) throw new MalformedAsyncInvocationError(`header ${h.functionName} is not a function name`);
  const version = text(h.version)!;
  if (!isPublishedQualifier(version)) throw new MalformedAsyncInvocationError(`header ${h.version} is not a published version: ${version.slice(0, 40)}`);
  const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));
  return {
    requestId: text(h.requestId)!,
    functionName,
    version,
    functionArn: text(h.functionArn)!,
    timeoutSeconds: count(h.timeoutSeconds, false)!,
    enqueuedAtMs: count(h.enqueuedAtMs, false)!,
    ...optional('functionStreamVersion', count(h.functionStreamVersion)),
    ...optional('clientContext', text(h.clientContext, true)),
    ...optional('traceparent', text(h.traceparent, true)),
    ...optional('tracestate', text(h.tracestate, true)),
    retries: count(h.retries) ?? 0,
    invocations: count(h.invocations) ?? 0,
    throttles: count(h.throttles) ?? 0,
    generation: count(h.generation) ?? 0,
    ...optional('notBeforeMs', count(h.notBeforeMs)),
  };
}
