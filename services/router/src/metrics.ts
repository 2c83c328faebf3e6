/**
 * The router's counters: kept in process (for DescribeRoutes-style
 * diagnostics, tests and benchmarks) and recorded through OpenTelemetry
 * (`hearth.router.*`, exported when the process configures a meter provider).
 *
 * The router answers every throttle callers get (HTTP 429), so it also counts
 * LMI's throttle metrics (spec §4–§5) with the function's dimensions
 * `CapacityProviderName` (when known), `FunctionName`, `Resource` =
 * `<function>:<version>`: `Throttles`, plus one of `ConcurrencyThrottles`,
 * `CPUThrottles`, `MemoryThrottles` by reason (a NoReadyEnvironment throttle
 * counts in `Throttles` only: none of LMI's reasons fits it), and Lambda's
 * `Invocations` and `Errors` (function errors) of the invocations an EE ran.
 */
import { metrics, type Attributes, type Counter } from '@opentelemetry/api';
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

/** The function an invocation or throttle was for. */
export interface FunctionTarget {
  functionName: string;
  version: string;
  /** ARN of the capacity provider the version runs on, when the router knows it (from agents' reports). */
  capacityProviderArn?: string | undefined;
}

/** LMI's throttle sub-metric of each throttle reason. */
const lmiThrottleOf: Record<ThrottleReason, 'ConcurrencyThrottles' | 'CPUThrottles' | 'MemoryThrottles' | undefined> = {
  ConcurrentInvocationLimitExceeded: 'ConcurrencyThrottles',
  CPUThrottle: 'CPUThrottles',
  MemoryThrottle: 'MemoryThrottles',
  NoReadyEnvironment: undefined,
};

/** LMI's dimensions of a function: `CapacityProviderName` (left out when unknown), `FunctionName`, `Resource`. */
export function functionMetricAttributes(target: FunctionTarget): Attributes {
  const attributes: Attributes = { FunctionName: target.functionName, Resource: `${target.functionName}:${target.version}` };
  const arn = target.capacityProviderArn;
  if (arn) {
    const marker = ':capacity-provider:';
    const at = arn.indexOf(marker);
    attributes.CapacityProviderName = at >= 0 ? arn.slice(at + marker.length) : arn;
  }
  return attributes;
}

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

  // Taken when constructed, not at import: a meter taken before the process's MeterProvider is registered stays a no-op.
  private readonly meter = metrics.getMeter('hearth-router');
  private readonly lmi: Record<'Throttles' | 'ConcurrencyThrottles' | 'CPUThrottles' | 'MemoryThrottles' | 'Invocations' | 'Errors', Counter> = {
    Throttles: this.meter.createCounter('Throttles', { description: 'Invocations throttled (answered TooManyRequestsException)' }),
    ConcurrencyThrottles: this.meter.createCounter('ConcurrencyThrottles', {
      description: 'Invocations throttled: every execution environment was at its maximum concurrency',
    }),
    CPUThrottles: this.meter.createCounter('CPUThrottles', { description: 'Invocations throttled: execution environments refused work under CPU pressure' }),
    MemoryThrottles: this.meter.createCounter('MemoryThrottles', {
      description: 'Invocations throttled: execution environments refused work under memory pressure',
    }),
    Invocations: this.meter.createCounter('Invocations', { description: 'Invocations an execution environment ran (function errors included)' }),
    Errors: this.meter.createCounter('Errors', { description: 'Invocations that ended in a function error' }),
  };
  private readonly otel: Record<'invocations' | 'throttles' | 'refusals' | 'shed' | 'retries', Counter> = {
    invocations: this.meter.createCounter('hearth.router.invocations', { description: 'Invocations routed, by outcome' }),
    throttles: this.meter.createCounter('hearth.router.throttles', { description: 'Invocations throttled, by reason' }),
    refusals: this.meter.createCounter('hearth.router.refusals', { description: 'Agent refusals of an offered invocation, by reason' }),
    shed: this.meter.createCounter('hearth.router.shed', { description: 'Work dropped by a bounded buffer, by reason' }),
    retries: this.meter.createCounter('hearth.router.retries', { description: 'Invocations offered to another EE after a refusal' }),
  };

  invocation(outcome: InvocationOutcome): void {
    this.invocations[outcome] += 1;
    this.otel.invocations.add(1, { outcome });
  }

  /** Counts a throttle; with its target also as LMI's `Throttles` and sub-metric. */
  throttle(reason: ThrottleReason, target?: FunctionTarget): void {
    this.throttles[reason] += 1;
    this.otel.throttles.add(1, { reason });
    if (!target) return;
    const attributes = functionMetricAttributes(target);
    this.lmi.Throttles.add(1, attributes);
    const sub = lmiThrottleOf[reason];
    if (sub) this.lmi[sub].add(1, attributes);
  }

  /** Counts an invocation an EE ran (`Invocations`, and `Errors` when it ended in a function error). */
  ran(target: FunctionTarget, functionError: boolean): void {
    const attributes = functionMetricAttributes(target);
    this.lmi.Invocations.add(1, attributes);
    if (functionError) this.lmi.Errors.add(1, attributes);
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
