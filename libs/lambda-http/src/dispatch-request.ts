import type { IncomingMessage, ServerResponse } from 'node:http';
import { toLambdaError, type LambdaError } from '@hearth/errors';
import type { Logger } from '@hearth/telemetry';
import type { ExtraRoute } from './extra-route.js';
import { MethodNotAllowedException, UnknownOperationException } from './http-errors.js';
import type { OperationHandlers } from './operation-handlers.js';
import { parseQueryString } from './query-string.js';
import { ClientClosedRequestError, discardUnreadBody } from './read-body.js';
import { sendError } from './responses.js';
import type { RouteLookup } from './router.js';
import type { LambdaRoute } from './routes.js';
import { serveOperation } from './serve-operation.js';
import type { ResolvedBodyLimits, ResolvedServerTimeouts } from './server-options.js';
import { untilAborted } from './until-aborted.js';

/** What a request is routed to. */
export type RouteTarget =
  | { readonly kind: 'lambda'; readonly route: LambdaRoute }
  | { readonly kind: 'extra'; readonly route: ExtraRoute };

/** What one request did, for its span and access log line. */
export interface RequestOutcome {
  readonly status: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** The client left before it could be answered (status is then 499, nginx's convention). */
  readonly clientClosed?: boolean;
}

/** One request, parsed as far as routing. */
export interface RoutedRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  /** The raw query string, without `?`. */
  readonly rawQuery: string;
  /** The route lookup, or the error that made routing impossible (bad percent-encoding). */
  readonly lookup: RouteLookup<RouteTarget> | { readonly kind: 'invalid'; readonly error: unknown };
  /** Aborts on client disconnect, handler deadline, or shutdown. */
  readonly signal: AbortSignal;
}

/** What dispatching needs from the server. */
export interface DispatchDependencies {
  readonly handlers: OperationHandlers;
  readonly limits: ResolvedBodyLimits;
  readonly timeouts: ResolvedServerTimeouts;
  readonly logger: Logger;
}

/**
 * Answers one routed request: a Lambda operation, an extra route, or a
 * Lambda-shaped error (unknown path 404, wrong method 405, anything thrown
 * mapped by toLambdaError). Never throws. Afterwards, a body left unread is
 * discarded within a deadline so the connection can be reused.
 */
export async function dispatchRequest(request: RoutedRequest, deps: DispatchDependencies): Promise<RequestOutcome> {
  const { req, res, lookup } = request;
  const declaredBytes = Number(req.headers['content-length']) || 0;
  try {
    if (lookup.kind === 'invalid') throw lookup.error;
    if (lookup.kind === 'not-found') {
      throw new UnknownOperationException(`No Lambda operation matches ${request.method} ${request.path.slice(0, 200)}.`);
    }
    if (lookup.kind === 'method-not-allowed') {
      throw new MethodNotAllowedException(
        `${request.method} is not allowed on ${request.path.slice(0, 200)} (allowed: ${lookup.allowed.join(', ')}).`,
        lookup.allowed,
      );
    }
    const { target, params } = lookup;
    if (target.kind === 'extra') {
      const ctx = { requestId: request.requestId, params, signal: request.signal, logger: deps.logger };
      await untilAborted(Promise.resolve(target.route.handle(req, res, ctx)), request.signal);
      const responseBytes = Number(res.getHeader('content-length')) || 0;
      return { status: res.statusCode, requestBytes: declaredBytes, responseBytes };
    }
    const served = await serveOperation(
      {
        req,
        res,
        route: target.route,
        params,
        query: parseQueryString(request.rawQuery),
        ctx: { requestId: request.requestId, signal: request.signal, headers: req.headers },
      },
      deps.handlers,
      deps.limits,
    );
    if (served.streamError) logFailure(served.streamError, deps.logger);
    return { status: res.statusCode, requestBytes: served.requestBytes, responseBytes: served.responseBytes };
  } catch (thrown) {
    if (thrown instanceof ClientClosedRequestError || res.destroyed) {
      return { status: 499, requestBytes: declaredBytes, responseBytes: 0, clientClosed: true };
    }
    const error = toLambdaError(thrown);
    logFailure(error, deps.logger);
    if (res.headersSent) {
      // Too late for an error status: cutting the connection tells the client the answer is incomplete.
      res.destroy();
      return { status: res.statusCode, requestBytes: declaredBytes, responseBytes: 0 };
    }
    return { status: error.httpStatus, requestBytes: declaredBytes, responseBytes: sendError(res, error) };
  } finally {
    discardUnreadBody(req, deps.timeouts.discardBodyMs);
  }
}

/** Service faults are logged with their hidden cause; caller mistakes only at debug, as the caller already got them. */
function logFailure(error: LambdaError, logger: Logger): void {
  if (error.httpStatus >= 500) {
    logger.error({ err: error.cause ?? error, exception: error.name }, error.message);
  } else {
    logger.debug({ exception: error.name, reason: error.reason }, error.message);
  }
}
