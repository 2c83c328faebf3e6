/**
 * The fleet status on real infrastructure: load reports arrive over a real
 * NATS live subject and expire when an instance stops reporting, and an
 * instance-manager that accepts the connection but never answers leaves the
 * answer partial at its deadline instead of hanging it.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, type Bus, type LiveSubscription } from '@hearth/bus';
import { testInfra } from '@hearth/testing';
import { buildFleetStatus, connectInstanceLister, feedLoadReports, LoadReportCache, liveFleetSources } from '../src/fleet/index.js';
import { testLogger } from './invoke-support.js';

let bus: Bus;

beforeAll(async () => {
  bus = await connectBus({ url: testInfra().natsUrl, name: 'api-fleet-test', prefix: `tf${randomBytes(4).toString('hex')}`, logger: testLogger });
});

afterAll(async () => {
  await bus?.close();
});

const report = (instanceId: string, at: number, inFlight: number) => ({
  instanceId,
  agentAddress: '127.0.0.1:1',
  zone: 'us-east-1b',
  capacityProviderArn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:p1',
  at,
  cpu: { usedPercent: 10, environmentsPercent: 5 },
  memory: { usedMiB: 300, capacityMiB: 8192 },
  environments: [
    { environmentId: `ee-${instanceId}`, functionName: 'hello', version: '1', functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:hello:1', state: 'Ready', inFlight, maxConcurrency: 64, cpuPercent: 3, memoryMiB: 80, rejectedSinceLastReport: 1 },
  ],
});

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the load-report feed over NATS', () => {
  let subscription: LiveSubscription | undefined;
  afterAll(() => subscription?.unsubscribe());

  it('keeps the latest report of each instance and forgets one that stops reporting', async () => {
    const cache = new LoadReportCache({ maxAgeMs: 1_000 });
    subscription = feedLoadReports(bus, cache);
    await bus.nc.flush();
    bus.publishLive('instance.i-quiet.load', report('i-quiet', 1, 2));
    bus.publishLive('instance.i-live.load', report('i-live', 1, 1));
    bus.publishLive('instance.i-live.load', report('i-live', 2, 7));
    // A subject of another kind is not a load report.
    bus.publishLive('instance.i-other.heartbeat', { instanceId: 'i-other', at: 1, environments: [] });
    await until('both instances cached', () => (cache.get('i-quiet') && cache.get('i-live')?.at === 2 ? true : undefined));
    expect(cache.get('i-live')?.environments[0]).toMatchObject({ environmentId: 'ee-i-live', inFlight: 7 });
    expect(cache.get('i-other')).toBeUndefined();

    // i-live goes on reporting; i-quiet stops and expires after maxAgeMs.
    let at = 3;
    const timer = setInterval(() => bus.publishLive('instance.i-live.load', report('i-live', at++, 3)), 100);
    try {
      await until('i-quiet expired', () => (cache.get('i-quiet') === undefined ? true : undefined));
      expect(cache.get('i-live')).toBeDefined();
      expect(cache.list().map((entry) => entry.instanceId)).toEqual(['i-live']);
      expect(cache.get('i-live')!.recentRejections.get('ee-i-live')).toBeGreaterThan(1);
    } finally {
      clearInterval(timer);
    }
    await until('i-live expired once it stopped', () => (cache.list().length === 0 ? true : undefined));
  });
});

describe('an instance-manager that never answers', () => {
  let silent: Server;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts TCP connections and says nothing: a gRPC call to it can only end at its deadline.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('leaves the fleet status partial at the deadline, with the reporting instances and a note', async () => {
    const address = silent.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const lister = connectInstanceLister(`127.0.0.1:${address.port}`);
    const cache = new LoadReportCache();
    const subscription = feedLoadReports(bus, cache);
    try {
      await bus.nc.flush();
      bus.publishLive('instance.i-9.load', report('i-9', 1, 4));
      await until('report cached', () => cache.get('i-9'));
      const sources = liveFleetSources({
        plane: { ListCapacityProviders: async () => ({ CapacityProviders: [] }) },
        instances: lister,
        loadReports: cache,
      });
      const started = Date.now();
      const status = await buildFleetStatus(sources, { deadlineMs: 1_000, recentThrottleWindowSeconds: 10 });
      const took = Date.now() - started;
      // Generous: the point is that it ends near the deadline, not at a gRPC default of seconds or never.
      expect(took).toBeLessThan(10_000);
      expect(status.instances).toEqual([expect.objectContaining({ instanceId: 'i-9', state: 'Unknown', zone: 'us-east-1b', environments: [expect.objectContaining({ inFlight: 4 })] })]);
      expect(status.notes[0]).toMatch(/^Instances are those whose agents report load \(state Unknown\): the instance-manager gave /);
    } finally {
      subscription.unsubscribe();
      lister.close();
    }
  });
});
