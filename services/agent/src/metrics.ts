/**
 * The execution-environment metrics of Lambda Managed Instances (spec §4–§5),
 * recorded through OpenTelemetry. Throttles are counters, incremented when the
 * agent refuses an invocation for a goodput reason (`Throttles` and exactly one
 * of `ConcurrencyThrottles`, `CPUThrottles`, `MemoryThrottles`); the EE gauges
 * are observed only when a reader collects, so they cost nothing otherwise.
 * Dimensions are LMI's: `CapacityProviderName`, `FunctionName` and
 * `Resource` = `<function>:<version>`. Without a configured MeterProvider the
 * global one is a no-op and so is all of this.
 */
import { metrics, type Attributes, type Counter, type Meter } from '@opentelemetry/api';
import { RejectionReason } from './admission.js';

/** The LMI dimensions of an EE's metrics. */
export interface EnvironmentMetricAttributes extends Attributes {
  CapacityProviderName: string;
  FunctionName: string;
  /** `<function>:<version>`. */
  Resource: string;
}

/** The dimensions of an EE of `functionName`:`version` on capacity provider `capacityProviderName`. */
export function environmentMetricAttributes(capacityProviderName: string, functionName: string, version: string): EnvironmentMetricAttributes {
  return Object.freeze({ CapacityProviderName: capacityProviderName, FunctionName: functionName, Resource: `${functionName}:${version}` });
}

/** The name in a capacity provider ARN (`arn:aws:lambda:<region>:<account>:capacity-provider:<name>`), or the text as given. */
export function capacityProviderNameOf(arn: string): string {
  const marker = ':capacity-provider:';
  const at = arn.indexOf(marker);
  return at >= 0 ? arn.slice(at + marker.length) : arn;
}

/** What the gauges read of one EE. */
export interface MeteredEnvironment {
  /** Only Ready EEs are observed. */
  readonly isReady: boolean;
  readonly metricAttributes: EnvironmentMetricAttributes;
  readonly maxConcurrency: number;
  /** The most invocations in flight at once since the previous call (LMI reports the maximum over the period). */
  takePeakInFlight(): number;
  /** CPU over the window, percent of the EE's vCPU share. */
  readonly cpuPercent: number;
  /** Resident memory, percent of the EE's MemorySize. */
  readonly memoryPercent: number;
}

/** The agent's instruments. */
export interface AgentMetrics {
  /** Counts a refused invocation: a throttle when the reason is ConcurrencyLimit, CPUPressure or MemoryPressure. */
  recordRejection(attributes: EnvironmentMetricAttributes, reason: RejectionReason): void;
}

/** Options of createAgentMetrics. */
export interface AgentMetricsOptions {
  /** Default `metrics.getMeter('hearth-agent')` of the global MeterProvider. */
  meter?: Meter;
  /** The EEs the gauges observe. */
  environments(): Iterable<MeteredEnvironment>;
}

const throttleCounterOf: Partial<Record<RejectionReason, 'concurrency' | 'cpu' | 'memory'>> = {
  [RejectionReason.ConcurrencyLimit]: 'concurrency',
  [RejectionReason.CPUPressure]: 'cpu',
  [RejectionReason.MemoryPressure]: 'memory',
};

interface VersionAggregate {
  attributes: EnvironmentMetricAttributes;
  concurrency: number;
  limit: number;
  cpuSum: number;
  memorySum: number;
  count: number;
}

/**
 * Creates the counters and gauges. Several EEs of one version on this instance
 * share one data point per gauge: concurrency and its limit are the maximum over
 * them, CPU and memory utilisation the mean.
 */
export function createAgentMetrics(options: AgentMetricsOptions): AgentMetrics {
  const meter = options.meter ?? metrics.getMeter('hearth-agent');
  const throttles = meter.createCounter('Throttles', { description: 'Invocations an execution environment refused (any goodput reason)' });
  const counters: Record<'concurrency' | 'cpu' | 'memory', Counter> = {
    concurrency: meter.createCounter('ConcurrencyThrottles', { description: 'Invocations refused: the EE was at its maximum concurrency' }),
    cpu: meter.createCounter('CPUThrottles', { description: 'Invocations refused: CPU pressure on the EE or its instance' }),
    memory: meter.createCounter('MemoryThrottles', { description: 'Invocations refused: memory pressure on the EE or its instance' }),
  };
  const concurrency = meter.createObservableGauge('ExecutionEnvironmentConcurrency', {
    description: 'Most invocations in flight at once on an EE since the previous collection',
  });
  const limit = meter.createObservableGauge('ExecutionEnvironmentConcurrencyLimit', { description: 'PerExecutionEnvironmentMaxConcurrency of the EE' });
  const cpu = meter.createObservableGauge('ExecutionEnvironmentCPUUtilization', {
    description: 'CPU of the EE over the sampling window, percent of its vCPU share',
    unit: '%',
  });
  const memory = meter.createObservableGauge('ExecutionEnvironmentMemoryUtilization', {
    description: 'Resident memory of the EE, percent of its MemorySize',
    unit: '%',
  });
  meter.addBatchObservableCallback(
    (result) => {
      const byVersion = new Map<string, VersionAggregate>();
      for (const environment of options.environments()) {
        if (!environment.isReady) continue;
        const key = `${environment.metricAttributes.CapacityProviderName}\n${environment.metricAttributes.Resource}`;
        let aggregate = byVersion.get(key);
        if (!aggregate) {
          aggregate = { attributes: environment.metricAttributes, concurrency: 0, limit: 0, cpuSum: 0, memorySum: 0, count: 0 };
          byVersion.set(key, aggregate);
        }
        aggregate.concurrency = Math.max(aggregate.concurrency, environment.takePeakInFlight());
        aggregate.limit = Math.max(aggregate.limit, environment.maxConcurrency);
        aggregate.cpuSum += environment.cpuPercent;
        aggregate.memorySum += environment.memoryPercent;
        aggregate.count += 1;
      }
      for (const aggregate of byVersion.values()) {
        result.observe(concurrency, aggregate.concurrency, aggregate.attributes);
        result.observe(limit, aggregate.limit, aggregate.attributes);
        result.observe(cpu, aggregate.cpuSum / aggregate.count, aggregate.attributes);
        result.observe(memory, aggregate.memorySum / aggregate.count, aggregate.attributes);
      }
    },
    [concurrency, limit, cpu, memory],
  );
  return {
    recordRejection(attributes, reason) {
      const counter = throttleCounterOf[reason];
      if (!counter) return;
      throttles.add(1, attributes);
      counters[counter].add(1, attributes);
    },
  };
}
