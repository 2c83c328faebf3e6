/**
 * AgentService.InvokeStream: the router's path. One long-lived bidirectional
 * stream carries many invocations, matched by request_id. Each is admitted or
 * refused at once (`rejected` with a reason: it never ran, so the router may
 * retry elsewhere); an admitted one is answered with `result` when it ends.
 * A grpc-js unary call per invocation costs several times the work of a message
 * on a stream (INFRA-NOTES.md), which is why this exists.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { agent } from '@hearth/proto';
import { spanAttributes, tracer, type Logger } from '@hearth/telemetry';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, propagation, trace, type Context, type Span } from '@opentelemetry/api';
import { RejectionReason } from './admission.js';
import type { ExecutionEnvironment } from './environment.js';
import type { HandlerTiming, InvocationOutcome, InvocationSink } from './invocation-broker.js';
import { errorPayload, timeoutError, unhandledFunctionError } from './invocation-errors.js';
import { newXrayHeader, spanContextToXray } from './trace-header.js';

type InvokeCall = ServerDuplexStream<agent.AgentInvocation, agent.AgentInvocationOutcome>;

/** Options of createInvokeStreamHandler. */
export interface InvokeStreamOptions {
  /** Finds an EE of this agent by id. */
  environment(environmentId: string): ExecutionEnvironment | undefined;
  logger: Logger;
}

/** Name of the span of each invocation. */
export const invocationSpanName = 'hearth.agent.Invoke';

/**
 * Name of the span of the function's handler, a child of the invocation's span.
 * The runtime has no tracing of its own: the agent records this span with the
 * times the runtime reported (docs/adr/0010-handler-spans-from-runtime-timing.md).
 */
export const handlerSpanName = 'hearth.ee.Handler';

/**
 * The InvokeStream handler. Per stream:
 * - each `AgentInvocation` is admitted by its EE or answered at once with
 *   `rejected` (`ConcurrencyLimit`, `CPUPressure`, `MemoryPressure`, `NotReady`,
 *   `UnknownEnvironment`, or `InvalidRequest` for a malformed one); its deadline
 *   (`deadline_unix_ms`, capped at the function's timeout) ends it with Lambda's
 *   timeout result; one whose deadline has passed on arrival is answered with
 *   that result without running;
 * - `cancel: true` withdraws that request id: still queued, it never runs; held
 *   by the runtime, it runs to its end (LMI) and its slot stays taken until then.
 *   Nothing more is sent for a cancelled id;
 * - a request id already in flight on this stream is ignored (and logged): its
 *   answer would be ambiguous;
 * - back-pressure: when `write()` says the outbound buffer is full, the stream
 *   stops reading invocations (HTTP/2 flow control then holds the router back)
 *   until it drains, so outbound data is bounded by the invocations in flight,
 *   which the EEs' admitted slots bound;
 * - the client half-closing ends the stream once every answer is written; a
 *   stream that breaks (cancelled, connection lost) withdraws its queued
 *   invocations, while those already running finish in their EEs (LMI).
 * Each invocation gets a SERVER span continuing its `trace_context`, with the
 * function, version, EE, instance and zone as attributes; the runtime receives
 * the span as its X-Ray `Lambda-Runtime-Trace-Id`.
 */
export function createInvokeStreamHandler(options: InvokeStreamOptions): (call: InvokeCall) => void {
  return (call) => {
    new InvokeStreamSession(call, options).start();
  };
}

/** One invocation on a stream: the sink its EE answers to (a class, so admission allocates no closures). */
class StreamInvocation implements InvocationSink {
  done = false;
  constructor(
    readonly session: InvokeStreamSession,
    readonly requestId: string,
    readonly environment: ExecutionEnvironment,
    readonly span: Span,
    /** When the span started, epoch ms by `Date.now()`: the clock the runtime's handler timing uses too. */
    readonly startedAtMs: number,
  ) {}

  complete(outcome: InvocationOutcome, handler?: HandlerTiming): void {
    this.session.completed(this, outcome, handler);
  }

  refuse(reason: RejectionReason, message: string): void {
    this.session.refused(this, reason, message);
  }
}

function hasEntries(map: Record<string, string>): boolean {
  for (const _ in map) return true;
  return false;
}

class InvokeStreamSession {
  private readonly inFlight = new Map<string, StreamInvocation>();
  private readonly call: InvokeCall;
  private readonly options: InvokeStreamOptions;
  /** Reading is paused because the outbound buffer is full. */
  private paused = false;
  /** The client will send no more. */
  private halfClosed = false;
  private ended = false;
  private broken = false;

  constructor(call: InvokeCall, options: InvokeStreamOptions) {
    this.call = call;
    this.options = options;
  }

  start(): void {
    const call = this.call;
    call.on('data', (message: agent.AgentInvocation) => this.receive(message));
    call.on('end', () => {
      this.halfClosed = true;
      this.maybeEnd();
    });
    call.on('drain', () => {
      if (!this.paused) return;
      this.paused = false;
      call.resume();
    });
    call.on('cancelled', () => this.break('cancelled by the client'));
    call.on('error', (error: Error) => this.break(error.message));
    call.on('close', () => this.break('closed'));
  }

  private receive(message: agent.AgentInvocation): void {
    if (this.broken) return;
    const requestId = message.requestId;
    if (message.cancel) {
      this.cancel(requestId);
      return;
    }
    if (this.inFlight.has(requestId)) {
      this.options.logger.warn({ requestId, environmentId: message.environmentId }, 'InvokeStream: request id already in flight on this stream; ignored');
      return;
    }
    const environment = this.options.environment(message.environmentId);
    if (!environment) {
      this.sendRejection(requestId, RejectionReason.UnknownEnvironment, `Environment ${message.environmentId} is not on this instance`);
      return;
    }
    if (message.deadlineUnixMs > 0 && message.deadlineUnixMs <= Date.now()) {
      // Running it could only produce the timeout the caller has already reached.
      this.send({
        requestId,
        outcome: { $case: 'result', value: { payload: errorPayload(timeoutError(requestId, 0)), functionError: unhandledFunctionError, durationMs: 0 } },
      });
      return;
    }
    const parent: Context = hasEntries(message.traceContext)
      ? propagation.extract(ROOT_CONTEXT, message.traceContext, defaultTextMapGetter)
      : ROOT_CONTEXT;
    // Started (and ended) on Date.now()'s clock, as the handler's times are: the SDK's own clock
    // (performance.now() from timeOrigin) drifts from it, and the handler's span must sit inside this one.
    const startedAtMs = Date.now();
    const span = tracer.startSpan(invocationSpanName, { kind: SpanKind.SERVER, attributes: environment.spanAttributes, startTime: startedAtMs }, parent);
    if (span.isRecording()) span.setAttribute(spanAttributes.faasInvocationId, requestId);
    const invocation = new StreamInvocation(this, requestId, environment, span, startedAtMs);
    // In the map before admission, so an answer can never arrive for an id the stream does not know.
    this.inFlight.set(requestId, invocation);
    const decision = environment.admit(
      {
        requestId,
        payload: message.payload,
        deadlineUnixMs: message.deadlineUnixMs,
        clientContext: message.clientContext,
        traceHeader: spanContextToXray(span.spanContext()) ?? newXrayHeader(),
      },
      invocation,
    );
    if (!decision.admit) {
      this.inFlight.delete(requestId);
      invocation.done = true;
      if (span.isRecording()) span.setAttribute(spanAttributes.rejectionReason, decision.reason);
      span.end();
      this.sendRejection(requestId, decision.reason, decision.message);
    }
  }

  /** An admitted invocation ended. */
  completed(invocation: StreamInvocation, outcome: InvocationOutcome, handler?: HandlerTiming): void {
    if (invocation.done) return;
    invocation.done = true;
    this.inFlight.delete(invocation.requestId);
    const span = invocation.span;
    const endedAtMs = Math.max(Date.now(), invocation.startedAtMs);
    // No handler timing: the invocation timed out or its runtime died, and the runtime never answered.
    if (handler && span.isRecording()) recordHandlerSpan(span, invocation, outcome, handler, endedAtMs);
    if (outcome.functionError !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.functionError });
    span.end(endedAtMs);
    // InvocationOutcome has InvokeEnvironmentResponse's shape: it goes out as is, payload bytes untouched.
    this.send({ requestId: invocation.requestId, outcome: { $case: 'result', value: outcome } });
    this.maybeEnd();
  }

  /** An admitted invocation never reached the runtime (its EE stopped while it was queued). */
  refused(invocation: StreamInvocation, reason: RejectionReason, message: string): void {
    if (invocation.done) return;
    invocation.done = true;
    this.inFlight.delete(invocation.requestId);
    if (invocation.span.isRecording()) invocation.span.setAttribute(spanAttributes.rejectionReason, reason);
    invocation.span.end();
    this.sendRejection(invocation.requestId, reason, message);
    this.maybeEnd();
  }

  private cancel(requestId: string): void {
    const invocation = this.inFlight.get(requestId);
    if (!invocation) return;
    this.inFlight.delete(requestId);
    invocation.done = true;
    invocation.environment.cancel(requestId);
    if (invocation.span.isRecording()) invocation.span.setAttribute('hearth.cancelled', true);
    invocation.span.end();
    this.maybeEnd();
  }

  private sendRejection(requestId: string, reason: string, message: string): void {
    this.send({ requestId, outcome: { $case: 'rejected', value: { reason, message } } });
  }

  private send(outcome: agent.AgentInvocationOutcome): void {
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

  /** The stream is gone: withdraw what is queued; what runs finishes in its EE, unanswered. Idempotent. */
  private break(why: string): void {
    if (this.broken) return;
    this.broken = true;
    if (this.inFlight.size === 0) return;
    this.options.logger.info({ event: 'invoke_stream.broken', inFlight: this.inFlight.size, why }, 'InvokeStream broke with invocations in flight');
    for (const [requestId, invocation] of this.inFlight) {
      invocation.done = true;
      invocation.environment.cancel(requestId);
      if (invocation.span.isRecording()) invocation.span.setAttribute('hearth.cancelled', true);
      invocation.span.end();
    }
    this.inFlight.clear();
  }
}

/**
 * The handler's span: a child of the invocation's span, drawn with the times
 * the runtime reported (or the agent measured), carrying the EE's attributes
 * and the function error, if any.
 */
function recordHandlerSpan(parent: Span, invocation: StreamInvocation, outcome: InvocationOutcome, handler: HandlerTiming, parentEndMs: number): void {
  // Within the parent's window, whatever the sub-millisecond rounding of the two clocks' readings.
  const startMs = Math.min(Math.max(handler.startMs, invocation.startedAtMs), parentEndMs);
  const endMs = Math.min(Math.max(handler.endMs, startMs), parentEndMs);
  const span = tracer.startSpan(
    handlerSpanName,
    {
      kind: SpanKind.INTERNAL,
      startTime: startMs,
      attributes: {
        ...invocation.environment.spanAttributes,
        [spanAttributes.faasInvocationId]: invocation.requestId,
        [spanAttributes.handlerTiming]: handler.source,
      },
    },
    trace.setSpan(ROOT_CONTEXT, parent),
  );
  if (outcome.functionError !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.functionError });
  span.end(endMs);
}
