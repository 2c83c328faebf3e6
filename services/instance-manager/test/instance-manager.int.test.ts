import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { InvalidParameterValueException, ResourceConflictException, ResourceNotFoundException, ServiceException, ServiceUnavailableException } from '@hearth/errors';
import { callUnary, createClient } from '@hearth/grpc';
import { instanceManager as proto } from '@hearth/proto';
import { testInfra } from '@hearth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceManagerService } from '../src/grpc-service.js';
import { restartReason, shutdownReason, startInstanceManager, type InstanceManager } from '../src/instance-manager.js';
import { createLocalProvider } from '../src/local-provider.js';
import { writeFakeAgent } from './fake-agent.js';
import { agentReport, eventTypes, isAlive, openFixture, spec, testLogger, type Fixture } from './support.js';

// Eight fake heartbeats long: short enough for a quick test, long enough for a busy 2-core machine.
const heartbeatTimeoutMs = 2_000;
const launchTimeoutMs = 3_000;

let workDir: string;
let agentEntry: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'hearth-im-test-'));
  agentEntry = writeFakeAgent(workDir);
});
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

/** Starts an instance-manager on `fixture` whose instances are fake agents under `dataDir`. */
function startManager(fixture: Fixture, dataDir: string, overrides: { leaderWaitMs?: number } = {}): Promise<InstanceManager> {
  const provider = createLocalProvider({
    agentEntry,
    dataDir,
    natsUrl: testInfra().natsUrl,
    natsPrefix: fixture.bus.prefix,
    region: 'us-east-1',
    logLevel: 'silent',
    baseEnv: { ...process.env, DATABASE_URL: 'postgres://must-not-reach-agents' },
  });
  return startInstanceManager({
    store: fixture.store,
    table: fixture.table,
    provider,
    bus: fixture.bus,
    logger: testLogger,
    heartbeatTimeoutMs,
    checkIntervalMs: 100,
    launchTimeoutMs,
    agentStopTimeoutMs: 3_000,
    ...overrides,
  });
}

/** Every process a fake agent reported (itself and its EE stand-in). */
function processesOf(dataDir: string, instanceId: string): number[] {
  const report = agentReport(dataDir, instanceId);
  return [report.pid, report.childPid];
}

describe('instance-manager with the local provider', () => {
  let fixture: Fixture;
  let manager: InstanceManager;
  let dataDir: string;

  beforeAll(async () => {
    fixture = await openFixture('life');
    dataDir = join(workDir, 'life');
    manager = await startManager(fixture, dataDir);
  });
  afterAll(async () => {
    await manager?.close();
    await fixture?.close();
  });

  it('launches three instances in three zones, each Running with a reachable agent', async () => {
    const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
    const launched = await Promise.all(zones.map((zone, i) => manager.launch(spec(`i-zone${i}`, { zone }))));

    for (const [i, instance] of launched.entries()) {
      expect(instance).toMatchObject({ instanceId: `i-zone${i}`, zone: zones[i], status: 'Running', provider: 'local', instanceType: 'm7g.large' });
      expect(instance.agentAddress).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(instance.agentPid).toBe(agentReport(dataDir, instance.instanceId).pid);
      await new Promise<void>((resolve, reject) => {
        const [host, port] = instance.agentAddress.split(':');
        connect(Number(port), host).once('connect', resolve).once('error', reject);
      });
      expect(await eventTypes(fixture.store, instance.instanceId)).toEqual(['InstanceLaunchRequested', 'InstanceRunning']);
    }
    const [first] = await fixture.store.readStream('instance:i-zone0');
    expect(first?.data).toEqual({
      capacityProviderArn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:fleet',
      instanceType: 'm7g.large',
      zone: 'us-east-1a',
      architecture: 'arm64',
      vcpus: 2,
      memoryMib: 8192,
      provider: 'local',
    });

    // The agent got the contract's environment, and nothing of the event store.
    const { env } = agentReport(dataDir, 'i-zone1');
    expect(env).toMatchObject({
      HEARTH_INSTANCE_ID: 'i-zone1',
      HEARTH_INSTANCE_TYPE: 'm7g.large',
      HEARTH_ZONE: 'us-east-1b',
      HEARTH_CAPACITY_PROVIDER_ARN: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:fleet',
      HEARTH_INSTANCE_VCPUS: '2',
      HEARTH_INSTANCE_MEMORY_MIB: '8192',
      HEARTH_GRPC_PORT: '0',
      // Agents share the host: each takes a free metrics port, whatever port the instance-manager's own endpoint has.
      OTEL_EXPORTER_PROMETHEUS_PORT: '0',
      HEARTH_NATS_PREFIX: fixture.bus.prefix,
      HEARTH_DATA_DIR: dataDir,
      HEARTH_REGION: 'us-east-1',
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(readFileSync(join(dataDir, 'instances', 'i-zone1', 'agent.log'), 'utf8')).toContain('"event":"service.ready"');

    await expect.poll(() => manager.lastHeartbeat('i-zone2')?.heartbeat?.instanceId, { timeout: 3_000 }).toBe('i-zone2');
    const listed = await manager.list({ capacityProviderArn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:fleet' });
    const inZones = listed.filter((i) => i.instanceId.startsWith('i-zone')).map((i) => [i.zone, i.status]);
    // Listed in launch order; the three launches ran concurrently.
    expect(inZones.sort()).toEqual(zones.map((zone) => [zone, 'Running']));

    // Prometheus finds each agent's metrics endpoint (from its ready line) in the http_sd document.
    const targets = manager.scrapeTargets().filter((group) => group.labels.hearth_instance_id?.startsWith('i-zone'));
    expect(targets.sort((a, b) => a.labels.hearth_instance_id!.localeCompare(b.labels.hearth_instance_id!))).toEqual(
      launched.map((instance, i) => ({
        targets: [`127.0.0.1:${Number(instance.agentAddress.split(':')[1]) + 1}`],
        labels: { hearth_instance_id: `i-zone${i}`, hearth_zone: zones[i] },
      })),
    );
  });

  it('is idempotent by instance id: a concurrent launch joins, a repeated one returns the instance', async () => {
    const [a, b] = await Promise.all([manager.launch(spec('i-twice')), manager.launch(spec('i-twice'))]);
    expect(a).toEqual(b);
    expect(await manager.launch(spec('i-twice'))).toEqual(a);
    expect(await eventTypes(fixture.store, 'i-twice')).toEqual(['InstanceLaunchRequested', 'InstanceRunning']);
    expect(manager.stats().running).toBeGreaterThanOrEqual(4);

    const conflict = manager.launch(spec('i-twice', { zone: 'us-east-1c' }));
    await expect(conflict).rejects.toBeInstanceOf(ResourceConflictException);
    await expect(conflict).rejects.toThrow(/zone: us-east-1a → us-east-1c/);
  });

  it('terminates by draining and stopping the agent, leaving no process; again is a no-op', async () => {
    await manager.launch(spec('i-term'));
    const pids = processesOf(dataDir, 'i-term');
    expect(pids.every(isAlive)).toBe(true);
    expect(manager.scrapeTargets().map((group) => group.labels.hearth_instance_id)).toContain('i-term');

    const terminated = await manager.terminate('i-term', 'scale in');
    // A terminated instance's agent is no longer a scrape target.
    expect(manager.scrapeTargets().map((group) => group.labels.hearth_instance_id)).not.toContain('i-term');
    expect(terminated).toMatchObject({ status: 'Terminated', stateReason: 'scale in', agentPid: undefined });
    expect(pids.filter(isAlive)).toEqual([]);
    expect(await eventTypes(fixture.store, 'i-term')).toEqual(['InstanceLaunchRequested', 'InstanceRunning', 'InstanceDraining', 'InstanceTerminated']);
    // The agent was asked, not killed: it logged its SIGTERM handling.
    expect(readFileSync(join(dataDir, 'instances', 'i-term', 'agent.log'), 'utf8')).toContain('SIGTERM: stopping environments');

    expect(await manager.terminate('i-term', 'again')).toEqual(terminated);
    expect(await eventTypes(fixture.store, 'i-term')).toHaveLength(4);
    // A known instance is returned as it is, Terminated included.
    expect(await manager.launch(spec('i-term'))).toEqual(terminated);
    await expect(manager.terminate('i-nobody', 'x')).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('records an agent killed with SIGKILL as Unhealthy, then Terminated, within the heartbeat timeout', async () => {
    const { agentPid } = await manager.launch(spec('i-killed'));
    const [reportedPid, eePid] = processesOf(dataDir, 'i-killed') as [number, number];
    expect(agentPid).toBe(reportedPid);
    const killedAt = Date.now();
    process.kill(reportedPid, 'SIGKILL');

    await expect.poll(async () => (await manager.get('i-killed'))?.status, { timeout: heartbeatTimeoutMs, interval: 25 }).toBe('Terminated');
    expect(Date.now() - killedAt).toBeLessThan(heartbeatTimeoutMs);
    const events = await fixture.store.readStream('instance:i-killed');
    expect(events.map((e) => e.type)).toEqual(['InstanceLaunchRequested', 'InstanceRunning', 'InstanceUnhealthy', 'InstanceTerminated']);
    expect(events[2]?.data).toEqual({ reason: 'agent process was killed by SIGKILL unexpectedly' });
    expect(events[3]?.data).toEqual(events[2]?.data);
    // The EE it left behind in its process group is gone too.
    await expect.poll(() => isAlive(eePid), { timeout: 2_000 }).toBe(false);
  });

  it('records an agent that stops heartbeating as Unhealthy, then Terminated, and kills it', async () => {
    const running = await manager.launch(spec('i-mute'));
    const pids = processesOf(dataDir, 'i-mute');
    await expect.poll(async () => (await manager.get('i-mute'))?.status, { timeout: heartbeatTimeoutMs + 2_000, interval: 25 }).toBe('Terminated');

    const events = await fixture.store.readStream('instance:i-mute');
    expect(events.map((e) => e.type)).toEqual(['InstanceLaunchRequested', 'InstanceRunning', 'InstanceUnhealthy', 'InstanceTerminated']);
    expect((events[2]?.data as { reason: string }).reason).toMatch(new RegExp(`^no heartbeat for \\d+ ms \\(timeout ${heartbeatTimeoutMs} ms\\)$`));
    const silentFor = Date.parse(events[2]?.recordedAt ?? '') - Date.parse(running.updatedAt);
    expect(silentFor).toBeGreaterThanOrEqual(heartbeatTimeoutMs);
    expect(pids.filter(isAlive)).toEqual([]);
    // Heartbeating instances were not touched meanwhile.
    expect((await manager.get('i-zone0'))?.status).toBe('Running');
  });

  it('fails a launch whose agent never gets ready: InstanceTerminated with the reason, no process left', async () => {
    const startedAt = Date.now();
    const failure = manager.launch(spec('i-stuck'));
    await expect(failure).rejects.toBeInstanceOf(ServiceException);
    await expect(failure).rejects.toThrow(/Instance i-stuck failed to launch: the agent printed no "service.ready" line within 3000 ms[\s\S]*never getting ready/);
    expect(Date.now() - startedAt).toBeLessThan(launchTimeoutMs + 2_000);

    const events = await fixture.store.readStream('instance:i-stuck');
    expect(events.map((e) => e.type)).toEqual(['InstanceLaunchRequested', 'InstanceTerminated']);
    expect(events[1]?.data).toEqual({ reason: 'launch failed: the agent printed no "service.ready" line within 3000 ms' });
    expect(processesOf(dataDir, 'i-stuck').filter(isAlive)).toEqual([]);
    // A retried launch learns the outcome instead of starting another agent.
    expect(await manager.launch(spec('i-stuck'))).toMatchObject({
      status: 'Terminated',
      stateReason: 'launch failed: the agent printed no "service.ready" line within 3000 ms',
    });
  });

  it('fails a launch whose agent exits before it is ready, quoting its output', async () => {
    const failure = manager.launch(spec('i-crash'));
    await expect(failure).rejects.toThrow(/the agent exited with code 3 before it was ready[\s\S]*boom[\s\S]*full log: .*agent\.log/);
    expect(await eventTypes(fixture.store, 'i-crash')).toEqual(['InstanceLaunchRequested', 'InstanceTerminated']);
  });

  it('serves InstanceManagerService over gRPC with typed errors', async () => {
    const server = new Server();
    server.addService(proto.InstanceManagerServiceService, instanceManagerService(manager, testLogger));
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    const client = createClient(proto.InstanceManagerServiceClient, `127.0.0.1:${port}`);
    try {
      const request = { ...spec('i-grpc', { capacityProviderArn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:other' }) };
      const instance = await callUnary(client, client.launchInstance, request, { deadlineMs: 10_000 });
      expect(instance).toMatchObject({ instanceId: 'i-grpc', state: 'Running', vcpus: 2, memoryMib: 8192, architecture: 'arm64' });
      expect(instance.stateReason).toBeUndefined();
      expect(instance.agentPid).toBe(agentReport(dataDir, 'i-grpc').pid);
      expect(Number.isNaN(Date.parse(instance.launchedAt))).toBe(false);

      const listed = await callUnary(client, client.listInstances, { capacityProviderArn: request.capacityProviderArn, includeTerminated: false });
      expect(listed.instances.map((i) => i.instanceId)).toEqual(['i-grpc']);
      const all = await callUnary(client, client.listInstances, { includeTerminated: true });
      expect(all.instances.map((i) => i.state)).toContain('Terminated');
      const live = await callUnary(client, client.listInstances, { includeTerminated: false });
      expect(live.instances.map((i) => i.state)).not.toContain('Terminated');

      const terminated = await callUnary(client, client.terminateInstance, { instanceId: 'i-grpc', reason: '' });
      expect(terminated).toMatchObject({ state: 'Terminated', stateReason: 'terminated on request', agentPid: 0 });
      await expect(callUnary(client, client.terminateInstance, { instanceId: 'i-none', reason: '' })).rejects.toBeInstanceOf(ResourceNotFoundException);
      await expect(callUnary(client, client.launchInstance, { ...request, instanceId: 'bad.id' })).rejects.toBeInstanceOf(InvalidParameterValueException);
      await expect(callUnary(client, client.launchInstance, { ...request, instanceId: 'i-arch', architecture: 'sparc' })).rejects.toThrow(
        /Architecture "sparc" is not valid \(allowed: x86_64, arm64\)/,
      );
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});

describe('instance-manager restarts', () => {
  let fixture: Fixture;
  let dataDir: string;

  beforeAll(async () => {
    fixture = await openFixture('restart');
    dataDir = join(workDir, 'restart');
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('records the instances a previous process left behind as lost, and terminates its own at shutdown', async () => {
    // What a previous instance-manager that died left in the log.
    const launchData = { ...spec('x'), provider: 'local' } as Record<string, unknown>;
    delete launchData.instanceId;
    const leftBehind: Record<string, { type: string; data: unknown }[]> = {
      'i-was-running': [
        { type: 'InstanceLaunchRequested', data: launchData },
        { type: 'InstanceRunning', data: { agentAddress: '127.0.0.1:1' } },
      ],
      'i-was-pending': [{ type: 'InstanceLaunchRequested', data: launchData }],
      'i-was-draining': [
        { type: 'InstanceLaunchRequested', data: launchData },
        { type: 'InstanceRunning', data: { agentAddress: '127.0.0.1:2' } },
        { type: 'InstanceDraining', data: { reason: 'scale in' } },
      ],
      'i-was-done': [
        { type: 'InstanceLaunchRequested', data: launchData },
        { type: 'InstanceTerminated', data: { reason: 'launch failed: x' } },
      ],
    };
    for (const [instanceId, events] of Object.entries(leftBehind)) {
      await fixture.store.append(`instance:${instanceId}`, events, { expectedVersion: 'no-stream' });
    }

    const manager = await startManager(fixture, dataDir);
    try {
      const lost = { reason: restartReason };
      const stream = async (id: string) => (await fixture.store.readStream(`instance:${id}`)).slice(leftBehind[id]?.length).map((e) => [e.type, e.data]);
      expect(await stream('i-was-running')).toEqual([
        ['InstanceUnhealthy', lost],
        ['InstanceTerminated', lost],
      ]);
      expect(await stream('i-was-pending')).toEqual([
        ['InstanceUnhealthy', lost],
        ['InstanceTerminated', lost],
      ]);
      expect(await stream('i-was-draining')).toEqual([['InstanceTerminated', lost]]);
      expect(await stream('i-was-done')).toEqual([]);
      expect(await manager.list()).toEqual([]);

      // Only one instance-manager may write instance streams.
      await expect(startManager(fixture, dataDir, { leaderWaitMs: 300 })).rejects.toBeInstanceOf(ServiceUnavailableException);

      await manager.launch(spec('i-mine'));
    } finally {
      await manager.close();
    }
    expect(processesOf(dataDir, 'i-mine').filter(isAlive)).toEqual([]);
    expect(await eventTypes(fixture.store, 'i-mine')).toEqual(['InstanceLaunchRequested', 'InstanceRunning', 'InstanceDraining', 'InstanceTerminated']);
    expect((await fixture.table.get(fixture.sql, 'i-mine'))?.state.stateReason).toBe(shutdownReason);

    // The next process finds nothing to recover, and may start now that the lock is free.
    const next = await startManager(fixture, dataDir, { leaderWaitMs: 2_000 });
    await next.close();
    expect(await eventTypes(fixture.store, 'i-mine')).toHaveLength(4);
  });
});
