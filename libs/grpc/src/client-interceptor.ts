import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { currentRequestId, injectTraceContext } from '@hearth/telemetry';

/**
 * A client interceptor that writes the active trace context and the current
 * request id into every outgoing call's metadata, so the server continues the
 * same trace and logs the same request id.
 */
export const tracingClientInterceptor: Interceptor = (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      injectTraceContext((key, value) => metadata.set(key, value));
      const requestId = currentRequestId();
      if (requestId !== undefined && metadata.get('x-request-id').length === 0) metadata.set('x-request-id', requestId);
      next(metadata, listener);
    },
  });
