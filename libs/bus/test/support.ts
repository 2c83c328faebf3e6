import { randomBytes } from 'node:crypto';
import { connectBus, positionHeader, type Bus } from '@hearth/bus';
import { createEventStore, type EventStore, type InlineProjection } from '@hearth/event-store';
import { createLogger } from '@hearth/telemetry';
import { createTestDatabase, testInfra, type TestDatabase } from '@hearth/testing';
import postgres from 'postgres';

/** A logger for tests: silent unless HEARTH_LOG_LEVEL asks for more. */
export const testLogger = createLogger('bus-test');
testLogger.level = process.env.HEARTH_LOG_LEVEL ?? 'silent';

/** A NATS prefix no other test uses: `t<tag><random>`. */
export function uniquePrefix(tag: string): string {
  return `t${tag}${randomBytes(4).toString('hex')}`;
}

/** Connects a bus with `prefix` to the test NATS server. */
export async function openBus(prefix: string, name = 'bus-test'): Promise<Bus> {
  return connectBus({ url: testInfra().natsUrl, name, prefix, logger: testLogger });
}

/** A fresh database with an event store, and a bus with a fresh prefix. */
export interface Fixture {
  readonly sql: postgres.Sql;
  readonly database: TestDatabase;
  readonly store: EventStore;
  readonly bus: Bus;
  close(): Promise<void>;
}

/** Creates an isolated event store and bus; close() removes the stream, consumers and database. */
export async function openFixture(tag: string, inlineProjections: InlineProjection[] = []): Promise<Fixture> {
  const database = await createTestDatabase(`hearth_bus_${tag}`);
  const sql = postgres(database.url, { max: 12, onnotice: () => {} });
  const store = await createEventStore({ sql, inlineProjections });
  const bus = await openBus(uniquePrefix(tag));
  await bus.ensureEventStream();
  return {
    sql,
    database,
    store,
    bus,
    async close() {
      await bus.jsm.streams.delete(bus.eventStreamName).catch(() => {});
      await bus.close();
      await sql.end({ timeout: 5 });
      await database.drop();
    },
  };
}

/** Every message in the bus's event stream, in stream order: its position header and msg id. */
export async function publishedMessages(bus: Bus): Promise<{ position: number; msgId: string; seq: number }[]> {
  const info = await bus.jsm.streams.info(bus.eventStreamName);
  const messages: { position: number; msgId: string; seq: number }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
    const message = await bus.jsm.streams.getMessage(bus.eventStreamName, { seq });
    if (!message) continue;
    messages.push({ seq, position: positionHeader(message.header) ?? -1, msgId: message.header.get('Nats-Msg-Id') });
  }
  return messages;
}

/** Every position in the store's log, in order. */
export async function loggedPositions(store: EventStore): Promise<number[]> {
  const positions: number[] = [];
  for (let from = 1; ; ) {
    const batch = await store.readAll({ fromPosition: from, limit: 1_000 });
    positions.push(...batch.map((e) => e.position));
    if (batch.length < 1_000) return positions;
    from = (batch.at(-1)?.position ?? 0) + 1;
  }
}

/** Appends `count` single-event appends spread over `streams` streams, `concurrency` at a time. */
export async function appendMany(
  store: EventStore,
  { count, streams, category = 'instance', concurrency = 4 }: { count: number; streams: number; category?: string; concurrency?: number },
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        await store.append(`${category}:s${i % streams}`, [{ type: 'Heartbeat', data: { i } }], { expectedVersion: 'any' });
      }
    }),
  );
}
