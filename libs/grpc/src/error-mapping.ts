import { Metadata, status as GrpcStatus, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { grpcErrorMetadata, lambdaErrorFromName, type LambdaError } from '@hearth/errors';

/**
 * The gRPC status of a LambdaError: its code, its message, and trailers naming
 * the Lambda exception, reason and retry hint so a Hearth client rebuilds the
 * same typed error.
 */
export function lambdaErrorToStatus(error: LambdaError): Partial<StatusObject> {
  const metadata = new Metadata();
  metadata.set(grpcErrorMetadata.exception, error.name);
  if (error.reason !== undefined) metadata.set(grpcErrorMetadata.reason, error.reason);
  if (error.retryAfterSeconds !== undefined) metadata.set(grpcErrorMetadata.retryAfter, String(error.retryAfterSeconds));
  return { code: error.grpcCode, details: error.message, metadata };
}

const exceptionForStatus: Partial<Record<number, string>> = {
  [GrpcStatus.INVALID_ARGUMENT]: 'InvalidParameterValueException',
  [GrpcStatus.NOT_FOUND]: 'ResourceNotFoundException',
  [GrpcStatus.ALREADY_EXISTS]: 'ResourceConflictException',
  [GrpcStatus.ABORTED]: 'ResourceConflictException',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'TooManyRequestsException',
  [GrpcStatus.UNAVAILABLE]: 'ServiceUnavailableException',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'ServiceUnavailableException',
};

/**
 * Rebuilds a typed LambdaError from a failed call. Without Hearth's trailers
 * (a call that never reached a Hearth handler) the status code decides.
 */
export function statusToLambdaError(error: ServiceError): LambdaError {
  const first = (key: string): string | undefined => {
    const value = error.metadata?.get(key)[0];
    return value === undefined ? undefined : String(value);
  };
  const name = first(grpcErrorMetadata.exception) ?? exceptionForStatus[error.code] ?? 'ServiceException';
  const retryAfter = first(grpcErrorMetadata.retryAfter);
  const options: { reason?: string; retryAfterSeconds?: number; cause: unknown } = { cause: error };
  const reason = first(grpcErrorMetadata.reason);
  if (reason !== undefined) options.reason = reason;
  if (retryAfter !== undefined) options.retryAfterSeconds = Number(retryAfter);
  return lambdaErrorFromName(name, error.details || error.message, options);
}
