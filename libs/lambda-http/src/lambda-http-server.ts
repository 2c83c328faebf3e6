import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { InvalidRequestContentException, ServiceException, ServiceUnavailableException } from '@hearth/errors';
import { extractTraceContext, runWithRequest, withSpan, type Logger } from '@hearth/telemetry';
import { answerClientError } from './client-error.js';
import { dispatchRequest, type RouteTarget, type RoutedRequest } from './dispatch-request.js';
import type { ExtraRoute } from './extra-route.js';
import { InFlightRequests } from './in-flight-requests.js';
import type { OperationHandlers } from './operation-handlers.js';
import { ClientClosedRequestError } from './read-body.js';
import { Router } from './router.js';
import { lambdaRoutes } from './routes.js';
import { resolveBodyLimits, resolveServerTimeouts, type BodyLimits, type ServerTimeouts } from './server-options.js';

/** Options of createLambdaHttpServer. */
export interface LambdaHttpServerOptions {
  /** The operation handlers; an operation without one answers UnsupportedOperationException. */
  handlers: OperationHandlers;
  /** Receives the access log (one line per request) and error logs. */
  logger: Logger;
  /** Request body limits. Default: see BodyLimits (6 MiB invoke, 70 MiB code, 1 MiB else). */
  limits?: BodyLimits;
  /** Connection and request deadlines. Default: see ServerTimeouts. */
  timeouts?: ServerTimeouts;
  /** Non-Lambda routes served by the same server. Default: none. */
  extraRoutes?: readonly ExtraRoute[];
}

/** A Lambda-compatible HTTP server. */
export interface LambdaHttpServer {
  /** The underlying node:http server. */
  readonly server: Server;
  /** Starts listening; resolves with the bound address (port 0 picks a free port). Default host 127.0.0.1. */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /**
   * Closes gracefully and idempotently: stops accepting, closes idle
   * connections, lets in-flight requests finish for up to `graceMs`
   * (default 10000), then aborts their handlers and destroys what is left.
   */
  close(graceMs?: number): Promise<void>;
}

/** How long, after destroying every connection, close waits for the server's own close event. */
const serverCloseEventMs = 1_000;

/**
 * Creates the HTTP adapter that speaks the Lambda API (spec §8) to AWS SDKs
 * and CLIs: it routes each request to its operation, builds the operation's
 * input with Lambda member names, calls the handler, and writes the success
 * or error response exactly as `@aws-sdk/client-lambda` parses it. Each
 * request gets an id (`x-amzn-RequestId`), runs inside a SERVER span whose
 * parent is the caller's W3C `traceparent`, and yields one access log line.
 */
export function createLambdaHttpServer(options: LambdaHttpServerOptions): LambdaHttpServer {
  const timeouts = resolveServerTimeouts(options.timeouts);
  const deps = { handlers: options.handlers, limits: resolveBodyLimits(options.limits), timeouts, logger: options.logger };
  const { logger } = options;
  const router = new Router<RouteTarget>([
    ...(options.extraRoutes ?? []).map((route) => ({ ...route, target: { kind: 'extra', route } as const })),
    ...lambdaRoutes.map((route) => ({ ...route, target: { kind: 'lambda', route } as const })),
  ]);
  const inFlight = new InFlightRequests();
  let draining = false;

  const server = createServer(
    {
      maxHeaderSize: timeouts.maxHeaderBytes,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      connectionsCheckingInterval: timeouts.connectionsCheckingIntervalMs,
    },
    (req, res) => {
      const controller = new AbortController();
      inFlight.start(controller, res);
      handleRequest(req, res, controller)
        .catch((error: unknown) => {
          logger.error({ err: error }, 'HTTP request handling failed unexpectedly');
          res.destroy();
        })
        .finally(() => inFlight.done(controller));
    },
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => answerClientError(error, socket, logger, timeouts));

  async function handleRequest(req: IncomingMessage, res: ServerResponse, controller: AbortController): Promise<void> {
    const startedAt = performance.now();
    const request = routeRequest(req, res, randomUUID(), controller.signal);
    res.setHeader('x-amzn-RequestId', request.requestId);
    // While draining, tell keep-alive clients not to reuse this connection.
    if (draining) res.setHeader('Connection', 'close');
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new ClientClosedRequestError());
    });
    // Writing to a client that left is expected; the close above already aborted the handler.
    res.on('error', () => undefined);
    const deadline = setTimeout(
      () => controller.abort(new ServiceException(`The request did not complete within ${timeouts.handlerTimeoutMs} ms.`)),
      timeouts.handlerTimeoutMs,
    );
    const target = request.lookup.kind === 'match' ? request.lookup.target : undefined;
    const operation = target && operationLabel(target);
    const parent = extractTraceContext((key) => headerText(req.headers[key]));
    const spanName = target ? `${request.method} ${target.route.path}` : request.method;

    try {
      await runWithRequest(request.requestId, () =>
        context.with(parent, () =>
          withSpan(spanName, { kind: SpanKind.SERVER, attributes: spanAttributes(request, target) }, async (span) => {
            const outcome = await dispatchRequest(request, deps);
            span.setAttribute('http.response.status_code', outcome.status);
            if (outcome.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
            await responseFinished(res, timeouts.responseWriteTimeoutMs);
            const clientClosed =
              outcome.clientClosed === true || controller.signal.reason instanceof ClientClosedRequestError;
            logger.info(
              {
                event: 'http.request',
                operation,
                method: request.method,
                path: request.path,
                status: outcome.status,
                durationMs: Math.round((performance.now() - startedAt) * 10) / 10,
                requestBytes: outcome.requestBytes,
                responseBytes: outcome.responseBytes,
                ...(clientClosed ? { clientClosed } : {}),
              },
              'http request',
            );
          }),
        ),
      );
    } finally {
      clearTimeout(deadline);
    }
  }

  function routeRequest(req: IncomingMessage, res: ServerResponse, requestId: string, signal: AbortSignal): RoutedRequest {
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '';
    const queryStart = rawUrl.indexOf('?');
    const path = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
    const rawQuery = queryStart === -1 ? '' : rawUrl.slice(queryStart + 1);
    let lookup: RoutedRequest['lookup'];
    try {
      // Absolute-form targets (`GET http://host/path`) are for proxies; a Lambda endpoint is never one.
      if (!path.startsWith('/')) {
        throw new InvalidRequestContentException(
          `The request target must be an absolute path; got '${path.slice(0, 100)}'.`,
        );
      }
      lookup = router.lookup(method, path);
    } catch (error) {
      lookup = { kind: 'invalid', error };
    }
    return { req, res, requestId, method, path, rawQuery, lookup, signal };
  }

  let closing: Promise<void> | undefined;
  return {
    server,
    listen(port, host = '127.0.0.1') {
      return new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close(graceMs = 10_000) {
      closing ??= (async () => {
        draining = true;
        inFlight.closeConnectionsAfterAnswer();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await inFlight.waitUntilIdle(graceMs);
        inFlight.abortAll(new ServiceUnavailableException('The server is shutting down.'));
        server.closeAllConnections();
        await withinMs(closed, serverCloseEventMs);
      })();
      return closing;
    },
  };
}

/** The name of what a request addresses, in logs: the Lambda operation, or the extra route's name. */
function operationLabel(target: RouteTarget): string {
  if (target.kind === 'lambda') return target.route.operation;
  return target.route.name ?? `${target.route.method} ${target.route.path}`;
}

/** HTTP server span attributes (OpenTelemetry semantic conventions), plus the RPC ones for a Lambda operation. */
function spanAttributes(request: RoutedRequest, target: RouteTarget | undefined): Attributes {
  const attributes: Attributes = {
    'http.request.method': request.method,
    'url.path': request.path,
    'hearth.request_id': request.requestId,
  };
  if (target) attributes['http.route'] = target.route.path;
  if (target?.kind === 'lambda') {
    Object.assign(attributes, { 'rpc.system': 'aws-api', 'rpc.service': 'Lambda', 'rpc.method': target.route.operation });
  }
  return attributes;
}

/** Resolves when the response is fully handed to the OS or the connection closed; past the deadline, destroys it. */
function responseFinished(res: ServerResponse, deadlineMs: number): Promise<void> {
  if (res.writableFinished || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      res.destroy();
      done();
    }, deadlineMs);
    function done() {
      clearTimeout(timer);
      res.off('finish', done).off('close', done);
      resolve();
    }
    res.once('finish', done).once('close', done);
  });
}

/** Resolves when `promise` does or after `ms`, whichever is first. */
function withinMs(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}
