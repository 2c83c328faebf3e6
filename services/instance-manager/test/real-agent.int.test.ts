import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callUnary, createClient } from '@hearth/grpc';
import { agent as agentProto } from '@hearth/proto';
import { testInfra } from '@hearth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInstanceManager, type InstanceManager } from '../src/instance-manager.js';
import { createLocalProvider } from '../src/local-provider.js';
import { eventTypes, isAlive, openFixture, processesOfInstance, spec, testLogger, type Fixture } from './support.js';

/** The agent as `npm test` builds it (services run from their dist, as in e2e tests). */
const agentEntry = fileURLToPath(new URL('../../agent/dist/main.js', import.meta.url));

describe('instance-manager with the real agent', () => {
  let fixture: Fixture;
  let manager: InstanceManager;
  let dataDir: string;

  beforeAll(async () => {
    if (!existsSync(agentEntry)) throw new Error(`${agentEntry} is missing: build the agent first (npx tsc -b services/agent)`);
    dataDir = mkdtempSync(join(tmpdir(), 'hearth-im-real-'));
    fixture = await openFixture('real');
    manager = await startInstanceManager({
      store: fixture.store,
      table: fixture.table,
      provider: createLocalProvider({ agentEntry, dataDir, natsUrl: testInfra().natsUrl, natsPrefix: fixture.bus.prefix, region: 'us-east-1', logLevel: 'info' }),
      bus: fixture.bus,
      logger: testLogger,
      launchTimeoutMs: 20_000,
    });
  });
  afterAll(async () => {
    await manager?.close();
    await fixture?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('launches an agent that answers gRPC and heartbeats, and terminates it cleanly', async () => {
    const instance = await manager.launch(spec('i-real', { zone: 'us-east-1b' }));
    expect(instance).toMatchObject({ status: 'Running', zone: 'us-east-1b' });

    const client = createClient(agentProto.AgentServiceClient, instance.agentAddress);
    try {
      const listed = await callUnary(client, client.listEnvironments, {}, { deadlineMs: 5_000 });
      expect(listed).toEqual({ instanceId: 'i-real', environments: [] });
    } finally {
      client.close();
    }
    await expect.poll(() => manager.lastHeartbeat('i-real')?.heartbeat, { timeout: 5_000 }).toMatchObject({ instanceId: 'i-real', environments: [] });

    const log = join(dataDir, 'instances', 'i-real', 'agent.log');
    const pids = processesOfInstance('i-real');
    expect(pids).toContain(instance.agentPid);
    const terminated = await manager.terminate('i-real', 'test over');
    expect(terminated.status).toBe('Terminated');
    expect(pids.filter(isAlive)).toEqual([]);
    expect(await eventTypes(fixture.store, 'i-real')).toEqual(['InstanceLaunchRequested', 'InstanceRunning', 'InstanceDraining', 'InstanceTerminated']);
    // The agent stopped on its own (exit 0 after its shutdown), not by the SIGKILL fallback.
    expect(readFileSync(log, 'utf8')).toContain('"event":"service.stopped"');
  });
});
