/**
 * `hearth.v1.AgentService` over a simulated agent: the same RPCs, messages and
 * errors as the real agent's (services/agent/src/grpc-service.ts and
 * invoke-stream.ts), so placement, the router and the benchmarks cannot tell
 * a simulated instance from a real one on the wire.
 */
import { randomUUID } from 'node:crypto';
import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { ResourceNotFoundException, ServiceUnavailableException, TooManyRequestsException, InvalidParameterValueException } from '@hearth/errors';
import { unaryHandlers } from '@hearth/grpc';
import { agent as proto } from '@hearth/proto';
import type { Logger } from '@hearth/telemetry';
import type { SimAgent, SimInvocationHandle } from './sim-agent.js';

type InvokeCall = ServerDuplexStream<proto.AgentInvocation, proto.AgentInvocationOutcome>;

/** The AgentService implementation of one simulated agent. */
export function createSimAgentService(agent: SimAgent, logger: Logger): UntypedServiceImplementation {
  const { invokeStream: _stream, ...unaryMethods } = proto.AgentServiceService;
  const implementation = unaryHandlers(
    unaryMethods,
    {
      startEnvironment: (request) => agent.startEnvironment(request.spec),
      stopEnvironment: (request) => agent.stopEnvironment(request.environmentId, request.graceMs),
      listEnvironments: async () => ({ instanceId: agent.instanceId, environments: agent.listEnvironments() }),
      invokeEnvironment: (request, ctx) =>
        new Promise<proto.InvokeEnvironmentResponse>((resolve, reject) => {
          const environment = agent.environments.get(request.environmentId);
          if (!environment) {
            reject(new ResourceNotFoundException(`Environment ${request.environmentId} is not on instance ${agent.instanceId}`));
            return;
          }
          const outcome = environment.invoke(
            {
              requestId: request.requestId || randomUUID(),
              payload: request.payload,
              deadlineUnixMs: request.timeoutMs > 0 ? Date.now() + request.timeoutMs : 0,
            },
            resolve,
          );
          if ('reason' in outcome) {
            if (outcome.reason === 'NotReady') reject(new ServiceUnavailableException(outcome.message));
            else if (outcome.reason === 'InvalidRequest') reject(new InvalidParameterValueException(outcome.message));
            else reject(new TooManyRequestsException(outcome.message, { reason: outcome.reason }));
            return;
          }
          ctx.signal.addEventListener('abort', () => outcome.cancel(), { once: true });
        }),
    },
    logger,
  );
  implementation.invokeStream = (call: InvokeCall) => new SimInvokeStream(call, agent, logger).start();
  return implementation;
}

/**
 * One InvokeStream: invocations matched to outcomes by request id; each is
 * admitted or refused at once; back-pressure pauses reading while the
 * outbound buffer is full; a broken stream leaves its invocations running to
 * their end, unanswered (LMI).
 */
class SimInvokeStream {
  private readonly inFlight = new Map<string, SimInvocationHandle>();
  private paused = false;
  private halfClosed = false;
  private ended = false;
  private broken = false;

  constructor(
    private readonly call: InvokeCall,
    private readonly agent: SimAgent,
    private readonly logger: Logger,
  ) {}

  start(): void {
    const call = this.call;
    call.on('data', (message: proto.AgentInvocation) => this.receive(message));
    call.on('end', () => {
      this.halfClosed = true;
      this.maybeEnd();
    });
    call.on('drain', () => {
      if (!this.paused) return;
      this.paused = false;
      call.resume();
    });
    call.on('cancelled', () => this.break());
    call.on('error', () => this.break());
    call.on('close', () => this.break());
  }

  private receive(message: proto.AgentInvocation): void {
    if (this.broken) return;
    const { requestId } = message;
    if (message.cancel) {
      const handle = this.inFlight.get(requestId);
      if (!handle) return;
      this.inFlight.delete(requestId);
      handle.cancel();
      this.maybeEnd();
      return;
    }
    if (this.inFlight.has(requestId)) {
      this.logger.warn({ requestId, environmentId: message.environmentId }, 'sim InvokeStream: request id already in flight on this stream; ignored');
      return;
    }
    const environment = this.agent.environments.get(message.environmentId);
    if (!environment) {
      this.reject(requestId, 'UnknownEnvironment', `Environment ${message.environmentId} is not on this instance`);
      return;
    }
    if (message.deadlineUnixMs > 0 && message.deadlineUnixMs <= Date.now()) {
      const body = { errorMessage: `RequestId: ${requestId} Error: Task timed out after 0.00 seconds`, errorType: 'Sandbox.Timedout' };
      this.send({ requestId, outcome: { $case: 'result', value: { payload: Buffer.from(JSON.stringify(body)), functionError: 'Unhandled', durationMs: 0 } } });
      return;
    }
    const outcome = environment.invoke({ requestId, payload: message.payload, deadlineUnixMs: message.deadlineUnixMs }, (result) => {
      if (this.inFlight.get(requestId) !== handle) return;
      this.inFlight.delete(requestId);
      this.send({ requestId, outcome: { $case: 'result', value: result } });
      this.maybeEnd();
    });
    if ('reason' in outcome) {
      this.reject(requestId, outcome.reason, outcome.message);
      return;
    }
    const handle = outcome;
    this.inFlight.set(requestId, handle);
  }

  private reject(requestId: string, reason: string, message: string): void {
    this.send({ requestId, outcome: { $case: 'rejected', value: { reason, message } } });
  }

  private send(outcome: proto.AgentInvocationOutcome): void {
    if (this.broken || this.ended) return;
    if (!this.call.write(outcome) && !this.paused) {
      this.paused = true;
      this.call.pause();
    }
  }

  private maybeEnd(): void {
    if (!this.halfClosed || this.ended || this.broken || this.inFlight.size > 0) return;
    this.ended = true;
    this.call.end();
  }

  private break(): void {
    if (this.broken) return;
    this.broken = true;
    for (const handle of this.inFlight.values()) handle.cancel();
    this.inFlight.clear();
  }
}
