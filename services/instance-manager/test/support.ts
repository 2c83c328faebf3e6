import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectBus, type Bus } from '@hearth/bus';
import { createEventStore, type EventStore } from '@hearth/event-store';
import { createLogger } from '@hearth/telemetry';
import { createTestDatabase, testInfra, type TestDatabase } from '@hearth/testing';
import postgres from 'postgres';
import { createInstanceTable, type InstanceTable } from '../src/instance-table.js';
import type { InstanceSpec } from '../src/instance-events.js';
import type { FakeAgentReport } from './fake-agent.js';

/** A logger for tests: silent unless HEARTH_LOG_LEVEL asks for more. */
export const testLogger = createLogger('instance-manager-test');
testLogger.level = process.env.HEARTH_LOG_LEVEL ?? 'silent';

/** A fresh database with the event store and instance read model, and a bus with a fresh prefix. */
export interface Fixture {
  readonly database: TestDatabase;
  readonly sql: postgres.Sql;
  readonly table: InstanceTable;
  readonly store: EventStore;
  readonly bus: Bus;
  close(): Promise<void>;
}

/** Opens an isolated fixture; close() removes the database and closes the connections. */
export async function openFixture(tag: string): Promise<Fixture> {
  const database = await createTestDatabase(`hearth_im_${tag}`);
  const sql = postgres(database.url, { max: 6, onnotice: () => {} });
  const table = createInstanceTable();
  const store = await createEventStore({ sql, inlineProjections: [table.projection] });
  const bus = await connectBus({ url: testInfra().natsUrl, name: 'instance-manager-test', prefix: `tim${randomBytes(4).toString('hex')}`, logger: testLogger });
  return {
    database,
    sql,
    table,
    store,
    bus,
    async close() {
      await bus.close();
      await sql.end({ timeout: 5 });
      await database.drop();
    },
  };
}

/** A launch specification with defaults for the fields a test does not care about. */
export function spec(instanceId: string, overrides: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    instanceId,
    capacityProviderArn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:fleet',
    instanceType: 'm7g.large',
    zone: 'us-east-1a',
    architecture: 'arm64',
    vcpus: 2,
    memoryMib: 8192,
    ...overrides,
  };
}

/** The event types of an instance's stream, in order. */
export async function eventTypes(store: EventStore, instanceId: string): Promise<string[]> {
  return (await store.readStream(`instance:${instanceId}`)).map((event) => event.type);
}

/** What the fake agent of `instanceId` wrote about itself. */
export function agentReport(dataDir: string, instanceId: string): FakeAgentReport {
  return JSON.parse(readFileSync(join(dataDir, 'instances', instanceId, 'agent.json'), 'utf8')) as FakeAgentReport;
}

/** True while `pid` is a live process (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Live processes whose environment says they belong to instance `instanceId` (an agent and what it started). */
export function processesOfInstance(instanceId: string): number[] {
  const marker = `HEARTH_INSTANCE_ID=${instanceId}\0`;
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(marker) && isAlive(pid);
      } catch {
        return false;
      }
    });
}
