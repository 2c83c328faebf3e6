import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Connection } from '@temporalio/client';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { resolveInfra } from '@hearth/cluster';
import { testInfra } from '@hearth/testing';

// The infrastructure itself was started once for the run by libs/testing/src/global-setup.ts,
// through resolveInfra: these tests prove each piece really answers.
describe('infrastructure resolved for the test run', () => {
  it('Postgres answers SQL and lets us create a database', async () => {
    const sql = postgres(testInfra().databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ answer: number; version: string }[]>`SELECT 41 + 1 AS answer, current_setting('server_version') AS version`;
      expect(row?.answer).toBe(42);
      const name = `cluster_probe_${randomBytes(4).toString('hex')}`;
      await sql.unsafe(`CREATE DATABASE ${name}`);
      await sql.unsafe(`DROP DATABASE ${name}`);
    } finally {
      await sql.end();
    }
  });

  it('NATS has JetStream: a stream can be created and published to', async () => {
    const nc = await connect({ servers: testInfra().natsUrl });
    try {
      const jsm = await jetstreamManager(nc);
      const stream = `PROBE_${randomBytes(4).toString('hex').toUpperCase()}`;
      await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
      const ack = await jetstream(nc).publish(`${stream}.hello`, 'world', { msgID: 'once' });
      const duplicate = await jetstream(nc).publish(`${stream}.hello`, 'world', { msgID: 'once' });
      expect(ack.seq).toBe(1);
      expect(duplicate.duplicate).toBe(true);
      expect((await jsm.streams.info(stream)).state.messages).toBe(1);
      await jsm.streams.delete(stream);
    } finally {
      await nc.close();
    }
  });

  it('Temporal answers on its frontend and has the default namespace', async () => {
    const connection = await Connection.connect({ address: testInfra().temporalAddress });
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toMatch(/\d+\.\d+/);
      const namespace = await connection.workflowService.describeNamespace({ namespace: 'default' });
      expect(namespace.namespaceInfo?.name).toBe('default');
    } finally {
      await connection.close();
    }
  });
});

describe('resolveInfra', () => {
  it('uses the URLs from the environment as they are, starting nothing', async () => {
    const env = { DATABASE_URL: 'postgres://u@db.example:5432/x', NATS_URL: 'nats://nats.example:4222', TEMPORAL_ADDRESS: 'temporal.example:7233' };
    const started = Date.now();
    const infra = await resolveInfra({ mode: 'ephemeral', env });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(infra).toMatchObject({
      databaseUrl: env.DATABASE_URL,
      natsUrl: env.NATS_URL,
      temporalAddress: env.TEMPORAL_ADDRESS,
      sources: { databaseUrl: 'env', natsUrl: 'env', temporalAddress: 'env' },
      dataDir: undefined,
    });
    await infra.stop();
  });

  it('names the install command when a binary is missing', async () => {
    const env = {
      DATABASE_URL: 'postgres://u@db.example:5432/x',
      NATS_URL: 'nats://nats.example:4222',
      HEARTH_INFRA: 'local',
      HEARTH_TOOLS_DIR: '/nonexistent',
      PATH: '/nonexistent',
      HOME: '/nonexistent',
    };
    await expect(resolveInfra({ mode: 'ephemeral', env })).rejects.toThrow(/temporal \(Temporal CLI\) not found.*node scripts\/ensure-infra\.mjs/s);
  });
});
