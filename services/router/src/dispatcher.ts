/**
 * Routes one invocation: pick an EE, reserve its slot, send it on the agent's
 * stream, and on a refusal try another EE — within a budget of
 * min(`maxAttempts`, EEs of the version) attempts and the invocation's
 * deadline — until one takes it or the router answers Throttled.
 *
 * Outcomes:
 * - the agent's result (a function error included: it is a result, never retried);
 * - Throttled, when every EE tried refused, none is a candidate, or the
 *   bounded slot wait ended without a slot (answered in milliseconds);
 * - RouteError ServiceException, when the agent stream broke while the
 *   invocation was in flight (it may have run: not retried, see
 *   agent-channel.ts) or the agent gave no answer by the deadline plus grace;
 * - nothing, when the caller cancelled (it asked to forget the invocation).
 */
import { SpanKind, SpanStatusCode, context as otelContext, trace, type Context, type Span } from '@opentelemetry/api';
import type { agent as agentProto, router as proto } from '@hearth/proto';
import { extractTraceContext, injectTraceContext, spanAttributes, tracer, type Logger } from '@hearth/telemetry';
import type { AgentLink, AgentOutcome } from './agent-channel.js';
import type { RouterConfig } from './config.js';
import type { RouterMetrics } from './metrics.js';
import { pickEnvironment, type PickContext } from './picker.js';
import { routeKey, type RefusalReason, type Reservation, type Route, type RoutingTable } from './routing-table.js';
import { SlotWaits } from './slot-waits.js';
import { retryAfterMs, throttleReason, throttled, type ThrottleReason } from './throttle.js';

/** Name of the span of each routed invocation. */
export const routeSpanName = 'hearth.router.Route';

/** Options of Dispatcher. */
export interface DispatcherOptions {
  table: RoutingTable;
  /** The way to the agent at an address, if the router has one. */
  linkFor: (address: string) => AgentLink | undefined;
  config: RouterConfig;
  metrics: RouterMetrics;
  logger: Logger;
  /** Clock (epoch ms, as deadlines are). Default Date.now. */
  now?: () => number;
  /** Uniform in [0, 1). Default Math.random. */
  random?: () => number;
}

/** Per-call options of route(). */
export interface RouteCallOptions {
  /** Aborts when the caller cancels the invocation. */
  signal?: AbortSignal;
  /** Trace context the invocation's span continues when the request's `trace_context` carries none. Default the active context. */
  parent?: Context;
  /** SERVER for a message of InvokeStream (its own server span); INTERNAL under the unary call's server span. Default SERVER. */
  spanKind?: SpanKind;
}

type AttemptOutcome = AgentOutcome | { kind: 'deadline' };

/** Routes invocations over the routing table (see the module comment). */
export class Dispatcher {
  readonly waits: SlotWaits;
  private readonly table: RoutingTable;
  private readonly config: RouterConfig;
  private readonly metrics: RouterMetrics;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly startedAt: number;

  constructor(private readonly options: DispatcherOptions) {
    this.table = options.table;
    this.config = options.config;
    this.metrics = options.metrics;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.startedAt = this.now();
    this.waits = new SlotWaits({
      maxPerRoute: this.config.maxWaitersPerRoute,
      maxTotal: this.config.maxWaitersTotal,
      now: this.now,
      tryReserve: (key) => {
        const route = this.table.routeByKey(key);
        const entry = route && pickEnvironment(route, this.pickContext());
        return entry ? this.table.reserve(entry) : undefined;
      },
    });
  }

  /** Routes one invocation; resolves with its response, or undefined when the caller cancelled it. Never rejects. */
  async route(request: proto.RouteRequest, options: RouteCallOptions = {}): Promise<proto.RouteResponse | undefined> {
    const parent = parentContext(request, options.parent ?? otelContext.active());
    const span = tracer.startSpan(
      routeSpanName,
      {
        kind: options.spanKind ?? SpanKind.SERVER,
        attributes: {
          [spanAttributes.function]: request.functionName,
          [spanAttributes.version]: request.version,
          [spanAttributes.requestId]: request.requestId,
          [spanAttributes.faasInvocationId]: request.requestId,
        },
      },
      parent,
    );
    try {
      const response = await this.run(request, span, options.signal);
      this.record(response, span);
      return response;
    } catch (error) {
      // A bug, not an outcome: answer ServiceException rather than leave the caller waiting.
      this.options.logger.error({ err: error, requestId: request.requestId }, 'routing failed');
      span.recordException(error as Error);
      const response = routeError(request.requestId, 'ServiceException', 'The router failed to route the invocation.');
      this.record(response, span);
      return response;
    } finally {
      span.end();
    }
  }

  private async run(request: proto.RouteRequest, span: Span, signal: AbortSignal | undefined): Promise<proto.RouteResponse | undefined> {
    const { requestId, functionName, version } = request;
    if (requestId === '' || functionName === '' || version === '') {
      return routeError(requestId, 'InvalidParameterValueException', 'request_id, function_name and version are required.');
    }
    const start = this.now();
    // Never later than Lambda's longest timeout from now, so every wait has a deadline a timer can hold.
    const deadline = Math.min(request.deadlineUnixMs > 0 ? request.deadlineUnixMs : Number.POSITIVE_INFINITY, start + this.config.defaultDeadlineMs);
    if (deadline <= start) {
      return routeError(requestId, 'ServiceUnavailableException', 'The invocation deadline passed before it could be routed.');
    }
    const key = routeKey(functionName, version);
    const refusals = new Map<string, RefusalReason>();
    let budget = 0;
    let attempts = 0;
    for (;;) {
      if (signal?.aborted) return undefined;
      const route = this.table.routeByKey(key);
      const ctx = this.pickContext(refusals);
      if (attempts === 0) budget = Math.min(this.config.maxAttempts, Math.max(1, route?.entries.length ?? 1));
      const entry = route && pickEnvironment(route, ctx);
      let reservation: Reservation | undefined = entry && this.table.reserve(entry);
      if (!reservation && attempts === 0) {
        const until = Math.min(deadline, this.waitHorizon(route, ctx.now));
        if (until > ctx.now) {
          const waited = await this.waits.wait(key, until, signal);
          if (waited.ended === 'cancelled') return undefined;
          if (waited.ended === 'wait_queue_full' || waited.ended === 'wait_expired') this.metrics.dropped(waited.ended);
          reservation = waited.reservation;
          if (reservation) budget = Math.min(this.config.maxAttempts, Math.max(1, reservation.entry.route.entries.length));
        }
      }
      if (!reservation) return this.throttle(request, this.table.routeByKey(key), refusals, span);

      attempts += 1;
      if (attempts > 1) this.metrics.retry();
      const target = reservation.entry;
      // The last EE tried: the one that ran it, unless every one refused.
      span.setAttributes({
        [spanAttributes.environmentId]: target.environmentId,
        [spanAttributes.instanceId]: target.instance.instanceId,
        [spanAttributes.zone]: target.instance.zone,
        [spanAttributes.faasInstance]: target.environmentId,
        [spanAttributes.hostId]: target.instance.instanceId,
        [spanAttributes.cloudAvailabilityZone]: target.instance.zone,
        [spanAttributes.attempts]: attempts,
      });
      const outcome = await this.attempt(reservation, request, deadline, span, signal);
      switch (outcome.kind) {
        case 'result': {
          const response = resultResponse(request, target.environmentId, outcome.result, refusals.size);
          this.metrics.ran({ functionName, version, capacityProviderArn: target.instance.capacityProviderArn }, outcome.result.functionError !== undefined);
          return response;
        }
        case 'rejected':
        case 'not-sent':
          refusals.set(target.environmentId, outcome.reason);
          span.addEvent('hearth.router.refused', {
            [spanAttributes.environmentId]: target.environmentId,
            [spanAttributes.instanceId]: target.instance.instanceId,
            [spanAttributes.rejectionReason]: outcome.reason,
          });
          this.metrics.refusal(outcome.reason);
          this.table.refused(target, outcome.reason);
          if (attempts >= budget || this.now() >= deadline) return this.throttle(request, this.table.routeByKey(key), refusals, span);
          continue;
        case 'broken':
          this.metrics.brokenInFlight += 1;
          this.options.logger.warn({ requestId, environmentId: target.environmentId, reason: outcome.message }, 'agent stream broke during an invocation');
          return routeError(
            requestId,
            'ServiceException',
            `The connection to the execution environment's agent broke while the invocation was in flight; it may have run. (${outcome.message})`,
          );
        case 'invalid':
          this.options.logger.error({ requestId, environmentId: target.environmentId, reason: outcome.message }, 'agent refused an invocation as malformed');
          return routeError(requestId, 'ServiceException', `The agent refused the invocation as malformed: ${outcome.message}`);
        case 'deadline':
          return routeError(requestId, 'ServiceException', 'The execution environment did not answer by the invocation deadline.');
        case 'cancelled':
          return undefined;
      }
    }
  }

  /** Sends one invocation on a reserved slot and waits for its outcome, the deadline's backstop, or a cancel. */
  private attempt(
    reservation: Reservation,
    request: proto.RouteRequest,
    deadline: number,
    span: Span,
    signal: AbortSignal | undefined,
  ): Promise<AttemptOutcome> {
    const { entry } = reservation;
    const link = this.options.linkFor(entry.instance.agentAddress);
    if (!link || !link.up) {
      this.table.release(reservation);
      return Promise.resolve({ kind: 'not-sent', reason: 'AgentUnavailable', message: `no stream to the agent at ${entry.instance.agentAddress}` });
    }
    const traceContext: Record<string, string> = {};
    injectTraceContext((k, value) => (traceContext[k] = value), trace.setSpan(otelContext.active(), span));
    const invocation: agentProto.AgentInvocation = {
      requestId: request.requestId,
      environmentId: entry.environmentId,
      payload: request.payload,
      // The caller's own deadline, so the agent ends the invocation with Lambda's timeout result;
      // 0 (none given) lets the agent apply the function's timeout.
      deadlineUnixMs: request.deadlineUnixMs,
      traceContext,
      cancel: false,
    };
    if (request.clientContext !== undefined) invocation.clientContext = request.clientContext;
    const sentAt = this.now();
    return new Promise<AttemptOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: AttemptOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(backstop);
        signal?.removeEventListener('abort', onAbort);
        // Released before the caller learns anything, so a refusal's bookkeeping sees the slot free.
        this.table.release(reservation, outcome.kind === 'result' ? this.now() - sentAt : undefined);
        resolve(outcome);
      };
      const backstop = setTimeout(() => {
        link.cancel(request.requestId);
        finish({ kind: 'deadline' });
      }, Math.max(0, deadline + this.config.deadlineGraceMs - this.now()));
      const onAbort = (): void => {
        link.cancel(request.requestId);
        finish({ kind: 'cancelled' });
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      link.send(invocation).then(finish);
    });
  }

  private throttle(
    request: proto.RouteRequest,
    route: Route | undefined,
    refusals: ReadonlyMap<string, RefusalReason>,
    span: Span,
  ): proto.RouteResponse {
    const reason: ThrottleReason = throttleReason(route, refusals, this.pickContext(refusals));
    span.setAttribute(spanAttributes.throttleReason, reason);
    this.metrics.throttle(reason, {
      functionName: request.functionName,
      version: request.version,
      capacityProviderArn: route?.entries[0]?.instance.capacityProviderArn,
    });
    const retryAfter = retryAfterMs(reason, route, this.config);
    return { requestId: request.requestId, outcome: { $case: 'throttled', value: throttled(reason, retryAfter) } };
  }

  /**
   * Until when an invocation that found no free slot may wait: right after
   * start, for a version no report has listed yet, to the end of the warm-up;
   * otherwise `slotWaitMs`, but only while this router has invocations in
   * flight on the version — else no completion it would hear of can free a
   * slot before the next report, and waiting would only delay the throttle.
   */
  private waitHorizon(route: Route | undefined, now: number): number {
    const warmupEnd = this.startedAt + this.config.warmupMs;
    if ((route === undefined || route.entries.length === 0) && now < warmupEnd) return warmupEnd;
    if (route === undefined || route.ownTotal === 0) return now;
    return now + this.config.slotWaitMs;
  }

  private pickContext(exclude?: ReadonlyMap<string, RefusalReason>): PickContext {
    return {
      now: this.now(),
      random: this.random,
      staleMs: this.table.staleMs,
      exclude,
      firstAvailableMaxConcurrency: this.config.firstAvailableMaxConcurrency,
      exactLeastLoadedMax: this.config.exactLeastLoadedMax,
      packBelowPercent: this.config.packBelowPercent,
    };
  }

  private record(response: proto.RouteResponse | undefined, span: Span): void {
    const outcome = response?.outcome;
    if (!outcome) {
      this.metrics.invocation('cancelled');
      span.setAttribute(spanAttributes.outcome, 'cancelled');
      return;
    }
    if (outcome.$case === 'result') {
      const functionError = outcome.value.functionError !== undefined;
      this.metrics.invocation(functionError ? 'function_error' : 'result');
      span.setAttribute(spanAttributes.outcome, functionError ? 'function_error' : 'result');
    } else if (outcome.$case === 'throttled') {
      this.metrics.invocation('throttled');
      span.setAttribute(spanAttributes.outcome, 'throttled');
    } else {
      this.metrics.invocation('error');
      span.setAttribute(spanAttributes.outcome, 'error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.value.exception });
    }
  }
}

/** The trace context a request carries, else `fallback` (the unary call's, or the stream's). */
export function parentContext(request: proto.RouteRequest, fallback: Context): Context {
  const carried = request.traceContext;
  if (carried.traceparent === undefined) return fallback;
  return extractTraceContext((key) => carried[key], fallback);
}

function resultResponse(
  request: proto.RouteRequest,
  environmentId: string,
  result: agentProto.InvokeEnvironmentResponse,
  refused: number,
): proto.RouteResponse {
  const value: proto.InvocationResult = {
    payload: result.payload,
    executedVersion: request.version,
    environmentId,
    durationMs: result.durationMs,
    attempts: refused,
  };
  if (result.functionError !== undefined) value.functionError = result.functionError;
  return { requestId: request.requestId, outcome: { $case: 'result', value } };
}

/** A RouteError response. */
export function routeError(requestId: string, exception: string, message: string): proto.RouteResponse {
  return { requestId, outcome: { $case: 'error', value: { exception, message } } };
}
