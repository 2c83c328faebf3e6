import { randomUUID } from 'node:crypto';
import type { Metadata, sendUnaryData, ServerUnaryCall, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { SpanKind, context as otelContext } from '@opentelemetry/api';
import { ServiceException, toLambdaError } from '@hearth/errors';
import { extractTraceContext, runWithRequest, withSpan, type Logger } from '@hearth/telemetry';
import { lambdaErrorToStatus } from './error-mapping.js';

/** What a handler knows about the call besides its request. */
export interface CallContext {
  /** The caller's `x-request-id`, or a new uuid. */
  requestId: string;
  /** Aborts when the caller cancels or its deadline passes. */
  signal: AbortSignal;
  /** The call's metadata. */
  metadata: Metadata;
}

/** A unary RPC as a plain async function. */
export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;

type HandlersOf<S extends ServiceDefinition> = {
  [K in keyof S]: S[K] extends { requestDeserialize: (b: Buffer) => infer Req; responseSerialize: (r: infer Res) => Buffer }
    ? UnaryHandler<Req, Res>
    : never;
};

function firstValue(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return value === undefined ? undefined : String(value);
}

/**
 * Adapts plain async handlers to a grpc-js service implementation. Each call
 * runs in a SERVER span continuing the caller's trace, with its request id
 * attached to every log line; whatever a handler throws becomes the gRPC status
 * of a LambdaError (unknown errors are logged and answered as ServiceException).
 */
export function unaryHandlers<S extends ServiceDefinition>(
  service: S,
  handlers: HandlersOf<S>,
  logger: Logger,
): UntypedServiceImplementation {
  const implementation: UntypedServiceImplementation = {};
  for (const [method, definition] of Object.entries(service)) {
    const handler = handlers[method as keyof S] as UnaryHandler<unknown, unknown> | undefined;
    if (!handler) throw new Error(`no handler for ${definition.path}`);
    implementation[method] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const requestId = firstValue(call.metadata, 'x-request-id') ?? randomUUID();
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort(new Error('call cancelled by the client')));
      const parent = extractTraceContext((key) => firstValue(call.metadata, key), otelContext.active());
      otelContext.with(parent, () =>
        runWithRequest(requestId, () =>
          withSpan(definition.path, { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.method': method } }, () =>
            handler(call.request, { requestId, signal: abort.signal, metadata: call.metadata }),
          ).then(
            (response) => callback(null, response),
            (error: unknown) => {
              const lambdaError = toLambdaError(error);
              if (lambdaError instanceof ServiceException) {
                logger.error({ err: lambdaError.cause ?? lambdaError, method: definition.path }, 'handler failed');
              }
              callback(lambdaErrorToStatus(lambdaError), null);
            },
          ),
        ),
      );
    };
  }
  return implementation;
}
