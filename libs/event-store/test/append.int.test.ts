import { ServiceUnavailableException } from '@hearth/errors';
import { createEventStore, StreamVersionConflictError, type EventStore } from '@hearth/event-store';
import { runWithRequest } from '@hearth/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestPostgres, type TestPostgres } from './support.js';

let pg: TestPostgres;
let store: EventStore;

beforeAll(async () => {
  pg = await openTestPostgres(20);
  store = await createEventStore({ sql: pg.sql });
});
afterAll(async () => {
  await pg?.close();
});

const created = (name: string) => ({ type: 'CapacityProviderCreated', data: { name } });

describe('append', () => {
  it('creates a stream with no-stream and continues it with the returned version', async () => {
    const first = await store.append('capacityProvider:a', [created('a'), { type: 'Tagged', data: { k: 'v' } }], {
      expectedVersion: 'no-stream',
    });
    expect(first.nextExpectedVersion).toBe(2);
    expect(first.events.map((e) => e.streamVersion)).toEqual([1, 2]);
    expect(first.lastPosition).toBe(first.firstPosition + 1);

    const second = await store.append('capacityProvider:a', [{ type: 'Deleted', data: {} }], {
      expectedVersion: first.nextExpectedVersion,
    });
    expect(second.nextExpectedVersion).toBe(3);
    expect(second.firstPosition).toBeGreaterThan(first.lastPosition);

    const stream = await store.readStream('capacityProvider:a');
    expect(stream.map((e) => [e.streamVersion, e.type])).toEqual([
      [1, 'CapacityProviderCreated'],
      [2, 'Tagged'],
      [3, 'Deleted'],
    ]);
    expect(stream[0]?.data).toEqual({ name: 'a' });
    expect(stream[0]?.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(stream[0]?.recordedAt ?? ''))).toBe(false);
    expect(await store.streamVersion('capacityProvider:a')).toBe(3);
    expect((await store.readStream('capacityProvider:a', { fromVersion: 3 })).map((e) => e.type)).toEqual(['Deleted']);
  });

  it('raises a conflict naming stream, expected and actual version, and writes nothing', async () => {
    await store.append('function:conflict', [created('x')], { expectedVersion: 'no-stream' });
    const head = await store.headPosition();
    const attempt = store.append('function:conflict', [created('y')], { expectedVersion: 0 });
    await expect(attempt).rejects.toBeInstanceOf(StreamVersionConflictError);
    await expect(attempt).rejects.toThrow(/function:conflict is at version 1 .*expected version 0/);
    await expect(store.append('function:conflict', [created('y')], { expectedVersion: 'no-stream' })).rejects.toThrow(
      StreamVersionConflictError,
    );
    await expect(store.append('function:conflict', [created('y')], { expectedVersion: 5 })).rejects.toMatchObject({
      name: 'ResourceConflictException',
      expectedVersion: 5,
      actualVersion: 1,
    });
    expect(await store.headPosition()).toBe(head);
    expect(await store.streamVersion('function:conflict')).toBe(1);
  });

  it("appends regardless of version with 'any'", async () => {
    await store.append('function:any', [created('1')], { expectedVersion: 'any' });
    const result = await store.append('function:any', [created('2')], { expectedVersion: 'any' });
    expect(result.nextExpectedVersion).toBe(2);
  });

  it('rejects malformed stream ids, event types and batch sizes before touching the database', async () => {
    const head = await store.headPosition();
    await expect(store.append('no-category', [created('x')], { expectedVersion: 'any' })).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
    });
    await expect(store.append('function:x', [{ type: 'bad.type', data: {} }], { expectedVersion: 'any' })).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
    });
    await expect(store.append('function:x', [], { expectedVersion: 'any' })).rejects.toThrow(RangeError);
    await expect(store.append('function:x', [created('x')], { expectedVersion: -1 })).rejects.toThrow(RangeError);
    expect(await store.headPosition()).toBe(head);
  });

  it('records the request id and caller metadata', async () => {
    const result = await runWithRequest('req-123', () =>
      store.append('function:meta', [{ type: 'FunctionCreated', data: {}, metadata: { causationId: 'cmd-1' } }], {
        expectedVersion: 'no-stream',
      }),
    );
    expect(result.events[0]?.metadata).toMatchObject({ requestId: 'req-123', causationId: 'cmd-1' });
    const [read] = await store.readStream('function:meta');
    expect(read?.metadata).toMatchObject({ requestId: 'req-123', causationId: 'cmd-1' });
  });

  it('runs the precondition inside the transaction and writes nothing when it throws', async () => {
    const head = await store.headPosition();
    await expect(
      store.append('function:pre', [created('p')], { expectedVersion: 'no-stream' }, {
        precondition: async (tx, { streamVersion }) => {
          expect(streamVersion).toBe(0);
          const [row] = await tx`SELECT count(*)::int AS n FROM hearth.events WHERE stream_id = 'capacityProvider:a'`;
          if (row?.n === 3) throw new StreamVersionConflictError('capacityProvider:a', 2, 3);
        },
      }),
    ).rejects.toThrow(StreamVersionConflictError);
    expect(await store.headPosition()).toBe(head);
    expect(await store.streamVersion('function:pre')).toBe(0);
  });

  it('fails with a retryable ServiceUnavailableException when the append lock is not free in time', async () => {
    const impatient = await createEventStore({ sql: pg.sql, appendLockTimeoutMs: 100 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const slow = store.append('function:slow', [created('s')], { expectedVersion: 'any' }, {
      precondition: async () => {
        entered();
        await held;
      },
    });
    await inside;
    await expect(impatient.append('function:fast', [created('f')], { expectedVersion: 'any' })).rejects.toBeInstanceOf(
      ServiceUnavailableException,
    );
    release();
    await slow;
    await impatient.append('function:fast', [created('f')], { expectedVersion: 'any' });
  });
});

describe('concurrency', () => {
  it('lets exactly one of N concurrent appenders win each version of a stream', async () => {
    const writers = 8;
    const rounds = 10;
    let version = 0;
    for (let round = 0; round < rounds; round += 1) {
      const results = await Promise.allSettled(
        Array.from({ length: writers }, (_, writer) =>
          store.append('function:contended', [{ type: 'Written', data: { round, writer } }], { expectedVersion: version }),
        ),
      );
      const winners = results.filter((r) => r.status === 'fulfilled');
      const losers = results.filter((r) => r.status === 'rejected');
      expect(winners).toHaveLength(1);
      for (const loser of losers) expect((loser as PromiseRejectedResult).reason).toBeInstanceOf(StreamVersionConflictError);
      version += 1;
    }
    const stream = await store.readStream('function:contended');
    expect(stream.map((e) => e.streamVersion)).toEqual(Array.from({ length: rounds }, (_, i) => i + 1));
    expect(stream.map((e) => (e.data as { round: number }).round)).toEqual(Array.from({ length: rounds }, (_, i) => i));
  });

  it("serialises concurrent 'any' appenders to one stream into contiguous versions", async () => {
    const writers = 8;
    const perWriter = 10;
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        for (let i = 0; i < perWriter; i += 1) {
          await store.append('function:any-contended', [{ type: 'Written', data: { writer, i } }], { expectedVersion: 'any' });
        }
      }),
    );
    const stream = await store.readStream('function:any-contended');
    expect(stream.map((e) => e.streamVersion)).toEqual(Array.from({ length: writers * perWriter }, (_, i) => i + 1));
  });

  it('lets a reader tailing by position see every event of concurrent appends across streams', async () => {
    const before = await store.headPosition();
    const streams = 10;
    const perStream = 15;
    // A reader that only asks for positions after the last one it saw — what the
    // outbox relay does — skips nothing only if positions are visible in commit order.
    const seen: number[] = [];
    let done = false;
    const tail = (async () => {
      let after = before;
      for (;;) {
        const finished = done;
        const batch = await store.readAll({ fromPosition: after + 1, limit: 50 });
        seen.push(...batch.map((e) => e.position));
        after = batch.at(-1)?.position ?? after;
        if (finished && batch.length === 0) return;
      }
    })();
    await Promise.all(
      Array.from({ length: streams }, async (_, s) => {
        for (let i = 0; i < perStream; i += 1) {
          await store.append(`instance:i-${s}`, [{ type: 'Heartbeat', data: { i } }], { expectedVersion: i });
        }
      }),
    );
    done = true;
    await tail;
    const events = await store.readAll({ fromPosition: before + 1, limit: 1_000 });
    expect(events).toHaveLength(streams * perStream);
    expect(seen).toEqual(events.map((e) => e.position));
    for (let s = 0; s < streams; s += 1) {
      const versions = events.filter((e) => e.streamId === `instance:i-${s}`).map((e) => e.streamVersion);
      expect(versions).toEqual(Array.from({ length: perStream }, (_, i) => i + 1));
    }
  });
});

describe('reads', () => {
  it('reads the log in position order within a bounded limit', async () => {
    const all = await store.readAll({ limit: 3 });
    expect(all).toHaveLength(3);
    expect(all[0]?.position).toBeLessThan(all[1]?.position ?? 0);
    const next = await store.readAll({ fromPosition: (all[2]?.position ?? 0) + 1, limit: 1 });
    expect(next[0]?.position).toBeGreaterThan(all[2]?.position ?? 0);
    await expect(store.readAll({ limit: 10_001 })).rejects.toThrow(RangeError);
    await expect(store.readAll({ limit: 0 })).rejects.toThrow(RangeError);
    expect(await store.readAll({ fromPosition: (await store.headPosition()) + 1 })).toEqual([]);
  });

  it('reports an absent stream as version 0 and empty', async () => {
    expect(await store.streamVersion('function:absent')).toBe(0);
    expect(await store.readStream('function:absent')).toEqual([]);
  });
});

describe('notifications', () => {
  it('announces each append on <schema>_events with its last position', async () => {
    const received: string[] = [];
    const listener = await pg.sql.listen(store.notifyChannel, (payload) => received.push(payload));
    try {
      const result = await store.append('function:notified', [created('n')], { expectedVersion: 'no-stream' });
      await expect.poll(() => received, { timeout: 5_000 }).toContain(String(result.lastPosition));
      expect(store.notifyChannel).toBe('hearth_events');
    } finally {
      await listener.unlisten();
    }
  });
});

describe('migrations', () => {
  it('are applied once even when several stores start at once on a fresh schema', async () => {
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => createEventStore({ sql: pg.sql, schema: 'hearth_parallel' })),
    );
    const rows = await pg.sql`SELECT version FROM hearth_parallel.schema_migrations`;
    expect(rows.map((r) => r.version)).toEqual([1]);
    const result = await stores[0]!.append('function:p', [created('p')], { expectedVersion: 'no-stream' });
    expect(await stores[3]!.streamVersion('function:p')).toBe(result.nextExpectedVersion);
    expect(stores[0]!.notifyChannel).toBe('hearth_parallel_events');
  });
});
