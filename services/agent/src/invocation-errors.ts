/**
 * The error payloads Lambda itself returns for an invocation that did not end
 * with the runtime's own /response or /error, in Lambda's wire shape
 * (`{errorMessage, errorType}`), answered with function error `Unhandled`.
 */

/** The `function_error` of every invocation that failed in the function or its runtime. */
export const unhandledFunctionError = 'Unhandled';

/** Lambda's error body for an invocation. */
export interface LambdaErrorBody {
  errorMessage: string;
  errorType: string;
  stackTrace?: string[];
}

/**
 * The invocation ran past its deadline. As in Lambda, only the invocation fails:
 * an LMI EE keeps running (and the code keeps going).
 * `RequestId: <id> Error: Task timed out after 3.00 seconds`.
 */
export function timeoutError(requestId: string, timeoutMs: number): LambdaErrorBody {
  return {
    errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
    errorType: 'Sandbox.Timedout',
  };
}

/** The runtime process ended while the invocation was in flight (crash, kill, or StopEnvironment). */
export function runtimeExitError(requestId: string, exit: string): LambdaErrorBody {
  return {
    errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${exit}`,
    errorType: 'Runtime.ExitError',
  };
}

/** The runtime answered with a body larger than Lambda allows for a synchronous response. */
export function responseTooLargeError(limitBytes: number): LambdaErrorBody {
  return {
    errorMessage: `Response payload size exceeded maximum allowed payload size (${limitBytes} bytes).`,
    errorType: 'Function.ResponseSizeTooLarge',
  };
}

/** Serialises an error body as the invocation's payload. */
export function errorPayload(body: LambdaErrorBody): Buffer {
  return Buffer.from(JSON.stringify(body));
}
