/**
 * Lambda's asynchronous invocation record, the document a destination
 * receives (invocation-async-retain-records):
 *
 * ```json
 * { "version": "1.0", "timestamp": "2019-11-14T18:16:05.568Z",
 *   "requestContext": { "requestId": "…", "functionArn": "arn:…:function:f:1",
 *                       "condition": "RetriesExhausted", "approximateInvokeCount": 3 },
 *   "requestPayload": { … },
 *   "responseContext": { "statusCode": 200, "executedVersion": "1", "functionError": "Unhandled" },
 *   "responsePayload": { "errorMessage": "…", "errorType": "…" } }
 * ```
 *
 * Payloads are embedded as JSON when they are JSON, else as text. A record
 * larger than the destination can carry loses its responsePayload, then its
 * requestPayload (set to null), rather than not being sent at all.
 */
import type { AsyncInvocation } from '@hearth/domain';
import { lambdaErrorFromName } from '@hearth/errors';
import type { RecordCondition } from './retry-policy.js';

/** The response an attempt produced, as the record reports it. */
export type RecordResponse =
  | { readonly kind: 'result'; readonly executedVersion: string; readonly functionError?: string; readonly payload: Uint8Array }
  | { readonly kind: 'error'; readonly exception: string; readonly message: string };

/** Lambda's invocation record. */
export interface InvocationRecord {
  version: '1.0';
  timestamp: string;
  requestContext: { requestId: string; functionArn: string; condition: RecordCondition; approximateInvokeCount: number };
  requestPayload: unknown;
  responseContext?: { statusCode: number; executedVersion: string; functionError?: string };
  responsePayload?: unknown;
}

/** What was left out of a record to fit its destination. */
export type RecordTrim = 'none' | 'responsePayload' | 'requestPayload';

/** A payload as the record embeds it: parsed JSON, else the text, null when empty. */
export function embeddedPayload(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) return null;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Builds the record. */
export function invocationRecord(input: {
  invocation: AsyncInvocation;
  condition: RecordCondition;
  approximateInvokeCount: number;
  requestPayload: Uint8Array;
  response?: RecordResponse;
  now: Date;
}): InvocationRecord {
  const { invocation, response } = input;
  const record: InvocationRecord = {
    version: '1.0',
    timestamp: input.now.toISOString(),
    requestContext: {
      requestId: invocation.requestId,
      functionArn: invocation.functionArn,
      condition: input.condition,
      approximateInvokeCount: input.approximateInvokeCount,
    },
    requestPayload: embeddedPayload(input.requestPayload),
  };
  if (response?.kind === 'result') {
    record.responseContext = {
      statusCode: 200,
      executedVersion: response.executedVersion || invocation.version,
      ...(response.functionError ? { functionError: response.functionError } : {}),
    };
    record.responsePayload = embeddedPayload(response.payload);
  } else if (response?.kind === 'error') {
    // The platform, not the function, answered: its status and exception stand in for the function's.
    record.responseContext = { statusCode: lambdaErrorFromName(response.exception, response.message).httpStatus, executedVersion: invocation.version };
    record.responsePayload = { errorMessage: response.message, errorType: response.exception };
  }
  return record;
}

/** The record as bytes of at most `maxBytes`, trimming payloads if it must. */
export function encodeRecord(record: InvocationRecord, maxBytes: number): { bytes: Buffer; trimmed: RecordTrim } {
  let bytes = Buffer.from(JSON.stringify(record));
  if (bytes.byteLength <= maxBytes) return { bytes, trimmed: 'none' };
  if (record.responsePayload !== undefined) {
    bytes = Buffer.from(JSON.stringify({ ...record, responsePayload: null }));
    if (bytes.byteLength <= maxBytes) return { bytes, trimmed: 'responsePayload' };
  }
  const bare = { ...record, requestPayload: null, ...(record.responsePayload === undefined ? {} : { responsePayload: null }) };
  return { bytes: Buffer.from(JSON.stringify(bare)), trimmed: 'requestPayload' };
}
