import type { IncomingHttpHeaders } from 'node:http';
import type { OperationName } from './routes.js';

/** What every operation handler receives besides its input. */
export interface HandlerContext {
  /** The id of this request, also sent to the caller as `x-amzn-RequestId`. */
  readonly requestId: string;
  /**
   * Aborted when the answer is no longer wanted: the client disconnected, the
   * handler deadline passed, or the server is closing and its grace ran out.
   */
  readonly signal: AbortSignal;
  /** The raw request headers (lower-case names), e.g. for `authorization` or `user-agent`. */
  readonly headers: IncomingHttpHeaders;
}

/** How Invoke runs the function (`X-Amz-Invocation-Type`). */
export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';
/** Whether Invoke returns the log tail (`X-Amz-Log-Type`). */
export type LogType = 'None' | 'Tail';

/** Input of Invoke: path, query and headers as members, the body as raw bytes. */
export interface InvokeInput {
  FunctionName: string;
  Qualifier?: string;
  /** Default `RequestResponse` when the header is absent. */
  InvocationType: InvocationType;
  /** Default `None` when the header is absent. */
  LogType: LogType;
  /** Base64 client context, as sent in `X-Amz-Client-Context`. */
  ClientContext?: string;
  TenantId?: string;
  DurableExecutionName?: string;
  /**
   * The request body, any content type. Its `byteLength` is what the handler
   * checks against the async (1 MB) limit; the adapter only enforces the hard
   * cap (`BodyLimits.invokeBytes`).
   */
  Payload: Buffer;
}

/** Result of an Invoke handler. */
export interface InvokeOutput {
  /** HTTP status, 2xx. Default by invocation type: 200 RequestResponse, 202 Event, 204 DryRun. */
  StatusCode?: number;
  /** The function's response bytes, sent as the raw body. Default: empty. Never sent with 204. */
  Payload?: Uint8Array;
  /** `Unhandled` or the function's error type; sent as `X-Amz-Function-Error`. */
  FunctionError?: string;
  /** Sent as `X-Amz-Executed-Version`. */
  ExecutedVersion?: string;
  /** Base64 log tail; sent as `X-Amz-Log-Result`. */
  LogResult?: string;
  /** Sent as `X-Amz-Durable-Execution-Arn`. */
  DurableExecutionArn?: string;
}

/** Input of the legacy InvokeAsync: the body as raw bytes. */
export interface InvokeAsyncInput {
  FunctionName: string;
  InvokeArgs: Buffer;
}

/** Result of an InvokeAsync handler; the SDK reads `Status` from the HTTP status. */
export interface InvokeAsyncOutput {
  /** HTTP status, 2xx. Default 202. */
  Status?: number;
}

/** Input of InvokeWithResponseStream. */
export interface StreamingInvokeInput {
  FunctionName: string;
  Qualifier?: string;
  /** Default `RequestResponse`; `Event` is not allowed for streaming. */
  InvocationType: Exclude<InvocationType, 'Event'>;
  /** Default `None`. */
  LogType: LogType;
  ClientContext?: string;
  TenantId?: string;
  Payload: Buffer;
}

/** What ends a response stream (the `InvokeComplete` event). */
export interface InvokeCompleteEvent {
  ErrorCode?: string;
  ErrorDetails?: string;
  LogResult?: string;
}

/**
 * Result of an InvokeWithResponseStream handler. Each chunk becomes one
 * `PayloadChunk` event; then `complete()` (if given) fills the closing
 * `InvokeComplete` event. If iterating throws, the stream closes with
 * `InvokeComplete{ErrorCode: <exception name>, ErrorDetails: <message>}`
 * (internal errors are reported as ServiceException with a generic message).
 */
export interface StreamingInvokeOutput {
  /** HTTP status, 2xx. Default 200. */
  StatusCode?: number;
  ExecutedVersion?: string;
  PayloadChunks: AsyncIterable<Uint8Array>;
  complete?: () => InvokeCompleteEvent | Promise<InvokeCompleteEvent>;
}

/** Result of a DeleteFunction handler; the SDK reads `StatusCode` from the HTTP status. */
export interface DeleteFunctionOutput {
  /** HTTP status, 2xx. Default 200. */
  StatusCode?: number;
}

/**
 * Input of a JSON operation: the JSON body's members, overlaid by the path
 * labels, query parameters and headers the route binds (those win over a body
 * member of the same name). Query integers (`MaxItems`) are numbers;
 * `UntagResource.TagKeys` is a string array; blobs in a JSON body
 * (`Code.ZipFile`, `ZipFile`) stay base64 text, as on the wire.
 */
export type JsonOperationInput = Record<string, unknown>;

/** The input type of each operation. */
export type OperationInput<O extends OperationName> = O extends 'Invoke'
  ? InvokeInput
  : O extends 'InvokeAsync'
    ? InvokeAsyncInput
    : O extends 'InvokeWithResponseStream'
      ? StreamingInvokeInput
      : JsonOperationInput;

/**
 * The result type of each operation. A JSON operation returns the response
 * object (undefined is sent as `{}`; a Date is sent as epoch seconds, a
 * Uint8Array as base64); operations answered without a body ignore it.
 */
export type OperationOutput<O extends OperationName> = O extends 'Invoke'
  ? InvokeOutput
  : O extends 'InvokeAsync'
    ? InvokeAsyncOutput | void
    : O extends 'InvokeWithResponseStream'
      ? StreamingInvokeOutput
      : O extends 'DeleteFunction'
        ? DeleteFunctionOutput | void
        : unknown;

/** Serves one operation. Throwing a LambdaError answers that error; anything else answers ServiceException. */
export type OperationHandler<O extends OperationName> = (
  input: OperationInput<O>,
  ctx: HandlerContext,
) => Promise<OperationOutput<O>>;

/** The handlers of the server; an operation without one answers UnsupportedOperationException (HTTP 400). */
export type OperationHandlers = { readonly [O in OperationName]?: OperationHandler<O> };
