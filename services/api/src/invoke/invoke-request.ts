/**
 * Checks of an Invoke request that need no function state, with Lambda's
 * exceptions and messages: invocation and log types, payload size by
 * invocation type, client context, and that the payload is JSON. The same
 * checks serve the HTTP surface (whose adapter already validated the headers
 * and capped the body at 6 MiB) and the gRPC surface (which did neither).
 */
import { InvalidParameterValueException, InvalidRequestContentException, RequestTooLargeException } from '@hearth/errors';

/** How Invoke runs the function (`X-Amz-Invocation-Type`). */
export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';
/** `X-Amz-Log-Type`. */
export type LogType = 'None' | 'Tail';

const invocationTypes: readonly InvocationType[] = ['RequestResponse', 'Event', 'DryRun'];
const logTypes: readonly LogType[] = ['None', 'Tail'];

/** Lambda's payload limits, bytes. */
export const invokePayloadLimits = Object.freeze({
  /** RequestResponse and DryRun requests, and every response: 6 MiB. */
  syncBytes: 6 * 1024 * 1024,
  /** Event requests: 1 MiB. */
  asyncBytes: 1024 * 1024,
});

/** Longest `X-Amz-Client-Context`, bytes (botocore). */
export const clientContextMaxBytes = 3583;

/** Lambda's InvalidParameterValueException for `LogType: Tail` on a function with a capacity provider (spec §5). */
export const tailLogsMessage = 'Tail logs are not supported for functions configured with capacity provider';

/** An Invoke request as either surface delivers it (Lambda member names). */
export interface InvokeRequestInput {
  FunctionName?: unknown;
  Qualifier?: unknown;
  /** Default `RequestResponse`. */
  InvocationType?: unknown;
  /** Default `None`. */
  LogType?: unknown;
  ClientContext?: unknown;
  TenantId?: unknown;
  DurableExecutionName?: unknown;
  /** Default: empty (the runtime then receives `{}`). */
  Payload?: Uint8Array;
}

/** An Invoke request after the checks that need no function. */
export interface CheckedInvokeRequest {
  readonly FunctionName: unknown;
  readonly Qualifier: unknown;
  readonly InvocationType: InvocationType;
  readonly LogType: LogType;
  readonly ClientContext?: string;
  readonly Payload: Buffer;
}

function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new InvalidParameterValueException(`${name} '${String(value).slice(0, 100)}' is not valid (allowed: ${allowed.join(', ')}).`);
}

function asBuffer(bytes: Uint8Array | undefined): Buffer {
  if (bytes === undefined) return Buffer.alloc(0);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Checks types, size limits (RequestTooLargeException 413 with Lambda's
 * message: 6291456 bytes for RequestResponse and DryRun, 1048576 for Event),
 * TenantId and DurableExecutionName (Hearth has neither tenancy nor durable
 * functions) and ClientContext (InvalidRequestContentException unless base64 JSON
 * of at most 3583 bytes). The payload's JSON is checked by {@link checkPayloadJson}.
 */
export function checkInvokeRequest(input: InvokeRequestInput): CheckedInvokeRequest {
  const InvocationType = oneOf(input.InvocationType, 'InvocationType', invocationTypes, 'RequestResponse');
  const LogType = oneOf(input.LogType, 'LogType', logTypes, 'None');
  if (input.TenantId !== undefined && input.TenantId !== null && input.TenantId !== '') {
    throw new InvalidParameterValueException('TenantId is not supported: Hearth functions have no TenancyConfig (allowed: no X-Amz-Tenant-Id).');
  }
  if (input.DurableExecutionName !== undefined && input.DurableExecutionName !== null && input.DurableExecutionName !== '') {
    throw new InvalidParameterValueException('DurableExecutionName is not supported: Hearth has no durable functions (allowed: no X-Amz-Durable-Execution-Name).');
  }
  const Payload = asBuffer(input.Payload);
  if (InvocationType === 'Event' && Payload.byteLength > invokePayloadLimits.asyncBytes) {
    throw new RequestTooLargeException(`Request must be smaller than ${invokePayloadLimits.asyncBytes} bytes for the InvokeAsync operation`);
  }
  if (Payload.byteLength > invokePayloadLimits.syncBytes) {
    throw new RequestTooLargeException(`Request must be smaller than ${invokePayloadLimits.syncBytes} bytes for the InvokeFunction operation`);
  }
  const ClientContext = checkClientContext(input.ClientContext);
  return {
    FunctionName: input.FunctionName,
    Qualifier: input.Qualifier === '' ? undefined : input.Qualifier,
    InvocationType,
    LogType,
    ...(ClientContext === undefined ? {} : { ClientContext }),
    Payload,
  };
}

const clientContextMessage = 'Client context must be a valid Base64-encoded JSON object.';

function checkClientContext(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || value.length > clientContextMaxBytes || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new InvalidRequestContentException(clientContextMessage);
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TypeError('not an object');
  } catch {
    throw new InvalidRequestContentException(clientContextMessage);
  }
  return value;
}

/**
 * Refuses a payload that is not JSON, as Lambda does, with
 * InvalidRequestContentException `Could not parse request body into json: …`.
 * Only a truly empty payload means "no event" (the runtimes give the handler `{}`).
 */
export function checkPayloadJson(payload: Buffer): void {
  if (payload.byteLength === 0) return;
  try {
    JSON.parse(payload.toString('utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidRequestContentException(`Could not parse request body into json: Could not parse payload into json: ${reason}`);
  }
}

/** The LogType check, once the function is known to run on a capacity provider (every Hearth function does). */
export function checkLogType(logType: LogType): void {
  if (logType === 'Tail') throw new InvalidParameterValueException(tailLogsMessage);
}
