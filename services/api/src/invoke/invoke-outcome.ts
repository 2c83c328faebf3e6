/**
 * The router's answer to a synchronous invocation as the Invoke result the
 * surfaces send: a result (200, the payload, `X-Amz-Executed-Version`, and
 * `X-Amz-Function-Error` with the Lambda error JSON as body when the function
 * failed), a throttle (429 TooManyRequestsException with `Reason` and
 * `Retry-After` in whole seconds, at least 1), or the Lambda exception the
 * router named.
 */
import { lambdaErrorFromName, ServiceException, TooManyRequestsException } from '@hearth/errors';
import type { router } from '@hearth/proto';
import { invokePayloadLimits } from './invoke-request.js';

/** What Invoke returns to either surface (the adapter's InvokeOutput). */
export interface InvokeResult {
  /** 200 RequestResponse, 202 Event, 204 DryRun. */
  StatusCode: number;
  /** Absent for Event and DryRun. */
  Payload?: Uint8Array;
  /** `Unhandled` when the function failed; absent on success. */
  FunctionError?: string;
  /** The version that ran (RequestResponse only). */
  ExecutedVersion?: string;
}

/** Lambda's error body when a function's response passes the synchronous limit. */
export function responseTooLargePayload(limitBytes: number = invokePayloadLimits.syncBytes): Buffer {
  return Buffer.from(
    JSON.stringify({
      errorMessage: `Response payload size exceeded maximum allowed payload size (${limitBytes} bytes).`,
      errorType: 'Function.ResponseSizeTooLarge',
    }),
  );
}

/** Seconds a throttled caller should wait: the router's hint rounded up, never below 1. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

/**
 * Maps the router's answer. `fallbackVersion` is the resolved version, reported
 * when the router leaves `executed_version` empty. Throws the throttle or error.
 */
export function invokeResultOf(response: router.RouteResponse, fallbackVersion: string): InvokeResult {
  const outcome = response.outcome;
  switch (outcome?.$case) {
    case 'result': {
      const result = outcome.value;
      const ExecutedVersion = result.executedVersion || fallbackVersion;
      // The agent enforces the limit too; checking again keeps the api's contract whatever the router sends.
      if (result.payload.byteLength > invokePayloadLimits.syncBytes) {
        return { StatusCode: 200, Payload: responseTooLargePayload(), FunctionError: 'Unhandled', ExecutedVersion };
      }
      return {
        StatusCode: 200,
        Payload: result.payload,
        ExecutedVersion,
        ...(result.functionError ? { FunctionError: result.functionError } : {}),
      };
    }
    case 'throttled': {
      const { reason, message, retryAfterMs } = outcome.value;
      throw new TooManyRequestsException(message || 'Rate Exceeded.', {
        ...(reason ? { reason } : {}),
        retryAfterSeconds: retryAfterSeconds(retryAfterMs),
      });
    }
    case 'error':
      throw lambdaErrorFromName(outcome.value.exception || 'ServiceException', outcome.value.message || 'The router failed the invocation.');
    default:
      throw new ServiceException('An internal error occurred. It has been logged.', {
        cause: new Error(`the router answered request ${response.requestId} without an outcome`),
      });
  }
}
