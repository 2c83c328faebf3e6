import { startOutboxRelay, type OutboxRelay } from '@hearth/bus';
import { lockClass, type InlineProjection } from '@hearth/event-store';
import { startTelemetry, withSpan } from '@hearth/telemetry';
import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { appendMany, loggedPositions, openFixture, publishedMessages, testLogger, type Fixture } from './support.js';

const fast = { pollIntervalMs: 200, leaderRetryIntervalMs: 200, errorBackoffMs: 100 };

let fixture: Fixture | undefined;
const relays: OutboxRelay[] = [];

afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.stop()));
  await fixture?.close();
  fixture = undefined;
});

async function relay(f: Fixture, options: Partial<Parameters<typeof startOutboxRelay>[0]> = {}): Promise<OutboxRelay> {
  const started = await startOutboxRelay({ store: f.store, bus: f.bus, logger: testLogger, ...fast, ...options });
  relays.push(started);
  return started;
}

/** Waits until the stream holds every logged position, then checks: each exactly once, in position order. */
async function expectExactlyOnceInOrder(f: Fixture): Promise<void> {
  const logged = await loggedPositions(f.store);
  await expect.poll(async () => (await publishedMessages(f.bus)).length, { timeout: 20_000, interval: 100 }).toBe(logged.length);
  const messages = await publishedMessages(f.bus);
  expect(messages.map((m) => m.position)).toEqual(logged);
  expect(new Set(messages.map((m) => m.msgId)).size).toBe(logged.length);
}

describe('outbox relay', () => {
  it('publishes concurrent appends across streams exactly once, in position order', async () => {
    fixture = await openFixture('order');
    const r = await relay(fixture);
    await appendMany(fixture.store, { count: 400, streams: 12, concurrency: 8 });
    await expectExactlyOnceInOrder(fixture);
    const stats = r.stats();
    expect(stats.leader).toBe(true);
    expect(stats.published).toBe(400);
    expect(stats.duplicates).toBe(0);
    expect(stats.publishedPosition).toBe(await fixture.store.headPosition());
    expect(stats.lastPublishLatencyMs).toBeGreaterThanOrEqual(0);
  });

  it('loses and duplicates nothing when stopped mid-stream and restarted', async () => {
    fixture = await openFixture('restart');
    const first = await relay(fixture, { batchSize: 16 });
    const appending = appendMany(fixture.store, { count: 500, streams: 5, concurrency: 4 });
    await expect.poll(() => first.stats().published, { timeout: 10_000, interval: 10 }).toBeGreaterThan(50);
    await first.stop();
    await first.stop();
    expect(first.isLeader()).toBe(false);
    const publishedByFirst = first.stats().published;
    await appending;
    expect(publishedByFirst).toBeLessThan(500);

    const second = await relay(fixture, { batchSize: 16 });
    await expectExactlyOnceInOrder(fixture);
    expect(second.stats().published + publishedByFirst).toBe(500);
    expect(second.stats().duplicates).toBe(0);
  });

  it('resumes after the last message in the stream when the Postgres checkpoint is behind', async () => {
    fixture = await openFixture('recover');
    const first = await relay(fixture);
    await appendMany(fixture.store, { count: 50, streams: 3 });
    await expectExactlyOnceInOrder(fixture);
    await first.stop();
    await fixture.store.checkpoint('outbox-relay').save(0);

    const second = await relay(fixture);
    await fixture.store.append('function:after', [{ type: 'FunctionCreated', data: {} }], { expectedVersion: 'no-stream' });
    await expectExactlyOnceInOrder(fixture);
    expect(second.stats().published).toBe(1);
    expect(second.stats().duplicates).toBe(0);
    await expect.poll(() => fixture!.store.checkpoint('outbox-relay').load()).toBe(await fixture.store.headPosition());
  });

  it('runs one leader among two relays, still exactly once, and hands over when the leader stops', async () => {
    fixture = await openFixture('leader');
    const a = await relay(fixture);
    const b = await relay(fixture);
    await expect.poll(() => [a.isLeader(), b.isLeader()].filter(Boolean).length, { timeout: 5_000 }).toBe(1);
    await appendMany(fixture.store, { count: 120, streams: 4 });
    await expectExactlyOnceInOrder(fixture);
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);

    const [leader, follower] = a.isLeader() ? [a, b] : [b, a];
    expect(follower.stats().published).toBe(0);
    const appending = appendMany(fixture.store, { count: 120, streams: 4 });
    await leader.stop();
    await expect.poll(() => follower.isLeader(), { timeout: 5_000 }).toBe(true);
    await appending;
    await expectExactlyOnceInOrder(fixture);
    expect(leader.stats().published + follower.stats().published).toBe(240);
    expect(follower.stats().duplicates).toBe(0);
  });

  it('moves leadership when the leader loses its Postgres session, without losing events', async () => {
    fixture = await openFixture('killed');
    const a = await relay(fixture);
    await expect.poll(() => a.isLeader(), { timeout: 5_000 }).toBe(true);
    const b = await relay(fixture);
    await appendMany(fixture.store, { count: 60, streams: 3 });
    await expectExactlyOnceInOrder(fixture);

    const appending = appendMany(fixture.store, { count: 200, streams: 3, concurrency: 2 });
    const killed = await fixture.sql`
      SELECT pg_terminate_backend(pid) FROM pg_locks
       WHERE locktype = 'advisory' AND classid = ${lockClass.leader}::oid AND objsubid = 2 AND granted
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
    expect(killed).toHaveLength(1);
    await expect.poll(() => b.isLeader(), { timeout: 5_000 }).toBe(true);
    await expect.poll(() => a.isLeader(), { timeout: 5_000 }).toBe(false);
    await appending;
    await expectExactlyOnceInOrder(fixture);
  });

  it('never publishes an uncommitted event, and does not skip one that commits late', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const slowCommit: InlineProjection = {
      name: 'slow_commit',
      handles: ['Slow', 'Poison'],
      init: async () => {},
      reset: async () => {},
      async apply(_tx, event) {
        if (event.type === 'Poison') throw new Error('rolled back');
        entered();
        await gate;
      },
    };
    fixture = await openFixture('late', [slowCommit]);
    await relay(fixture);
    await fixture.store.append('function:a', [{ type: 'FunctionCreated', data: {} }], { expectedVersion: 'no-stream' });
    await expectExactlyOnceInOrder(fixture);

    // Inserted (a position is taken) but not committed while the projection waits.
    const slow = fixture.store.append('function:b', [{ type: 'Slow', data: {} }], { expectedVersion: 'no-stream' });
    await inside;
    const queued = fixture.store.append('function:c', [{ type: 'FunctionCreated', data: {} }], { expectedVersion: 'no-stream' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await publishedMessages(fixture.bus)).toHaveLength(1);

    release();
    const [slowResult, queuedResult] = await Promise.all([slow, queued]);
    expect(queuedResult.firstPosition).toBeGreaterThan(slowResult.lastPosition);
    await expect(
      fixture.store.append('function:d', [{ type: 'Poison', data: {} }], { expectedVersion: 'no-stream' }),
    ).rejects.toThrow('rolled back');
    await fixture.store.append('function:e', [{ type: 'FunctionCreated', data: {} }], { expectedVersion: 'no-stream' });
    await expectExactlyOnceInOrder(fixture);
    expect((await publishedMessages(fixture.bus)).length).toBe(4);
  });

  it("hands the appender's trace context to NATS headers", async () => {
    const telemetry = startTelemetry({ serviceName: 'bus-test', spanProcessors: [] });
    try {
      fixture = await openFixture('trace');
      await relay(fixture);
      let traceId = '';
      await withSpan('CreateFunction', {}, async () => {
        traceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
        await fixture!.store.append('function:traced', [{ type: 'FunctionCreated', data: {} }], { expectedVersion: 'no-stream' });
      });
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(traceId).not.toBe('0'.repeat(32));
      await expectExactlyOnceInOrder(fixture);
      const info = await fixture.bus.jsm.streams.info(fixture.bus.eventStreamName);
      const message = await fixture.bus.jsm.streams.getMessage(fixture.bus.eventStreamName, { seq: info.state.last_seq });
      expect(message?.header.get('traceparent')).toContain(traceId);
      expect(message?.header.get('Hearth-Stream-Id')).toBe('function:traced');
      expect(message?.header.get('Hearth-Event-Type')).toBe('FunctionCreated');
      expect(message?.subject).toBe(`${fixture.bus.prefix}.events.function.FunctionCreated`);
    } finally {
      await telemetry.shutdown();
    }
  });
});
