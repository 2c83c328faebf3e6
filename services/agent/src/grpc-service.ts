import { randomUUID } from 'node:crypto';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { unaryHandlers, type CallContext } from '@hearth/grpc';
import { agent as proto } from '@hearth/proto';
import { injectTraceContext, type Logger } from '@hearth/telemetry';
import type { Agent } from './agent.js';
import { createInvokeStreamHandler } from './invoke-stream.js';
import { newXrayHeader, traceparentToXray } from './trace-header.js';

/**
 * The `hearth.v1.AgentService` implementation over an agent: StartEnvironment
 * (waits for Ready or Failed), StopEnvironment, ListEnvironments,
 * InvokeEnvironment (one invocation per unary call, carrying the call's trace
 * context to the runtime as `Lambda-Runtime-Trace-Id`) and InvokeStream (the
 * router's multiplexed stream, see invoke-stream.ts).
 */
export function createAgentService(agent: Agent, logger: Logger): UntypedServiceImplementation {
  // unaryHandlers adapts unary methods only; the bidirectional stream has its own handler.
  const { invokeStream: _stream, ...unaryMethods } = proto.AgentServiceService;
  const implementation = unaryHandlers(
    unaryMethods,
    {
      startEnvironment: async (request) => agent.startEnvironment(request.spec as proto.EnvironmentSpec),
      stopEnvironment: async (request) => agent.stopEnvironment(request.environmentId, request.graceMs),
      listEnvironments: async () => ({ instanceId: agent.instanceId, environments: agent.listEnvironments() }),
      invokeEnvironment: async (request, ctx) => {
        const outcome = await agent.invoke(
          request.environmentId,
          {
            requestId: request.requestId || randomUUID(),
            payload: request.payload,
            timeoutMs: request.timeoutMs,
            clientContext: request.clientContext,
            traceHeader: traceHeaderOf(ctx),
          },
          ctx.signal,
        );
        const response: proto.InvokeEnvironmentResponse = { payload: outcome.payload, durationMs: outcome.durationMs };
        if (outcome.functionError !== undefined) response.functionError = outcome.functionError;
        return response;
      },
    },
    logger,
  );
  implementation.invokeStream = createInvokeStreamHandler({ environment: (id) => agent.environment(id), logger });
  return implementation;
}

/**
 * The X-Ray header for the runtime: the active span's context (the server span
 * of this call, when tracing is on), else the caller's `traceparent`, else a
 * fresh root, since Lambda always sends one.
 */
function traceHeaderOf(ctx: CallContext): string {
  let traceparent: string | undefined;
  injectTraceContext((key, value) => {
    if (key === 'traceparent') traceparent = value;
  });
  traceparent ??= ctx.metadata.get('traceparent')[0]?.toString();
  return (traceparent && traceparentToXray(traceparent)) || newXrayHeader();
}
