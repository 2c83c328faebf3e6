/**
 * The LMI execution-environment metrics through an OpenTelemetry SDK reader:
 * throttle counters (Throttles plus exactly one sub-counter), gauges per
 * function version with LMI's dimensions.
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

  it('counts throttles by reason and observes EE gauges per version', async () => {
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
    });
    const environments = [ee(fnA, 10, 40, 20), ee(fnA, 30, 60, 30), ee(fnB, 2, 5, 10), ee(fnB, 99, 99, 99, false)];
    const metrics = createAgentMetrics({ meter: provider.getMeter('test'), environments: () => environments });

    metrics.recordRejection(fnA, 'ConcurrencyLimit');
    metrics.recordRejection(fnA, 'CPUPressure');
    metrics.recordRejection(fnA, 'CPUPressure');
    metrics.recordRejection(fnB, 'MemoryPressure');
    // Not throttles: the EE was not there to take it.
    metrics.recordRejection(fnB, 'NotReady');
    metrics.recordRejection(fnB, 'UnknownEnvironment');

    const { resourceMetrics } = await reader.collect();
    const got = points(resourceMetrics);
    const resourceA = { CapacityProviderName: 'fleet', FunctionName: 'fn-a', Resource: 'fn-a:3' };
    const resourceB = { CapacityProviderName: 'fleet', FunctionName: 'fn-b', Resource: 'fn-b:1' };
    expect(got.get('Throttles')).toEqual(expect.arrayContaining([[resourceA, 3], [resourceB, 1]]));
    expect(got.get('ConcurrencyThrottles')).toEqual([[resourceA, 1]]);
    expect(got.get('CPUThrottles')).toEqual([[resourceA, 2]]);
    expect(got.get('MemoryThrottles')).toEqual([[resourceB, 1]]);
    // Two EEs of fn-a:3: the peak concurrency is the higher, utilisation the mean; the non-Ready EE is left out.
    expect(got.get('ExecutionEnvironmentConcurrency')).toEqual(expect.arrayContaining([[resourceA, 30], [resourceB, 2]]));
    expect(got.get('ExecutionEnvironmentConcurrencyLimit')).toEqual(expect.arrayContaining([[resourceA, 64], [resourceB, 64]]));
    expect(got.get('ExecutionEnvironmentCPUUtilization')).toEqual(expect.arrayContaining([[resourceA, 50], [resourceB, 5]]));
    expect(got.get('ExecutionEnvironmentMemoryUtilization')).toEqual(expect.arrayContaining([[resourceA, 25], [resourceB, 10]]));
    await provider.shutdown();
  });
});
