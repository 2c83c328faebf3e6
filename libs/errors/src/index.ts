/**
 * One error hierarchy for every Hearth service. Each class carries the Lambda
 * exception name, the HTTP status a Lambda client expects, and the gRPC status
 * code; the mapping to a wire happens once, in the gRPC interceptor and in the
 * HTTP adapter, never in handlers.
 */

/** gRPC status codes used by Hearth (numeric values from the gRPC spec). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

/** Who is at fault, as Lambda's error body `Type` field reports it. */
export type FaultType = 'User' | 'Service';

/** Options common to every Lambda error. */
export interface LambdaErrorOptions {
  /** Throttle or conflict reason, sent as `Reason` in the body (Lambda's `ThrottleReason`, or a state reason). */
  reason?: string;
  /** Seconds the caller should wait before retrying; sent as the `Retry-After` header. */
  retryAfterSeconds?: number;
  /** The underlying error, kept for logs only; never sent to a caller. */
  cause?: unknown;
}

/**
 * Base of every error a caller may see. `name` is the Lambda exception name
 * (`ResourceNotFoundException`, …), which the AWS SDK turns into a typed error.
 */
export abstract class LambdaError extends Error {
  abstract readonly httpStatus: number;
  abstract readonly grpcCode: GrpcCode;
  readonly type: FaultType = 'User';
  readonly reason: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, options: LambdaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.reason = options.reason;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The JSON body a Lambda client expects: `{Type, Message, Reason?}`. */
  toBody(): { Type: FaultType; Message: string; message: string; Reason?: string } {
    const body: { Type: FaultType; Message: string; message: string; Reason?: string } = {
      Type: this.type,
      Message: this.message,
      // The AWS SDK reads `message` for some exceptions and `Message` for others.
      message: this.message,
    };
    if (this.reason !== undefined) body.Reason = this.reason;
    return body;
  }
}

/** A parameter is outside what is allowed; the message names the field and the allowed values. HTTP 400. */
export class InvalidParameterValueException extends LambdaError {
  readonly httpStatus = 400;
  readonly grpcCode = GrpcCode.INVALID_ARGUMENT;
}

/** The request body is not valid JSON or not the expected shape. HTTP 400. */
export class InvalidRequestContentException extends LambdaError {
  readonly httpStatus = 400;
  readonly grpcCode = GrpcCode.INVALID_ARGUMENT;
}

/** The named resource does not exist. HTTP 404. */
export class ResourceNotFoundException extends LambdaError {
  readonly httpStatus = 404;
  readonly grpcCode = GrpcCode.NOT_FOUND;
}

/** The resource exists already, is in a state that forbids the call, or was changed concurrently. HTTP 409. */
export class ResourceConflictException extends LambdaError {
  readonly httpStatus = 409;
  readonly grpcCode = GrpcCode.ABORTED;
}

/** A RevisionId given by the caller no longer matches the resource: someone changed it since it was read. HTTP 412. */
export class PreconditionFailedException extends LambdaError {
  readonly httpStatus = 412;
  readonly grpcCode = GrpcCode.FAILED_PRECONDITION;
}

/** The request was throttled; `reason` and `retryAfterSeconds` say why and when to retry. HTTP 429. */
export class TooManyRequestsException extends LambdaError {
  readonly httpStatus = 429;
  readonly grpcCode = GrpcCode.RESOURCE_EXHAUSTED;
}

/** The request body is larger than the operation allows. HTTP 413. */
export class RequestTooLargeException extends LambdaError {
  readonly httpStatus = 413;
  readonly grpcCode = GrpcCode.OUT_OF_RANGE;
}

/** The request's content type is not one the operation accepts. HTTP 415. */
export class UnsupportedMediaTypeException extends LambdaError {
  readonly httpStatus = 415;
  readonly grpcCode = GrpcCode.INVALID_ARGUMENT;
}

/** The account already has the maximum number of capacity providers. HTTP 400. */
export class CapacityProviderLimitExceededException extends LambdaError {
  readonly httpStatus = 400;
  readonly grpcCode = GrpcCode.RESOURCE_EXHAUSTED;
}

/** A capacity provider already carries the maximum number of function versions. HTTP 400. */
export class FunctionVersionsPerCapacityProviderLimitExceededException extends LambdaError {
  readonly httpStatus = 400;
  readonly grpcCode = GrpcCode.RESOURCE_EXHAUSTED;
}

/** An invoke named no qualifier and the function has no published version. HTTP 400. */
export class NoPublishedVersionException extends LambdaError {
  readonly httpStatus = 400;
  readonly grpcCode = GrpcCode.FAILED_PRECONDITION;
}

/** The operation exists in the Lambda API but Hearth does not serve it. HTTP 400 (as Lambda's ModeNotSupported). */
export class UnsupportedOperationException extends LambdaError {
  readonly httpStatus = 400;
  readonly grpcCode = GrpcCode.UNIMPLEMENTED;
}

/** A fault inside Hearth. The message never leaks internals; the cause is logged. HTTP 500. */
export class ServiceException extends LambdaError {
  readonly httpStatus = 500;
  readonly grpcCode = GrpcCode.INTERNAL;
  override readonly type: FaultType = 'Service';
}

/** A dependency (database, bus, workflow engine) is unavailable; safe to retry. HTTP 503. */
export class ServiceUnavailableException extends LambdaError {
  readonly httpStatus = 503;
  readonly grpcCode = GrpcCode.UNAVAILABLE;
  override readonly type: FaultType = 'Service';
}

type LambdaErrorClass = new (message: string, options?: LambdaErrorOptions) => LambdaError;

/** Every Lambda error class by its exception name, to rebuild typed errors from a wire. */
export const lambdaErrorClasses: Readonly<Record<string, LambdaErrorClass>> = Object.freeze({
  InvalidParameterValueException,
  InvalidRequestContentException,
  ResourceNotFoundException,
  ResourceConflictException,
  PreconditionFailedException,
  TooManyRequestsException,
  RequestTooLargeException,
  UnsupportedMediaTypeException,
  CapacityProviderLimitExceededException,
  FunctionVersionsPerCapacityProviderLimitExceededException,
  NoPublishedVersionException,
  UnsupportedOperationException,
  ServiceException,
  ServiceUnavailableException,
});

/**
 * Turns anything thrown into a LambdaError. Unknown errors become a
 * ServiceException whose message hides the internals (the cause keeps them).
 */
export function toLambdaError(error: unknown): LambdaError {
  if (error instanceof LambdaError) return error;
  return new ServiceException('An internal error occurred. It has been logged.', { cause: error });
}

/**
 * Rebuilds a typed error from its exception name and message, as carried in
 * gRPC trailers or an HTTP error response. An unknown name becomes a ServiceException.
 */
export function lambdaErrorFromName(name: string, message: string, options: LambdaErrorOptions = {}): LambdaError {
  const Class = lambdaErrorClasses[name] ?? ServiceException;
  return new Class(message, options);
}

/** Metadata keys under which gRPC carries a LambdaError's name, reason and retry hint. */
export const grpcErrorMetadata = {
  exception: 'x-hearth-exception',
  reason: 'x-hearth-reason',
  retryAfter: 'x-hearth-retry-after',
} as const;
