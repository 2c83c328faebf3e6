import { createEventStore, lockClass, type EventStore } from '@hearth/event-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestPostgres, type TestPostgres } from './support.js';

let pg: TestPostgres;
let store: EventStore;

beforeAll(async () => {
  pg = await openTestPostgres();
  store = await createEventStore({ sql: pg.sql });
});
afterAll(async () => {
  await pg?.close();
});

describe('leader sessions', () => {
  it('let one session lead a role at a time and hand over when it closes', async () => {
    const a = await store.openLeaderSession('outbox-relay');
    const b = await store.openLeaderSession('outbox-relay');
    const other = await store.openLeaderSession('other-role');
    try {
      expect(await a.tryAcquire()).toBe(true);
      expect(await a.tryAcquire()).toBe(true);
      expect(await b.tryAcquire()).toBe(false);
      expect(await other.tryAcquire()).toBe(true);
      expect(await a.isHeld()).toBe(true);
      expect(await b.isHeld()).toBe(false);

      expect(await a.checkpoint('relay').save(7)).toBe(true);
      expect(await b.checkpoint('relay').save(3)).toBe(false);
      expect(await store.checkpoint('relay').load()).toBe(7);

      await a.close();
      await a.close();
      expect(await b.tryAcquire()).toBe(true);
      expect(await b.checkpoint('relay').save(9)).toBe(true);
      expect(await store.checkpoint('relay').load()).toBe(9);
    } finally {
      await a.close();
      await b.close();
      await other.close();
    }
  });

  it('fence off a leader whose connection was lost', async () => {
    const a = await store.openLeaderSession('fenced');
    const b = await store.openLeaderSession('fenced');
    try {
      expect(await a.tryAcquire()).toBe(true);
      await pg.sql`SELECT pg_terminate_backend(pid) FROM pg_locks
                    WHERE locktype = 'advisory' AND classid = ${lockClass.leader}::oid AND objsubid = 2 AND granted
                      AND objid = (hashtext('hearth:fenced'))::int4::oid`;
      expect(await b.tryAcquire()).toBe(true);
      expect(await a.isHeld().catch(() => false)).toBe(false);
      expect(await a.checkpoint('fenced').save(1)).toBe(false);
      expect(await a.tryAcquire()).toBe(false);
      expect(await store.checkpoint('fenced').load()).toBe(0);
    } finally {
      await a.close().catch(() => {});
      await b.close();
    }
  });

  it('keep plain checkpoints at 0 until saved, then exactly what was saved', async () => {
    const checkpoint = store.checkpoint('projection-x');
    expect(await checkpoint.load()).toBe(0);
    await checkpoint.save(42);
    await checkpoint.save(5);
    expect(await checkpoint.load()).toBe(5);
    await expect(checkpoint.save(-1)).rejects.toThrow(RangeError);
  });
});
