/**
 * The metrics of Lambda Managed Instances (spec §5) that an instance's agent
 * measures, recorded through OpenTelemetry:
 *
 * - execution-environment level, dimensions `CapacityProviderName`,
 *   `FunctionName`, `Resource` = `<function>:<version>`:
 *   `ExecutionEnvironmentConcurrency`, `ExecutionEnvironmentConcurrencyLimit`,
 *   `ExecutionEnvironmentCPUUtilization`, `ExecutionEnvironmentMemoryUtilization`;
 * - capacity-provider level, dimensions `CapacityProviderName`, `InstanceType`:
 *   `CPUUtilization`, `MemoryUtilization` (%), `vCPUAllocated`, `vCPUAvailable`
 *   (count), `MemoryAllocated`, `MemoryAvailable` (bytes) — this instance's
 *   share; a backend sums (capacity) or averages (utilisation) over the
 *   instances of a provider, as CloudWatch does.
 *
 * Gauges are observed only when a reader collects, so they cost nothing
 * otherwise. The agent's refusals of an invocation (goodput protection) are
 * counted as `hearth.agent.rejections` by reason: they are not LMI's
 * `Throttles`, because the router retries a refused invocation on another EE
 * — the router counts the throttles callers get (services/router/src/metrics.ts).
 * Without a configured MeterProvider the global one is a no-op and so is all of this.
 */
import { metrics, type Attributes, type Counter, type Meter } from '@opentelemetry/api';
import type { RejectionReason } from './admission.js';

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
  /** The EE's vCPU share (allocated on the instance while it lives). */
  readonly vcpus: number;
  /** The EE's MemorySize, MiB (allocated on the instance while it lives). */
  readonly memorySizeMb: number;
}

/** What the capacity-provider gauges read of the instance. */
export interface MeteredInstance {
  /** Name of the instance's capacity provider (the `CapacityProviderName` dimension). */
  readonly capacityProviderName: string;
  /** The `InstanceType` dimension, e.g. `m7g.large`. */
  readonly instanceType: string;
  /** vCPUs of the instance. */
  readonly vcpus: number;
  /** Memory of the instance, MiB. */
  readonly memoryMib: number;
  /** CPU of the agent and its EEs over the sampling window, percent of the instance's vCPUs. */
  cpuPercent(): number;
  /** Resident memory of the agent and its EEs, percent of the instance's memory. */
  memoryPercent(): number;
}

/** The agent's instruments. */
export interface AgentMetrics {
  /** Counts an invocation this agent refused (`hearth.agent.rejections`, with the EE's dimensions and `reason`). */
  recordRejection(attributes: EnvironmentMetricAttributes, reason: RejectionReason): void;
}

/** Options of createAgentMetrics. */
export interface AgentMetricsOptions {
  /** Default `metrics.getMeter('hearth-agent')` of the global MeterProvider. */
  meter?: Meter;
  /** The EEs the gauges observe. */
  environments(): Iterable<MeteredEnvironment>;
  /** The instance the capacity-provider gauges observe; undefined = no capacity-provider gauges. */
  instance?: MeteredInstance;
}

const mib = 1024 * 1024;

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
 * them, CPU and memory utilisation the mean. The capacity-provider gauges
 * count every live EE (starting, ready or stopping) as allocated.
 */
export function createAgentMetrics(options: AgentMetricsOptions): AgentMetrics {
  const meter = options.meter ?? metrics.getMeter('hearth-agent');
  const rejections: Counter = meter.createCounter('hearth.agent.rejections', {
    description: 'Invocations an execution environment refused, by reason (the router retries them on another EE)',
  });
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
  if (options.instance) observeInstance(meter, options.instance, options.environments);
  return {
    recordRejection(attributes, reason) {
      rejections.add(1, { ...attributes, reason });
    },
  };
}

/** The capacity-provider gauges of one instance (see the module comment). */
function observeInstance(meter: Meter, instance: MeteredInstance, environments: () => Iterable<MeteredEnvironment>): void {
  const attributes = Object.freeze({ CapacityProviderName: instance.capacityProviderName, InstanceType: instance.instanceType });
  const cpu = meter.createObservableGauge('CPUUtilization', { description: 'CPU of the instance, percent of its vCPUs', unit: '%' });
  const memory = meter.createObservableGauge('MemoryUtilization', { description: 'Resident memory on the instance, percent of its memory', unit: '%' });
  const vcpuAllocated = meter.createObservableGauge('vCPUAllocated', { description: 'vCPUs allocated on the instance to execution environments' });
  const vcpuAvailable = meter.createObservableGauge('vCPUAvailable', { description: 'vCPUs of the instance still available for execution environments' });
  const memoryAllocated = meter.createObservableGauge('MemoryAllocated', {
    description: 'Memory allocated on the instance to execution environments',
    unit: 'By',
  });
  const memoryAvailable = meter.createObservableGauge('MemoryAvailable', {
    description: 'Memory of the instance still available for execution environments',
    unit: 'By',
  });
  meter.addBatchObservableCallback(
    (result) => {
      let vcpus = 0;
      let memoryMb = 0;
      for (const environment of environments()) {
        vcpus += environment.vcpus;
        memoryMb += environment.memorySizeMb;
      }
      result.observe(cpu, instance.cpuPercent(), attributes);
      result.observe(memory, instance.memoryPercent(), attributes);
      result.observe(vcpuAllocated, vcpus, attributes);
      result.observe(vcpuAvailable, Math.max(0, instance.vcpus - vcpus), attributes);
      result.observe(memoryAllocated, memoryMb * mib, attributes);
      result.observe(memoryAvailable, Math.max(0, (instance.memoryMib - memoryMb) * mib), attributes);
    },
    [cpu, memory, vcpuAllocated, vcpuAvailable, memoryAllocated, memoryAvailable],
  );
}
