/**
 * The router's LMI metrics through the global MeterProvider: `Throttles` with
 * exactly one sub-metric per LMI reason (none for NoReadyEnvironment),
 * `Invocations` and `Errors`, with LMI's function dimensions.
 */
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { functionMetricAttributes, RouterMetrics } from '../src/metrics.js';

class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

function points(resourceMetrics: ResourceMetrics): Map<string, Array<[Record<string, unknown>, number]>> {
  const result = new Map<string, Array<[Record<string, unknown>, number]>>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      result.set(
        metric.descriptor.name,
        metric.dataPoints.map((point) => [point.attributes as Record<string, unknown>, point.value as number]),
      );
    }
  }
  return result;
}

describe('router metrics', () => {
  it('names the capacity provider only when it is known', () => {
    expect(functionMetricAttributes({ functionName: 'fn', version: '2' })).toEqual({ FunctionName: 'fn', Resource: 'fn:2' });
    expect(
      functionMetricAttributes({ functionName: 'fn', version: '$LATEST.PUBLISHED', capacityProviderArn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:fleet' }),
    ).toEqual({ FunctionName: 'fn', Resource: 'fn:$LATEST.PUBLISHED', CapacityProviderName: 'fleet' });
  });

  it('counts LMI throttles by reason, invocations and function errors', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(provider);
    const routerMetrics = new RouterMetrics();
    const target = { functionName: 'fn', version: '1', capacityProviderArn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:fleet' };
    routerMetrics.throttle('ConcurrentInvocationLimitExceeded', target);
    routerMetrics.throttle('CPUThrottle', target);
    routerMetrics.throttle('MemoryThrottle', target);
    routerMetrics.throttle('NoReadyEnvironment', target);
    // Without a target it is counted in process and as hearth.router.throttles only.
    routerMetrics.throttle('ConcurrentInvocationLimitExceeded');
    routerMetrics.ran(target, false);
    routerMetrics.ran(target, true);

    const got = points((await reader.collect()).resourceMetrics);
    const dims = { CapacityProviderName: 'fleet', FunctionName: 'fn', Resource: 'fn:1' };
    expect(got.get('Throttles')).toEqual([[dims, 4]]);
    expect(got.get('ConcurrencyThrottles')).toEqual([[dims, 1]]);
    expect(got.get('CPUThrottles')).toEqual([[dims, 1]]);
    expect(got.get('MemoryThrottles')).toEqual([[dims, 1]]);
    expect(got.get('Invocations')).toEqual([[dims, 2]]);
    expect(got.get('Errors')).toEqual([[dims, 1]]);
    expect(got.get('hearth.router.throttles')).toEqual(expect.arrayContaining([[{ reason: 'ConcurrentInvocationLimitExceeded' }, 2]]));
    expect(routerMetrics.snapshot().throttles.ConcurrentInvocationLimitExceeded).toBe(2);
    await provider.shutdown();
    metrics.disable();
  });
});
