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
import { injectTraceContext, type Logger } from '@hearth/telemetry';
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
      const trace: Record<string, string> = {};
      injectTraceContext((key, value) => {
        trace[key] = value;
      });
      const timeoutSeconds = target.version.configuration.Timeout;

      switch (request.InvocationType) {
        case 'DryRun':
          return { StatusCode: 204 };
        case 'Event': {
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
          await deps.queue.enqueue(invocation, request.Payload);
          return { StatusCode: 202 };
        }
        case 'RequestResponse': {
          const response = await deps.router.invoke(
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
          );
          return invokeResultOf(response, target.Version);
        }
      }
    },
  };
}
