/**
 * Invoke, written once for both surfaces: check the request, resolve the
 * qualifier against the cached function state (spec §2's exact errors, and a
 * refusal of versions that are not Active), then
 * - RequestResponse: route it over the router stream with the function's
 *   Timeout as its deadline (the agent ends it there with Lambda's timeout
 *   error; the channel waits a margin longer for that answer), and map the answer;
 * - Event: store it in the asynchronous invocation queue, answering 202 once
 *   JetStream acknowledged it;
 * - DryRun: answer 204, nothing runs.
 * Nothing here reads Postgres unless the function is not in the cache.
 */
import { resolveFunctionName, resolveInvocationQualifier, type ArnScope, type AsyncInvocation } from '@hearth/domain';
import { SpanKind, SpanStatusCode, context as otelContext, trace as otelTrace, type Span } from '@opentelemetry/api';
import type { router } from '@hearth/proto';
import { injectTraceContext, spanAttributes, tracer, type Logger } from '@hearth/telemetry';
import type { AsyncQueue } from './async-queue.js';
import type { FunctionStates } from './function-states.js';
import { invokeResultOf, type InvokeResult } from './invoke-outcome.js';
import { checkInvokeRequest, checkLogType, checkPayloadJson, type InvokeRequestInput } from './invoke-request.js';
import type { RouterChannel } from './router-channel.js';

/** What Invoke needs. */
export interface InvokerDeps {
  functions: Pick<FunctionStates, 'get'>;
  router: Pick<RouterChannel, 'invoke'>;
  queue: Pick<AsyncQueue, 'enqueue'>;
  scope: ArnScope;
  logger: Logger;
  /** Epoch ms. Default Date.now. */
  now?: () => number;
}

/** The call an invocation belongs to. */
export interface InvokeCallContext {
  /** The Invoke call's request id: the invocation's id (and the async message id). */
  requestId: string;
  /** Aborts when the caller goes away; a synchronous invocation is then cancelled at the router. */
  signal?: AbortSignal;
}

/** Invoke. */
export interface Invoker {
  invoke(input: InvokeRequestInput, ctx: InvokeCallContext): Promise<InvokeResult>;
}

/** Creates Invoke over its dependencies. */
export function createInvoker(deps: InvokerDeps): Invoker {
  const now = deps.now ?? Date.now;

  return {
    async invoke(input, ctx) {
      const request = checkInvokeRequest(input);
      const { name } = resolveFunctionName(request.FunctionName, request.Qualifier, deps.scope);
      const { state, streamVersion } = await deps.functions.get(name);
      const target = resolveInvocationQualifier(state, request.FunctionName as string, request.Qualifier as string | undefined, deps.scope);
      checkLogType(request.LogType);
      checkPayloadJson(request.Payload);
      const timeoutSeconds = target.version.configuration.Timeout;
      const attributes = {
        [spanAttributes.function]: target.FunctionName,
        [spanAttributes.version]: target.Version,
        [spanAttributes.requestId]: ctx.requestId,
        [spanAttributes.faasInvokedName]: target.FunctionName,
        [spanAttributes.faasInvokedProvider]: 'hearth',
      };

      switch (request.InvocationType) {
        case 'DryRun':
          return { StatusCode: 204 };
        case 'Event': {
          // A PRODUCER span per stored event: the router's attempts (and retries) continue it from the message headers.
          const span = tracer.startSpan('hearth.api.Enqueue', {
            kind: SpanKind.PRODUCER,
            attributes: { ...attributes, [spanAttributes.messagingSystem]: 'nats', [spanAttributes.messagingOperation]: 'send', [spanAttributes.messagingMessageId]: ctx.requestId },
          });
          const trace = traceContextOf(span);
          const invocation: AsyncInvocation = {
            requestId: ctx.requestId,
            functionName: target.FunctionName,
            version: target.Version,
            functionArn: target.FunctionArn,
            timeoutSeconds,
            enqueuedAtMs: now(),
            functionStreamVersion: streamVersion,
            ...(request.ClientContext === undefined ? {} : { clientContext: request.ClientContext }),
            ...(trace.traceparent === undefined ? {} : { traceparent: trace.traceparent }),
            ...(trace.tracestate === undefined ? {} : { tracestate: trace.tracestate }),
            retries: 0,
            invocations: 0,
            throttles: 0,
            generation: 0,
          };
          await ended(span, deps.queue.enqueue(invocation, request.Payload));
          return { StatusCode: 202 };
        }
        case 'RequestResponse': {
          // A CLIENT span around the router's answer: the router's span continues it from `trace_context`.
          const span = tracer.startSpan('hearth.api.Route', { kind: SpanKind.CLIENT, attributes });
          const trace = traceContextOf(span);
          const response = await ended(span, deps.router.invoke(
            {
              requestId: ctx.requestId,
              functionName: target.FunctionName,
              version: target.Version,
              payload: request.Payload,
              deadlineUnixMs: now() + timeoutSeconds * 1000,
              ...(request.ClientContext === undefined ? {} : { clientContext: request.ClientContext }),
              traceContext: trace,
            },
            ctx.signal,
          ).then((answer) => recordAnswer(span, answer)));
          return invokeResultOf(response, target.Version);
        }
      }
    },
  };
}

/** The W3C trace context that makes `span` the parent of the next hop. */
function traceContextOf(span: Span): Record<string, string> {
  const carrier: Record<string, string> = {};
  injectTraceContext((key, value) => {
    carrier[key] = value;
  }, otelTrace.setSpan(otelContext.active(), span));
  return carrier;
}

/** Awaits `work`, then ends `span` (with an error status when it failed). */
async function ended<T>(span: Span, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

/** The router's answer on the client span: where it ran, or why it was throttled. */
function recordAnswer(span: Span, response: router.RouteResponse): router.RouteResponse {
  const outcome = response.outcome;
  if (outcome?.$case === 'result') {
    span.setAttribute(spanAttributes.environmentId, outcome.value.environmentId);
    span.setAttribute(spanAttributes.outcome, outcome.value.functionError === undefined ? 'result' : 'function_error');
  } else if (outcome?.$case === 'throttled') {
    span.setAttribute(spanAttributes.outcome, 'throttled');
    if (outcome.value.reason) span.setAttribute(spanAttributes.throttleReason, outcome.value.reason);
  } else if (outcome?.$case === 'error') {
    span.setAttribute(spanAttributes.outcome, 'error');
  }
  return response;
}
