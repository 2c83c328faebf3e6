import type { IncomingMessage, ServerResponse } from 'node:http';
import { UnsupportedOperationException, type LambdaError } from '@hearth/errors';
import type {
  HandlerContext,
  InvocationType,
  InvokeOutput,
  OperationHandlers,
  StreamingInvokeOutput,
} from './operation-handlers.js';
import { buildOperationInput } from './operation-input.js';
import type { QueryParameters } from './query-string.js';
import { readBodyWithinLimit } from './read-body.js';
import { sendEmpty, sendInvokeOutput, sendJson, successStatus } from './responses.js';
import type { LambdaRoute } from './routes.js';
import { bodyLimitFor, type ResolvedBodyLimits } from './server-options.js';
import { sendEventStream } from './streaming-response.js';
import { untilAborted } from './until-aborted.js';

/** What serving one operation produced, for the access log. */
export interface OperationOutcome {
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** An error reported inside a response stream after a 200 was already sent. */
  readonly streamError?: LambdaError;
}

/** One Lambda request, routed. */
export interface OperationRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: LambdaRoute;
  readonly params: Readonly<Record<string, string>>;
  readonly query: QueryParameters;
  readonly ctx: HandlerContext;
}

/**
 * Serves a routed Lambda operation: checks a handler exists (before reading
 * the body, so an unsupported upload is not buffered), reads the body within
 * the operation's limit, builds the input, runs the handler until it settles
 * or `ctx.signal` aborts, and writes the response the route's kind calls for.
 * Throws what went wrong before anything was written; the caller answers it.
 */
export async function serveOperation(
  request: OperationRequest,
  handlers: OperationHandlers,
  limits: ResolvedBodyLimits,
): Promise<OperationOutcome> {
  const { req, res, route, ctx } = request;
  const handler = handlers[route.operation] as
    | ((input: Record<string, unknown>, ctx: HandlerContext) => Promise<unknown>)
    | undefined;
  if (!handler) {
    throw new UnsupportedOperationException(`Hearth does not support the operation ${route.operation} yet.`);
  }
  const body = await readBodyWithinLimit(req, bodyLimitFor(route.bodyLimit, limits));
  const input = buildOperationInput(route, { params: request.params, query: request.query, headers: req.headers, body });
  const output = await untilAborted(handler(input, ctx), ctx.signal);
  const requestBytes = body.byteLength;
  switch (route.response) {
    case 'json':
      return { requestBytes, responseBytes: sendJson(res, route.successStatus, output) };
    case 'empty': {
      const member = route.statusMember;
      const chosen = member !== undefined && isRecord(output) ? output[member] : undefined;
      const status = successStatus(chosen, route.successStatus, member ?? 'status');
      return { requestBytes, responseBytes: sendEmpty(res, status) };
    }
    case 'invoke':
      return {
        requestBytes,
        responseBytes: sendInvokeOutput(res, (output ?? {}) as InvokeOutput, input.InvocationType as InvocationType),
      };
    case 'event-stream': {
      const outcome = await sendEventStream(res, output as StreamingInvokeOutput, ctx.signal);
      return outcome.error
        ? { requestBytes, responseBytes: outcome.bytes, streamError: outcome.error }
        : { requestBytes, responseBytes: outcome.bytes };
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
