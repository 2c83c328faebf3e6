/**
 * Errors that only the HTTP layer can raise (no handler ever sees them), so
 * they live here rather than in `@hearth/errors`. The AWS SDK has no class for
 * these names; it turns them into a `LambdaServiceException` whose `name` is
 * the exception name and whose `message` is ours.
 */
import { GrpcCode, LambdaError } from '@hearth/errors';

/** No Lambda operation (nor extra route) has this path. HTTP 404. */
export class UnknownOperationException extends LambdaError {
  readonly httpStatus = 404;
  readonly grpcCode = GrpcCode.UNIMPLEMENTED;
}

/** The path exists, but not for this method; the response's `Allow` header lists the methods. HTTP 405. */
export class MethodNotAllowedException extends LambdaError {
  readonly httpStatus = 405;
  readonly grpcCode = GrpcCode.UNIMPLEMENTED;

  constructor(
    message: string,
    /** The methods the path accepts. */
    readonly allowed: readonly string[],
  ) {
    super(message);
  }
}

/** The client did not send the request (headers or body) in time. HTTP 408. */
export class RequestTimeoutException extends LambdaError {
  readonly httpStatus = 408;
  readonly grpcCode = GrpcCode.DEADLINE_EXCEEDED;
}

/** The request's headers are larger than the server accepts. HTTP 431. */
export class RequestHeadersTooLargeException extends LambdaError {
  readonly httpStatus = 431;
  readonly grpcCode = GrpcCode.RESOURCE_EXHAUSTED;
}
