import { describe, expect, it } from 'vitest';
import { buildFleetStatus, LoadReportCache, type FleetSources, type InstanceSummary, type ProviderSummary } from '../src/fleet/index.js';

const arn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:capacity-provider:${name}`;

const providers: ProviderSummary[] = [
  { name: 'p2', arn: arn('p2'), state: 'Active', maxVCpuCount: 16 },
  { name: 'p1', arn: arn('p1'), state: 'Active', maxVCpuCount: 400 },
];

const instance = (instanceId: string, zone: string, provider: string, state = 'Running'): InstanceSummary => ({
  instanceId,
  capacityProviderArn: arn(provider),
  instanceType: 'm7g.large',
  zone,
  state,
  vCpus: 2,
  memoryMiB: 8192,
  launchedAt: '2026-11-27T22:00:00.000Z',
});

function reportOf(instanceId: string, zone: string, environments: Array<{ id: string; fn: string; version: string; inFlight: number; rejected?: number }>) {
  return {
    instanceId,
    agentAddress: '127.0.0.1:1',
    zone,
    capacityProviderArn: arn('p1'),
    at: Date.now(),
    cpu: { usedPercent: 33.3, environmentsPercent: 20 },
    memory: { usedMiB: 700, capacityMiB: 8192 },
    environments: environments.map((environment) => ({
      environmentId: environment.id,
      functionName: environment.fn,
      version: environment.version,
      functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${environment.fn}:${environment.version}`,
      state: 'Ready',
      inFlight: environment.inFlight,
      maxConcurrency: 64,
      cpuPercent: 12.54,
      memoryMiB: 90,
      rejectedSinceLastReport: environment.rejected ?? 0,
    })),
  };
}

function sources(overrides: Partial<FleetSources> = {}): FleetSources {
  const loadReports = new LoadReportCache();
  loadReports.ingest(reportOf('i-b', 'us-east-1b', [{ id: 'ee-2', fn: 'hello', version: '1', inFlight: 2, rejected: 3 }]));
  loadReports.ingest(reportOf('i-a', 'us-east-1a', [{ id: 'ee-1', fn: 'hello', version: '1', inFlight: 1 }, { id: 'ee-0', fn: 'echo', version: '2', inFlight: 0 }]));
  loadReports.ingest(reportOf('i-gone', 'us-east-1c', [{ id: 'ee-9', fn: 'hello', version: '1', inFlight: 0 }]));
  return {
    listCapacityProviders: async () => providers,
    listInstances: async () => [instance('i-b', 'us-east-1b', 'p1'), instance('i-a', 'us-east-1a', 'p1'), instance('i-c', 'us-east-1c', 'p2', 'Pending'), instance('i-t', 'us-east-1c', 'p1', 'Terminated')],
    loadReports,
    ...overrides,
  };
}

const options = { deadlineMs: 1_000, recentThrottleWindowSeconds: 10 };

describe('buildFleetStatus', () => {
  it('joins providers, instances and load reports into the contract shape', async () => {
    const status = await buildFleetStatus(sources(), { ...options, now: () => Date.parse('2026-11-27T22:01:02.345Z') });
    expect(status.capturedAt).toBe('2026-11-27T22:01:02.345Z');
    expect(status.notes).toEqual([]);
    expect(status.capacityProviders).toEqual([
      { name: 'p1', arn: arn('p1'), state: 'Active', maxVCpuCount: 400, vCpusInUse: 4 },
      { name: 'p2', arn: arn('p2'), state: 'Active', maxVCpuCount: 16, vCpusInUse: 2 },
    ]);
    // By zone, terminated left out; an instance without a report has no EEs and a null lastReportAt.
    expect(status.instances.map((entry) => [entry.zone, entry.instanceId, entry.state])).toEqual([
      ['us-east-1a', 'i-a', 'Running'],
      ['us-east-1b', 'i-b', 'Running'],
      ['us-east-1c', 'i-c', 'Pending'],
    ]);
    const [a, b, c] = status.instances;
    expect(a).toMatchObject({
      capacityProviderArn: arn('p1'),
      capacityProviderName: 'p1',
      instanceType: 'm7g.large',
      vCpus: 2,
      memoryMiB: 8192,
      launchedAt: '2026-11-27T22:00:00.000Z',
      cpuPercent: 33.3,
    });
    expect(typeof a!.lastReportAt).toBe('string');
    expect(a!.environments).toEqual([
      { environmentId: 'ee-0', functionName: 'echo', version: '2', state: 'Ready', inFlight: 0, maxConcurrency: 64, cpuPercent: 12.5, throttles: 0, recentThrottles: 0, memoryMiB: 90 },
      { environmentId: 'ee-1', functionName: 'hello', version: '1', state: 'Ready', inFlight: 1, maxConcurrency: 64, cpuPercent: 12.5, throttles: 0, recentThrottles: 0, memoryMiB: 90 },
    ]);
    expect(b!.environments[0]).toMatchObject({ environmentId: 'ee-2', throttles: 3, recentThrottles: 3 });
    expect(c).toMatchObject({ lastReportAt: null, cpuPercent: null, environments: [] });
    expect(status.totals).toEqual({ instances: 3, environments: 3, inFlight: 3, maxConcurrency: 192, throttles: 3, recentThrottles: 3 });
    expect(status.recentThrottleWindowSeconds).toBe(10);
  });

  it('answers within the deadline when the instance-manager hangs, with the reporting instances and a note', async () => {
    const started = Date.now();
    const status = await buildFleetStatus(sources({ listInstances: () => new Promise<never>(() => undefined) }), { ...options, deadlineMs: 200 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(status.instances.map((entry) => [entry.instanceId, entry.state, entry.zone])).toEqual([
      ['i-a', 'Unknown', 'us-east-1a'],
      ['i-b', 'Unknown', 'us-east-1b'],
      ['i-gone', 'Unknown', 'us-east-1c'],
    ]);
    expect(status.totals.environments).toBe(4);
    expect(status.notes).toEqual([
      'Instances are those whose agents report load (state Unknown): the instance-manager gave no answer within 200 ms.',
      'vCpusInUse is 0: it is counted from the instance-manager, which did not answer.',
    ]);
    expect(status.capacityProviders.map((provider) => provider.vCpusInUse)).toEqual([0, 0]);
  });

  it('leaves providers out with a note when reading them fails, and keeps the rest', async () => {
    const status = await buildFleetStatus(
      sources({
        listCapacityProviders: async () => {
          throw new Error('connection refused');
        },
      }),
      options,
    );
    expect(status.capacityProviders).toEqual([]);
    expect(status.notes).toEqual(['Capacity providers are left out: reading them gave connection refused.']);
    expect(status.instances).toHaveLength(3);
  });

  it('stops waiting when the caller goes away', async () => {
    const caller = new AbortController();
    const pending = buildFleetStatus(sources({ listInstances: () => new Promise<never>(() => undefined) }), { ...options, deadlineMs: 60_000, signal: caller.signal });
    caller.abort();
    const status = await pending;
    expect(status.notes[0]).toMatch(/instance-manager gave no answer/);
  });
});
