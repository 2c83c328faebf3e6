import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServiceName } from '@hearth/config';
import { PortInUseError, startCluster, type Cluster, type ClusterOptions, type SupervisorEvent } from '@hearth/cluster';
import { startTestCluster, testInfra } from '@hearth/testing';
import postgres from 'postgres';
import { isAlive, waitUntilGone } from './process-helpers.js';

/** What the fake service does, per service name (FAKE_BEHAVIOUR is JSON of Record<name, Behaviour>). */
interface Behaviour {
  /** Milliseconds between listening and the ready line. */
  readyDelayMs?: number;
  /** Exit with code 3 shortly after becoming ready, on each of the first N runs. */
  crashes?: number;
  /** Print output but never the ready line. */
  neverReady?: boolean;
  /** Ignore SIGTERM (forces the supervisor to SIGKILL). */
  ignoreSigterm?: boolean;
}

// Behaves per the service contract: env-only configuration, JSON lines on stdout,
// a "service.ready" line, exit 0 on SIGTERM. It also forks a grandchild that it
// never cleans up, to prove the supervisor leaves no process behind.
const fakeService = `
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';

const dataDir = process.env.HEARTH_DATA_DIR;
const name = basename(dataDir);
const behaviour = JSON.parse(process.env.FAKE_BEHAVIOUR || '{}')[name] || {};
const log = (fields) => process.stdout.write(JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, name, ...fields }) + '\\n');
const grandchild = spawn('sleep', ['600'], { stdio: 'ignore' });
appendFileSync(join(dataDir, 'pids'), process.pid + ' ' + grandchild.pid + '\\n');
const run = readFileSync(join(dataDir, 'pids'), 'utf8').trim().split('\\n').length;
writeFileSync(join(dataDir, 'env.json'), JSON.stringify(process.env));
log({ msg: 'booting run ' + run });
const server = createServer((socket) => socket.end());
server.listen(Number(process.env.HEARTH_GRPC_PORT), '127.0.0.1', () => {
  if (behaviour.neverReady) return;
  setTimeout(() => {
    log({ event: 'service.ready', msg: name + ' ready' });
    if (run <= (behaviour.crashes || 0)) setTimeout(() => { log({ msg: 'crashing' }); process.exit(3); }, 50);
  }, behaviour.readyDelayMs || 0);
});
process.on('SIGTERM', () => {
  if (behaviour.ignoreSigterm) return log({ msg: 'ignoring SIGTERM' });
  log({ msg: 'draining' });
  server.close(() => process.exit(0));
});
`;

const root = mkdtempSync(join(tmpdir(), 'hearth-supervisor-test-'));
const fakeEntry = join(root, 'fake-service.mjs');
writeFileSync(fakeEntry, fakeService);
afterAll(() => rmSync(root, { recursive: true, force: true }));

let clusterCount = 0;

/** Starts a cluster of fake services in its own data dir, recording supervisor events. */
async function startFakeCluster(
  services: ServiceName[],
  behaviour: Partial<Record<ServiceName, Behaviour>>,
  options: Partial<ClusterOptions> = {},
): Promise<{ cluster: Cluster; events: SupervisorEvent[]; dataDir: string }> {
  const events: SupervisorEvent[] = [];
  const dataDir = join(root, `cluster-${(clusterCount += 1)}`);
  const cluster = await startCluster({
    mode: 'ephemeral',
    dataDir,
    infra: testInfra(),
    services,
    serviceEntry: () => fakeEntry,
    env: { FAKE_BEHAVIOUR: JSON.stringify(behaviour) },
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { cluster, events, dataDir };
}

/** Every pid a fake service (and its grandchild) ever had, from its pid file. */
function recordedPids(dataDir: string, name: ServiceName): number[] {
  const file = join(dataDir, 'services', name, 'pids');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
}

function serviceEnv(dataDir: string, name: ServiceName): Record<string, string> {
  return JSON.parse(readFileSync(join(dataDir, 'services', name, 'env.json'), 'utf8')) as Record<string, string>;
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('startCluster supervising services', () => {
  it('starts services in order, each after the previous one is ready, configured by environment', async () => {
    const started = Date.now();
    const { cluster, events, dataDir } = await startFakeCluster(['scaler', 'api', 'router'], { api: { readyDelayMs: 300 } });
    try {
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      const order = events.filter((event) => event.event === 'service.started' || event.event === 'service.ready');
      expect(order.map((event) => `${event.event}:${event.service}`)).toEqual([
        'service.started:api',
        'service.ready:api',
        'service.started:router',
        'service.ready:router',
        'service.started:scaler',
        'service.ready:scaler',
      ]);
      expect(cluster.status().map((status) => status.state)).toEqual(['ready', 'ready', 'ready']);

      const api = serviceEnv(dataDir, 'api');
      const router = serviceEnv(dataDir, 'router');
      expect(cluster.httpEndpoint).toBe(`http://127.0.0.1:${api.HEARTH_HTTP_PORT}`);
      expect(cluster.grpcEndpoints.api).toBe(`127.0.0.1:${api.HEARTH_GRPC_PORT}`);
      expect(cluster.grpcEndpoints.router).toBe(`127.0.0.1:${router.HEARTH_GRPC_PORT}`);
      expect(router.HEARTH_HTTP_PORT).toBeUndefined();
      expect(router).toMatchObject({
        DATABASE_URL: testInfra().databaseUrl,
        NATS_URL: testInfra().natsUrl,
        TEMPORAL_ADDRESS: testInfra().temporalAddress,
        HEARTH_DATA_DIR: join(dataDir, 'services', 'router'),
        HEARTH_ROUTER_GRPC_ADDRESS: cluster.grpcEndpoints.router,
        HEARTH_API_GRPC_ADDRESS: cluster.grpcEndpoints.api,
      });
      expect(readFileSync(join(cluster.logsDir, 'api.log'), 'utf8')).toContain('"event":"service.ready"');
    } finally {
      await cluster.stop();
    }
    const pids = (['api', 'router', 'scaler'] as const).flatMap((name) => recordedPids(dataDir, name));
    expect(pids).toHaveLength(6);
    expect(await waitUntilGone(pids, 2_000)).toEqual([]);
  });

  it('restarts a crashed service with doubling backoff, and stops cleanly', async () => {
    const { cluster, events, dataDir } = await startFakeCluster(['router'], { router: { crashes: 2 } });
    try {
      await waitFor(() => cluster.status()[0]?.restarts === 2 && cluster.status()[0]?.state === 'ready', 10_000, 'two restarts');
      const restarts = events.filter((event) => event.event === 'service.restart');
      expect(restarts.map((event) => event.delayMs)).toEqual([500, 1000]);
      // Each restart waited its delay: from the exit to the next start.
      const exits = events.filter((event) => event.event === 'service.exited');
      const starts = events.filter((event) => event.event === 'service.started').slice(1);
      expect(exits.map((event) => (event.exit as { code: number }).code)).toEqual([3, 3]);
      starts.forEach((start, index) => {
        expect(start.time - (exits[index]?.time ?? 0)).toBeGreaterThanOrEqual((restarts[index]?.delayMs as number) - 5);
      });
      expect(readFileSync(join(cluster.logsDir, 'supervisor.log'), 'utf8')).toContain('"event":"service.restart"');
    } finally {
      await cluster.stop();
    }
    const pids = recordedPids(dataDir, 'router');
    expect(pids).toHaveLength(6); // three runs, each with its grandchild
    expect(await waitUntilGone(pids, 2_000)).toEqual([]);
  });

  it('kills a service that ignores SIGTERM once the stop deadline passes', async () => {
    const { cluster, events, dataDir } = await startFakeCluster(['agent'], { agent: { ignoreSigterm: true } }, { stopTimeoutMs: 400 });
    const stopping = Date.now();
    await cluster.stop();
    expect(Date.now() - stopping).toBeGreaterThanOrEqual(400);
    const stopped = events.find((event) => event.event === 'service.stopped');
    expect(stopped?.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await waitUntilGone(recordedPids(dataDir, 'agent'), 2_000)).toEqual([]);
  });

  it('fails with the last output of a service that never gets ready, leaving nothing running', async () => {
    const dataDir = join(root, 'never-ready');
    const start = startCluster({
      mode: 'ephemeral',
      dataDir,
      infra: testInfra(),
      services: ['api', 'placement'],
      serviceEntry: () => fakeEntry,
      env: { FAKE_BEHAVIOUR: JSON.stringify({ placement: { neverReady: true } }) },
      readyTimeoutMs: 800,
    });
    await expect(start).rejects.toThrow(/placement printed no "service.ready" line within 800 ms[\s\S]*booting run 1/);
    const pids = [...recordedPids(dataDir, 'api'), ...recordedPids(dataDir, 'placement')];
    expect(pids).toHaveLength(4);
    expect(await waitUntilGone(pids, 2_000)).toEqual([]);
  });

  it('names the taken port in persistent mode instead of starting', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const start = startCluster({
        mode: 'persistent',
        dataDir: join(root, 'port-taken'),
        infra: testInfra(),
        services: ['api'],
        grpcPortBase: port,
        serviceEntry: () => fakeEntry,
      });
      await expect(start).rejects.toBeInstanceOf(PortInUseError);
      await expect(start).rejects.toMatchObject({ port, component: 'api-grpc' });
    } finally {
      blocker.close();
    }
    expect(isAlive(process.pid)).toBe(true);
  });

  it('runs test clusters side by side, each with its own database and NATS prefix', async () => {
    const behaviour = JSON.stringify({});
    const [one, two] = await Promise.all(
      ['side-a', 'side-b'].map((name) =>
        startTestCluster({ dataDir: join(root, name), services: ['api'], serviceEntry: () => fakeEntry, env: { FAKE_BEHAVIOUR: behaviour } }),
      ),
    );
    if (!one || !two) throw new Error('two clusters expected');
    const admin = postgres(testInfra().databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const envs = [one, two].map((cluster) => serviceEnv(cluster.dataDir, 'api'));
      expect(envs.map((env) => env.DATABASE_URL)).toEqual([one.database.url, two.database.url]);
      expect(envs.map((env) => env.HEARTH_NATS_PREFIX)).toEqual([one.natsPrefix, two.natsPrefix]);
      expect(one.natsPrefix).not.toBe(two.natsPrefix);
      expect(one.httpEndpoint).not.toBe(two.httpEndpoint);
      const existing = async (): Promise<string[]> =>
        (await admin<{ datname: string }[]>`SELECT datname FROM pg_database WHERE datname IN (${one.database.name}, ${two.database.name})`).map(
          (row) => row.datname,
        );
      expect((await existing()).sort()).toEqual([one.database.name, two.database.name].sort());
      await Promise.all([one.stop(), two.stop()]);
      expect(await existing()).toEqual([]);
    } finally {
      await Promise.all([one.stop(), two.stop()]);
      await admin.end();
    }
  });
});
