/**
 * The router's counters: kept in process (for DescribeRoutes-style
 * diagnostics, tests and benchmarks) and recorded through OpenTelemetry
 * (`hearth.router.*`, exported when the process configures a meter provider).
 */
import { metrics, type Counter } from '@opentelemetry/api';
import type { RefusalReason } from './routing-table.js';
import type { ThrottleReason } from './throttle.js';

/** How one routed invocation ended. */
export type InvocationOutcome = 'result' | 'function_error' | 'throttled' | 'error' | 'cancelled';

/**
 * Why the router dropped something instead of queueing it. Every bounded
 * buffer of the router sheds with one of these.
 */
export type ShedReason =
  /** An invocation found the version's slot-wait queue (or the global one) full: throttled at once. */
  | 'wait_queue_full'
  /** An invocation waited its bounded time for a slot and none freed: throttled. */
  | 'wait_expired'
  /** A caller's InvokeStream had `streamMaxInFlight` invocations in flight: throttled at once. */
  | 'stream_in_flight_limit'
  /** A request id already in flight on the same caller stream: the duplicate is dropped. */
  | 'duplicate_request_id'
  /** A load report that did not parse. */
  | 'report_invalid'
  /** A load report older than one already applied for its instance. */
  | 'report_out_of_order';

const meter = metrics.getMeter('hearth-router');

/** Counters of one router. */
export class RouterMetrics {
  readonly invocations: Record<InvocationOutcome, number> = { result: 0, function_error: 0, throttled: 0, error: 0, cancelled: 0 };
  readonly throttles: Record<ThrottleReason, number> = {
    ConcurrentInvocationLimitExceeded: 0,
    CPUThrottle: 0,
    MemoryThrottle: 0,
    NoReadyEnvironment: 0,
  };
  readonly refusals: Partial<Record<RefusalReason, number>> = {};
  readonly shed: Partial<Record<ShedReason, number>> = {};
  /** Invocations sent to an EE after another refused them. */
  retries = 0;
  /** Invocations whose agent stream broke while they were in flight (answered ServiceException). */
  brokenInFlight = 0;

  private readonly otel: Record<'invocations' | 'throttles' | 'refusals' | 'shed' | 'retries', Counter> = {
    invocations: meter.createCounter('hearth.router.invocations', { description: 'Invocations routed, by outcome' }),
    throttles: meter.createCounter('hearth.router.throttles', { description: 'Invocations throttled, by reason' }),
    refusals: meter.createCounter('hearth.router.refusals', { description: 'Agent refusals of an offered invocation, by reason' }),
    shed: meter.createCounter('hearth.router.shed', { description: 'Work dropped by a bounded buffer, by reason' }),
    retries: meter.createCounter('hearth.router.retries', { description: 'Invocations offered to another EE after a refusal' }),
  };

  invocation(outcome: InvocationOutcome): void {
    this.invocations[outcome] += 1;
    this.otel.invocations.add(1, { outcome });
  }

  throttle(reason: ThrottleReason): void {
    this.throttles[reason] += 1;
    this.otel.throttles.add(1, { reason });
  }

  refusal(reason: RefusalReason): void {
    this.refusals[reason] = (this.refusals[reason] ?? 0) + 1;
    this.otel.refusals.add(1, { reason });
  }

  dropped(reason: ShedReason): void {
    this.shed[reason] = (this.shed[reason] ?? 0) + 1;
    this.otel.shed.add(1, { reason });
  }

  retry(): void {
    this.retries += 1;
    this.otel.retries.add(1);
  }

  /** A plain copy of every counter. */
  snapshot(): RouterMetricsSnapshot {
    return {
      invocations: { ...this.invocations },
      throttles: { ...this.throttles },
      refusals: { ...this.refusals },
      shed: { ...this.shed },
      retries: this.retries,
      brokenInFlight: this.brokenInFlight,
    };
  }
}

/** RouterMetrics as plain data. */
export interface RouterMetricsSnapshot {
  invocations: Record<InvocationOutcome, number>;
  throttles: Record<ThrottleReason, number>;
  refusals: Partial<Record<RefusalReason, number>>;
  shed: Partial<Record<ShedReason, number>>;
  retries: number;
  brokenInFlight: number;
}
