/**
 * `hearth.v1.RouterService` over a dispatcher and its routing table:
 * InvokeStream (many invocations per stream, answered as they complete,
 * cancel by request id), unary Invoke, and DescribeRoutes.
 */
import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { SpanKind, context as otelContext } from '@opentelemetry/api';
import { unaryHandlers } from '@hearth/grpc';
import { router as proto } from '@hearth/proto';
import { extractTraceContext, spanAttributes, tracer, type Logger } from '@hearth/telemetry';
import { parentContext, routeError, routeSpanName, type Dispatcher } from './dispatcher.js';
import type { RouterMetrics } from './metrics.js';
import type { RoutingTable } from './routing-table.js';
import { throttled } from './throttle.js';

/** Options of createRouterService. */
export interface RouterServiceOptions {
  dispatcher: Dispatcher;
  table: RoutingTable;
  metrics: RouterMetrics;
  logger: Logger;
  /** Most invocations in flight on one InvokeStream; beyond it, requests are throttled at once. */
  streamMaxInFlight: number;
}

/** The RouterService implementation, for `server.addService(router.RouterServiceService, …)`. */
export function createRouterService(options: RouterServiceOptions): UntypedServiceImplementation {
  const { dispatcher, table, logger } = options;
  const unary = unaryHandlers(
    { invoke: proto.RouterServiceService.invoke, describeRoutes: proto.RouterServiceService.describeRoutes },
    {
      // Under unaryHandlers' SERVER span, which already continues the caller's metadata trace.
      invoke: async (request, ctx) =>
        (await dispatcher.route(request, { signal: ctx.signal, spanKind: SpanKind.INTERNAL })) ??
        routeError(request.requestId, 'ServiceException', 'The invocation was cancelled.'),
      describeRoutes: async (request) => ({ routes: table.describe(request.functionName) }),
    },
    logger,
  );
  return { ...unary, invokeStream: (call: ServerDuplexStream<proto.RouteRequest, proto.RouteResponse>) => serveInvokeStream(call, options) };
}

/**
 * One caller's stream: each request is routed on its own as it arrives
 * (its own SERVER span, continuing the request's `trace_context`, else the
 * stream's metadata), and its response written when it completes. A request
 * with `cancel` aborts the invocation of that id, which then gets no response.
 * When the caller half-closes, the stream ends once the last response is
 * written; when it goes away, every invocation of the stream is cancelled.
 */
function serveInvokeStream(call: ServerDuplexStream<proto.RouteRequest, proto.RouteResponse>, options: RouterServiceOptions): void {
  const { dispatcher, metrics, logger, streamMaxInFlight } = options;
  const streamContext = extractTraceContext((key) => {
    const value = call.metadata.get(key)[0];
    return value === undefined ? undefined : String(value);
  }, otelContext.active());
  const inFlight = new Map<string, AbortController>();
  let halfClosed = false;
  let gone = false;

  const write = (response: proto.RouteResponse): void => {
    if (!gone && !call.writableEnded) call.write(response);
  };
  const endIfDone = (): void => {
    if (halfClosed && inFlight.size === 0 && !gone && !call.writableEnded) call.end();
  };

  call.on('data', (request: proto.RouteRequest) => {
    const { requestId } = request;
    if (request.cancel) {
      inFlight.get(requestId)?.abort();
      return;
    }
    if (inFlight.has(requestId)) {
      // The first invocation of this id still answers; a second answer would be ambiguous.
      metrics.dropped('duplicate_request_id');
      logger.warn({ requestId }, 'request id already in flight on this stream; duplicate dropped');
      return;
    }
    if (inFlight.size >= streamMaxInFlight) {
      metrics.dropped('stream_in_flight_limit');
      metrics.throttle('ConcurrentInvocationLimitExceeded', { functionName: request.functionName, version: request.version });
      metrics.invocation('throttled');
      // Throttled before the dispatcher sees it: its span says so, so the trace does not just stop at the api.
      tracer
        .startSpan(
          routeSpanName,
          {
            kind: SpanKind.SERVER,
            attributes: {
              [spanAttributes.function]: request.functionName,
              [spanAttributes.version]: request.version,
              [spanAttributes.requestId]: requestId,
              [spanAttributes.throttleReason]: 'ConcurrentInvocationLimitExceeded',
              [spanAttributes.outcome]: 'throttled',
            },
          },
          parentContext(request, streamContext),
        )
        .end();
      write({
        requestId,
        outcome: {
          $case: 'throttled',
          value: { ...throttled('ConcurrentInvocationLimitExceeded', 100), message: `The router has ${inFlight.size} invocations in flight on this stream.` },
        },
      });
      return;
    }
    const abort = new AbortController();
    inFlight.set(requestId, abort);
    void dispatcher.route(request, { signal: abort.signal, parent: streamContext }).then((response) => {
      if (inFlight.get(requestId) === abort) inFlight.delete(requestId);
      if (response) write(response);
      endIfDone();
    });
  });
  call.on('end', () => {
    halfClosed = true;
    endIfDone();
  });
  const abandon = (): void => {
    if (gone) return;
    gone = true;
    for (const abort of inFlight.values()) abort.abort();
    inFlight.clear();
  };
  call.on('cancelled', abandon);
  call.on('error', (error: Error) => {
    logger.debug({ err: error }, 'InvokeStream failed');
    abandon();
  });
}
