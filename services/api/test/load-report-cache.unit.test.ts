import { describe, expect, it } from 'vitest';
import { LoadReportCache } from '../src/fleet/index.js';

/** A load report as an agent publishes it (services/agent/src/load-report.ts). */
function report(instanceId: string, at: number, environments: Array<{ id: string; inFlight?: number; rejected?: number; state?: string }> = []) {
  return {
    instanceId,
    agentAddress: '127.0.0.1:1',
    zone: 'us-east-1a',
    capacityProviderArn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:p1',
    at,
    cpu: { usedPercent: 40, environmentsPercent: 30 },
    memory: { usedMiB: 512, capacityMiB: 8192 },
    environments: environments.map((environment) => ({
      environmentId: environment.id,
      functionName: 'hello',
      version: '1',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:hello:1',
      state: environment.state ?? 'Ready',
      inFlight: environment.inFlight ?? 0,
      maxConcurrency: 64,
      cpuPercent: 12.5,
      memoryMiB: 100,
      rejectedSinceLastReport: environment.rejected ?? 0,
    })),
  };
}

describe('LoadReportCache', () => {
  it('keeps the latest report of each instance with its EEs', () => {
    let now = 1_000;
    const cache = new LoadReportCache({ now: () => now });
    expect(cache.ingest(report('i-1', 1, [{ id: 'ee-1', inFlight: 3 }]))).toBeUndefined();
    now += 100;
    expect(cache.ingest(report('i-1', 2, [{ id: 'ee-1', inFlight: 5 }, { id: 'ee-2', state: 'Starting' }]))).toBeUndefined();
    const cached = cache.get('i-1');
    expect(cached).toMatchObject({ instanceId: 'i-1', zone: 'us-east-1a', at: 2, receivedAt: 1_100, cpuPercent: 40, memoryUsedMiB: 512 });
    expect(cached?.environments.map((environment) => [environment.environmentId, environment.state, environment.inFlight])).toEqual([
      ['ee-1', 'Ready', 5],
      ['ee-2', 'Starting', 0],
    ]);
  });

  it('forgets an instance whose reports stop for longer than maxAgeMs', () => {
    let now = 0;
    const cache = new LoadReportCache({ maxAgeMs: 5_000, now: () => now });
    cache.ingest(report('i-quiet', 1, [{ id: 'ee-1' }]));
    now = 3_000;
    cache.ingest(report('i-live', 1, [{ id: 'ee-2' }]));
    now = 5_000;
    expect(cache.list().map((entry) => entry.instanceId)).toEqual(['i-quiet', 'i-live']);
    now = 5_001;
    expect(cache.get('i-quiet')).toBeUndefined();
    expect(cache.list().map((entry) => entry.instanceId)).toEqual(['i-live']);
    expect(cache.size).toBe(1);
    now = 8_001;
    expect(cache.list()).toEqual([]);
    expect(cache.size).toBe(0);
  });

  it('is bounded: the instance that reported least recently is evicted first', () => {
    let now = 0;
    const cache = new LoadReportCache({ maxInstances: 2, now: () => now });
    cache.ingest(report('i-1', 1));
    now = 1;
    cache.ingest(report('i-2', 1));
    now = 2;
    cache.ingest(report('i-1', 2));
    now = 3;
    cache.ingest(report('i-3', 1));
    expect(cache.size).toBe(2);
    expect(cache.list().map((entry) => entry.instanceId).sort()).toEqual(['i-1', 'i-3']);
  });

  it('drops reordered and malformed reports, and skips EEs it cannot read', () => {
    const cache = new LoadReportCache();
    cache.ingest(report('i-1', 10, [{ id: 'ee-1', inFlight: 9 }]));
    expect(cache.ingest(report('i-1', 9, [{ id: 'ee-1', inFlight: 1 }]))).toBe('out of order');
    expect(cache.get('i-1')?.environments[0]?.inFlight).toBe(9);
    expect(cache.ingest({ instanceId: 'i-2' })).toBe('no at');
    expect(cache.ingest('nonsense')).toBe('not an object');
    expect(cache.ingest({ instanceId: 'i-3', at: 1, environments: [{ environmentId: 'ee-x' }, null, ...report('i-3', 1, [{ id: 'ee-ok' }]).environments] })).toBeUndefined();
    expect(cache.get('i-3')?.environments.map((environment) => environment.environmentId)).toEqual(['ee-ok']);
    expect(cache.get('i-3')?.cpuPercent).toBeUndefined();
    expect({ malformed: cache.malformed, outOfOrder: cache.outOfOrder }).toEqual({ malformed: 2, outOfOrder: 1 });
  });

  it('sums refusals over the recent window, per EE', () => {
    let now = 0;
    const cache = new LoadReportCache({ throttleWindowMs: 1_000, now: () => now });
    cache.ingest(report('i-1', 1, [{ id: 'ee-1', rejected: 4 }, { id: 'ee-2' }]));
    now = 500;
    cache.ingest(report('i-1', 2, [{ id: 'ee-1', rejected: 1 }, { id: 'ee-2', rejected: 2 }]));
    expect(Object.fromEntries(cache.get('i-1')!.recentRejections)).toEqual({ 'ee-1': 5, 'ee-2': 2 });
    expect(cache.get('i-1')!.environments.map((environment) => environment.rejectedSinceLastReport)).toEqual([1, 2]);
    now = 1_200;
    expect(Object.fromEntries(cache.get('i-1')!.recentRejections)).toEqual({ 'ee-1': 1, 'ee-2': 2 });
    now = 1_600;
    expect(cache.get('i-1')!.recentRejections.size).toBe(0);
  });
});
