import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ServiceException, type LambdaError } from '@hearth/errors';
import { MethodNotAllowedException } from './http-errors.js';
import type { InvocationType, InvokeOutput } from './operation-handlers.js';

/** Headers set once per request that an error response keeps. */
const keptOnError = new Set(['x-amzn-requestid', 'connection']);

/**
 * Serializes a handler result as restJson1 expects: a Date becomes epoch
 * seconds and a Uint8Array base64 (the replacer looks at the original value
 * because `toJSON` of both runs before it).
 */
export function toJsonBody(value: unknown): Buffer {
  function replacer(this: Record<string, unknown>, key: string, converted: unknown): unknown {
    const original = this[key];
    if (original instanceof Date) return original.getTime() / 1000;
    if (original instanceof Uint8Array) return toBuffer(original).toString('base64');
    return converted;
  }
  return Buffer.from(JSON.stringify(value ?? {}, replacer), 'utf8');
}

/** Sends a JSON body. Returns the body's byte count. */
export function sendJson(res: ServerResponse, status: number, value: unknown): number {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new ServiceException('An internal error occurred. It has been logged.', {
      cause: new TypeError(`A JSON operation handler returned ${got}, not an object`),
    });
  }
  const body = toJsonBody(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.byteLength });
  res.end(body);
  return body.byteLength;
}

/** Sends a status without a body. Returns 0, the body's byte count. */
export function sendEmpty(res: ServerResponse, status: number): number {
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
  return 0;
}

/**
 * Sends a Lambda error: its status, `X-Amzn-ErrorType`, `Retry-After` when it
 * carries a retry hint, `Allow` for 405, and the body `{Type, Message, message, Reason?}`.
 * Returns the body's byte count.
 */
export function sendError(res: ServerResponse, error: LambdaError): number {
  // Headers a failed success path may have set must not describe the error.
  for (const name of res.getHeaderNames()) if (!keptOnError.has(name)) res.removeHeader(name);
  const body = Buffer.from(JSON.stringify(error.toBody()), 'utf8');
  const headers: OutgoingHttpHeaders = {
    'Content-Type': 'application/json',
    'Content-Length': body.byteLength,
    'X-Amzn-ErrorType': error.name,
  };
  // Retry-After is whole seconds; rounding up never invites a retry too early.
  if (error.retryAfterSeconds !== undefined) {
    headers['Retry-After'] = String(Math.max(0, Math.ceil(error.retryAfterSeconds)));
  }
  if (error instanceof MethodNotAllowedException) headers.Allow = error.allowed.join(', ');
  res.writeHead(error.httpStatus, headers);
  res.end(body);
  return body.byteLength;
}

const invokeStatusByType: Readonly<Record<InvocationType, number>> = { RequestResponse: 200, Event: 202, DryRun: 204 };

/**
 * Sends an Invoke result: raw payload bytes, with `X-Amz-Function-Error`,
 * `X-Amz-Executed-Version`, `X-Amz-Log-Result` and
 * `X-Amz-Durable-Execution-Arn` when set. Returns the body's byte count.
 */
export function sendInvokeOutput(res: ServerResponse, output: InvokeOutput, invocationType: InvocationType): number {
  const status = successStatus(output.StatusCode, invokeStatusByType[invocationType], 'StatusCode');
  const payload = status === 204 || output.Payload === undefined ? Buffer.alloc(0) : toBuffer(output.Payload);
  const headers: OutgoingHttpHeaders = { 'Content-Length': payload.byteLength };
  if (payload.byteLength > 0) headers['Content-Type'] = 'application/json';
  if (output.FunctionError !== undefined) headers['X-Amz-Function-Error'] = output.FunctionError;
  if (output.ExecutedVersion !== undefined) headers['X-Amz-Executed-Version'] = output.ExecutedVersion;
  if (output.LogResult !== undefined) headers['X-Amz-Log-Result'] = output.LogResult;
  if (output.DurableExecutionArn !== undefined) headers['X-Amz-Durable-Execution-Arn'] = output.DurableExecutionArn;
  res.writeHead(status, headers);
  res.end(payload);
  return payload.byteLength;
}

/**
 * The status a handler chose through a status member, or the default. Only
 * 2xx is accepted: any other status would make the SDK parse the body as an
 * error, so a handler returning one is a bug (ServiceException, logged).
 */
export function successStatus(chosen: unknown, fallback: number, member: string): number {
  if (chosen === undefined) return fallback;
  if (typeof chosen === 'number' && Number.isInteger(chosen) && chosen >= 200 && chosen <= 299) return chosen;
  throw new ServiceException('An internal error occurred. It has been logged.', {
    cause: new RangeError(`A handler returned ${member} ${String(chosen)}; only 2xx integers are allowed`),
  });
}

/** A view of the bytes as a Buffer without copying. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
