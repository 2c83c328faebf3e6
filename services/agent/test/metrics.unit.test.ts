/**
 * The LMI metrics of an agent through an OpenTelemetry SDK reader: gauges per
 * function version with LMI's EE dimensions, the capacity-provider gauges of
 * the instance, and refusals counted by reason (not as LMI throttles: the
 * router counts those).
 */
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { capacityProviderNameOf, createAgentMetrics, environmentMetricAttributes, type MeteredEnvironment } from '../src/metrics.js';

class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** name → list of [attributes, value] of every data point. */
function points(metrics: ResourceMetrics): Map<string, Array<[Record<string, unknown>, number]>> {
  const result = new Map<string, Array<[Record<string, unknown>, number]>>();
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      result.set(
        metric.descriptor.name,
        metric.dataPoints.map((point) => [point.attributes as Record<string, unknown>, point.value as number]),
      );
    }
  }
  return result;
}

describe('agent metrics', () => {
  it('names the capacity provider from its ARN', () => {
    expect(capacityProviderNameOf('arn:aws:lambda:us-east-1:123456789012:capacity-provider:fleet-a')).toBe('fleet-a');
    expect(capacityProviderNameOf('')).toBe('');
  });

  it('counts refusals by reason and observes EE and capacity-provider gauges', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const fnA = environmentMetricAttributes('fleet', 'fn-a', '3');
    const fnB = environmentMetricAttributes('fleet', 'fn-b', '1');
    const ee = (attributes: typeof fnA, peak: number, cpuPercent: number, memoryPercent: number, isReady = true): MeteredEnvironment => ({
      isReady,
      metricAttributes: attributes,
      maxConcurrency: 64,
      takePeakInFlight: () => peak,
      cpuPercent,
      memoryPercent,
      vcpus: 1,
      memorySizeMb: 2048,
    });
    const environments = [ee(fnA, 10, 40, 20), ee(fnA, 30, 60, 30), ee(fnB, 2, 5, 10), ee(fnB, 99, 99, 99, false)];
    const metrics = createAgentMetrics({
      meter: provider.getMeter('test'),
      environments: () => environments,
      instance: { capacityProviderName: 'fleet', instanceType: 'm7g.2xlarge', vcpus: 8, memoryMib: 32_768, cpuPercent: () => 42, memoryPercent: () => 17 },
    });

    metrics.recordRejection(fnA, 'ConcurrencyLimit');
    metrics.recordRejection(fnA, 'CPUPressure');
    metrics.recordRejection(fnA, 'CPUPressure');
    metrics.recordRejection(fnB, 'MemoryPressure');
    metrics.recordRejection(fnB, 'NotReady');

    const { resourceMetrics } = await reader.collect();
    const got = points(resourceMetrics);
    const resourceA = { CapacityProviderName: 'fleet', FunctionName: 'fn-a', Resource: 'fn-a:3' };
    const resourceB = { CapacityProviderName: 'fleet', FunctionName: 'fn-b', Resource: 'fn-b:1' };
    // A refusal is retried elsewhere by the router: not one of LMI's throttles.
    expect(got.has('Throttles')).toBe(false);
    expect(got.get('hearth.agent.rejections')).toEqual(
      expect.arrayContaining([
        [{ ...resourceA, reason: 'ConcurrencyLimit' }, 1],
        [{ ...resourceA, reason: 'CPUPressure' }, 2],
        [{ ...resourceB, reason: 'MemoryPressure' }, 1],
        [{ ...resourceB, reason: 'NotReady' }, 1],
      ]),
    );
    // Two EEs of fn-a:3: the peak concurrency is the higher, utilisation the mean; the non-Ready EE is left out.
    expect(got.get('ExecutionEnvironmentConcurrency')).toEqual(expect.arrayContaining([[resourceA, 30], [resourceB, 2]]));
    expect(got.get('ExecutionEnvironmentConcurrencyLimit')).toEqual(expect.arrayContaining([[resourceA, 64], [resourceB, 64]]));
    expect(got.get('ExecutionEnvironmentCPUUtilization')).toEqual(expect.arrayContaining([[resourceA, 50], [resourceB, 5]]));
    expect(got.get('ExecutionEnvironmentMemoryUtilization')).toEqual(expect.arrayContaining([[resourceA, 25], [resourceB, 10]]));
    // Capacity provider level: the instance's own figures; every live EE (the starting one too) holds 1 vCPU and 2 GiB.
    const instance = { CapacityProviderName: 'fleet', InstanceType: 'm7g.2xlarge' };
    expect(got.get('CPUUtilization')).toEqual([[instance, 42]]);
    expect(got.get('MemoryUtilization')).toEqual([[instance, 17]]);
    expect(got.get('vCPUAllocated')).toEqual([[instance, 4]]);
    expect(got.get('vCPUAvailable')).toEqual([[instance, 4]]);
    expect(got.get('MemoryAllocated')).toEqual([[instance, 4 * 2048 * 1024 * 1024]]);
    expect(got.get('MemoryAvailable')).toEqual([[instance, (32_768 - 4 * 2048) * 1024 * 1024]]);
    await provider.shutdown();
  });
});

describe('capacity-provider gauges', () => {
  it('never report negative availability when EEs over-commit the instance', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const attributes = environmentMetricAttributes('fleet', 'fn', '1');
    const big: MeteredEnvironment = {
      isReady: true,
      metricAttributes: attributes,
      maxConcurrency: 1,
      takePeakInFlight: () => 0,
      cpuPercent: 0,
      memoryPercent: 0,
      vcpus: 4,
      memorySizeMb: 8192,
    };
    createAgentMetrics({
      meter: provider.getMeter('test'),
      environments: () => [big, big],
      instance: { capacityProviderName: 'fleet', instanceType: 'c7g.large', vcpus: 2, memoryMib: 4096, cpuPercent: () => 0, memoryPercent: () => 0 },
    });
    const got = points((await reader.collect()).resourceMetrics);
    const instance = { CapacityProviderName: 'fleet', InstanceType: 'c7g.large' };
    expect(got.get('vCPUAllocated')).toEqual([[instance, 8]]);
    expect(got.get('vCPUAvailable')).toEqual([[instance, 0]]);
    expect(got.get('MemoryAvailable')).toEqual([[instance, 0]]);
    await provider.shutdown();
  });
});
