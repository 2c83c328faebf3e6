/**
 * The invoke path's use of real infrastructure: the asynchronous queue on
 * JetStream (bounds, deduplication, the bus's message limit) and the function
 * state cache fed by the outbox relay's events from a real Postgres event store.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, startOutboxRelay, type Bus, type OutboxRelay } from '@hearth/bus';
import { asyncInvocationStreamName, findVersion, functionStreamId, type AsyncInvocation, type ExistingFunction } from '@hearth/domain';
import { RequestTooLargeException, TooManyRequestsException } from '@hearth/errors';
import { createEventStore, type EventStore } from '@hearth/event-store';
import { createTestDatabase, testInfra, type TestDatabase } from '@hearth/testing';
import { createAsyncQueue, type AsyncQueue } from '../src/invoke/async-queue.js';
import { startFunctionEventsFeed, type FunctionEventsFeed } from '../src/invoke/function-events-feed.js';
import { createFunctionStates } from '../src/invoke/function-states.js';
import { commands, history, testLogger } from './invoke-support.js';

let bus: Bus;

beforeAll(async () => {
  bus = await connectBus({ url: testInfra().natsUrl, name: 'api-invoke-test', prefix: `tq${randomBytes(4).toString('hex')}`, logger: testLogger });
});

afterAll(async () => {
  // Only this file's streams: the NATS server is shared with other test files.
  for (const name of [asyncInvocationStreamName(bus.prefix), bus.eventStreamName]) await bus.jsm.streams.delete(name).catch(() => {});
  await bus.close();
});

const invocation = (requestId = randomUUID()): AsyncInvocation => ({
  requestId,
  functionName: 'fn1',
  version: '1',
  functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn1:1',
  timeoutSeconds: 3,
  enqueuedAtMs: Date.now(),
  retries: 0,
  invocations: 0,
  throttles: 0,
  generation: 0,
});

describe('the asynchronous invocation queue', () => {
  let queue: AsyncQueue;
  beforeAll(async () => {
    queue = await createAsyncQueue({ bus, logger: testLogger, maxMessages: 2 });
  });

  it('stores events durably in a work-queue stream, once per request id', async () => {
    const first = invocation();
    expect(await queue.enqueue(first, Buffer.from('{"a":1}'))).toEqual({ duplicate: false });
    expect(await queue.enqueue(first, Buffer.from('{"a":1}'))).toEqual({ duplicate: true });
    const info = await bus.jsm.streams.info(queue.streamName);
    expect(info.config).toMatchObject({ retention: 'workqueue', discard: 'new', max_msgs: 2 });
    expect(info.state.messages).toBe(1);
    const stored = await bus.jsm.streams.getMessage(queue.streamName, { seq: info.state.first_seq });
    expect(stored?.header.get('Hearth-Request-Id')).toBe(first.requestId);
    expect(stored?.header.get('Nats-Msg-Id')).toBe(first.requestId);
  });

  it('refuses events with 429 AsyncQueueFull once it is full, instead of growing', async () => {
    await queue.enqueue(invocation(), Buffer.from('{}'));
    const error = await queue.enqueue(invocation(), Buffer.from('{}')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TooManyRequestsException);
    expect(error).toMatchObject({ reason: 'AsyncQueueFull', retryAfterSeconds: 1 });
    expect(queue.stats().dropped.queueFull).toBe(1);
    expect((await bus.jsm.streams.info(queue.streamName)).state.messages).toBe(2);
  });

  it("refuses an event the NATS server's message limit cannot carry with its headers", async () => {
    const limit = bus.nc.info!.max_payload;
    const error = await queue.enqueue(invocation(), Buffer.alloc(limit)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RequestTooLargeException);
    expect((error as Error).message).toMatch(/max_payload/);
  });
});

describe('function states fed by the event stream', () => {
  let database: TestDatabase;
  let sql: postgres.Sql;
  let store: EventStore;
  let relay: OutboxRelay;
  let feed: FunctionEventsFeed;

  beforeAll(async () => {
    database = await createTestDatabase('hearth_api_invoke');
    sql = postgres(database.url, { max: 4, onnotice: () => {} });
    store = await createEventStore({ sql });
    await bus.ensureEventStream();
    relay = await startOutboxRelay({ store, bus, logger: testLogger });
  });

  afterAll(async () => {
    await feed?.stop();
    await relay?.stop();
    await sql?.end({ timeout: 5 });
    await database?.drop();
  });

  it("folds other writers' appends into a cached function without reading the store again", async () => {
    const { events } = history([commands.create(), commands.publish(), commands.activate('1')]);
    let reads = 0;
    const states = createFunctionStates({
      async load(name) {
        reads += 1;
        const stream = await store.readStream(functionStreamId(name));
        return { state: history([commands.create(), commands.publish()]).state, streamVersion: stream.length };
      },
    });
    feed = await startFunctionEventsFeed({ bus, states, logger: testLogger });
    await store.append(functionStreamId('fn1'), events.slice(0, 2), { expectedVersion: 'no-stream' });
    expect((await states.get('fn1')).streamVersion).toBe(2);
    // Another writer activates the version; the feed brings it in.
    await store.append(functionStreamId('fn1'), events.slice(2), { expectedVersion: 2 });
    await expect.poll(() => feed.observed, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const current = await states.get('fn1');
    expect(current.streamVersion).toBe(3);
    expect(findVersion(current.state as ExistingFunction, '1')?.State).toBe('Active');
    expect(reads).toBe(1);
  });
});
