import { CapacityProviderLimitExceededException } from '@hearth/errors';
import { createEventStore, type EventStore, type InlineProjection } from '@hearth/event-store';
import type postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestPostgres, type TestPostgres } from './support.js';

/** A read model of capacity providers: one row per live provider, with its stream version. */
function capacityProviders(table = 'read_capacity_providers'): InlineProjection {
  return {
    name: table,
    handles: ['CapacityProviderCreated', 'CapacityProviderUpdated', 'CapacityProviderDeleted'],
    async init(tx) {
      await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${table} (
        name text PRIMARY KEY, state text NOT NULL, version int NOT NULL, position bigint NOT NULL)`);
    },
    async apply(tx, event) {
      const name = event.streamId.slice(event.streamId.indexOf(':') + 1);
      if (event.type === 'CapacityProviderDeleted') {
        await tx.unsafe(`DELETE FROM ${table} WHERE name = $1`, [name]);
        return;
      }
      const state = (event.data as { state: string }).state;
      await tx.unsafe(
        `INSERT INTO ${table} (name, state, version, position) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET state = excluded.state, version = excluded.version, position = excluded.position`,
        [name, state, event.streamVersion, event.position],
      );
    },
    async reset(tx) {
      await tx.unsafe(`TRUNCATE ${table}`);
    },
  };
}

async function rows(sql: postgres.Sql, table = 'read_capacity_providers') {
  return sql.unsafe(`SELECT name, state, version, position::int AS position FROM ${table} ORDER BY name`);
}

/** The same read model folded in memory from the log, to compare against. */
async function foldFromLog(store: EventStore) {
  const state = new Map<string, { name: string; state: string; version: number; position: number }>();
  for (let from = 1; ; ) {
    const batch = await store.readAll({ fromPosition: from, limit: 100 });
    for (const event of batch) {
      if (!event.streamId.startsWith('capacityProvider:') || !event.type.startsWith('CapacityProvider')) continue;
      const name = event.streamId.slice('capacityProvider:'.length);
      if (event.type === 'CapacityProviderDeleted') state.delete(name);
      else state.set(name, { name, state: (event.data as { state: string }).state, version: event.streamVersion, position: event.position });
    }
    if (batch.length < 100) break;
    from = (batch.at(-1)?.position ?? 0) + 1;
  }
  return [...state.values()].sort((a, b) => a.name.localeCompare(b.name));
}

let pg: TestPostgres;
let store: EventStore;

beforeAll(async () => {
  pg = await openTestPostgres(20);
  store = await createEventStore({ sql: pg.sql, inlineProjections: [capacityProviders()] });
});
afterAll(async () => {
  await pg?.close();
});

describe('inline projections', () => {
  it('are visible as soon as the append returns and match the log', async () => {
    await store.append('capacityProvider:alpha', [{ type: 'CapacityProviderCreated', data: { state: 'Pending' } }], {
      expectedVersion: 'no-stream',
    });
    expect(await rows(pg.sql)).toMatchObject([{ name: 'alpha', state: 'Pending', version: 1 }]);
    for (let i = 0; i < 20; i += 1) {
      const name = `cp${i % 7}`;
      const version = await store.streamVersion(`capacityProvider:${name}`);
      const type = version === 0 ? 'CapacityProviderCreated' : i % 5 === 0 ? 'CapacityProviderDeleted' : 'CapacityProviderUpdated';
      const events = [{ type, data: { state: `s${i}` } }, { type: 'Unrelated', data: {} }];
      await store.append(`capacityProvider:${name}`, events, { expectedVersion: version });
    }
    await store.append('function:other', [{ type: 'FunctionCreated', data: {} }], { expectedVersion: 'any' });
    expect(await rows(pg.sql)).toEqual(await foldFromLog(store));
    const [checkpoint] = await pg.sql`SELECT position::int AS position FROM hearth.projection_checkpoints WHERE name = 'read_capacity_providers'`;
    expect(checkpoint?.position).toBe(await store.headPosition());
  });

  it('rebuild from zero gives the same rows', async () => {
    const before = await rows(pg.sql);
    await pg.sql`UPDATE read_capacity_providers SET state = 'corrupted'`;
    const applied = await store.rebuild('read_capacity_providers');
    expect(applied).toBeGreaterThan(0);
    expect(await rows(pg.sql)).toEqual(before);
    await expect(store.rebuild('nope')).rejects.toThrow(/No inline projection named nope/);
  });

  it('stays consistent when appends race a rebuild', async () => {
    const appends = Array.from({ length: 10 }, (_, i) =>
      store.append(`capacityProvider:race${i}`, [{ type: 'CapacityProviderCreated', data: { state: 'Active' } }], {
        expectedVersion: 'no-stream',
      }),
    );
    await Promise.all([...appends, store.rebuild('read_capacity_providers')]);
    expect(await rows(pg.sql)).toEqual(await foldFromLog(store));
  });

  it('aborts the append when the projection throws, writing nothing', async () => {
    const failing: InlineProjection = {
      name: 'failing',
      handles: ['Poison'],
      init: async () => {},
      apply: async () => {
        throw new Error('projection refused');
      },
      reset: async () => {},
    };
    const strict = await createEventStore({ sql: pg.sql, schema: 'hearth_strict', inlineProjections: [failing] });
    await expect(strict.append('function:p', [{ type: 'Poison', data: {} }], { expectedVersion: 'any' })).rejects.toThrow(
      'projection refused',
    );
    expect(await strict.headPosition()).toBe(0);
    await strict.append('function:p', [{ type: 'Fine', data: {} }], { expectedVersion: 'no-stream' });
    expect(await strict.streamVersion('function:p')).toBe(1);
  });

  it('builds a projection added later from the existing log on start', async () => {
    const later = await createEventStore({
      sql: pg.sql,
      inlineProjections: [capacityProviders(), capacityProviders('read_capacity_providers_v2')],
    });
    expect(await rows(pg.sql, 'read_capacity_providers_v2')).toEqual(await foldFromLog(later));
  });

  it('lets a precondition enforce a cross-stream limit atomically', async () => {
    const limit = 3;
    const limited = await createEventStore({
      sql: pg.sql,
      schema: 'hearth_limited',
      inlineProjections: [capacityProviders('limited_capacity_providers')],
    });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        limited.append(`capacityProvider:l${i}`, [{ type: 'CapacityProviderCreated', data: { state: 'Pending' } }], {
          expectedVersion: 'no-stream',
        }, {
          precondition: async (tx) => {
            const [row] = await tx`SELECT count(*)::int AS n FROM limited_capacity_providers`;
            if ((row?.n ?? 0) >= limit) {
              throw new CapacityProviderLimitExceededException(`At most ${limit} capacity providers are allowed`);
            }
          },
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(limit);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(CapacityProviderLimitExceededException);
    }
    expect(await rows(pg.sql, 'limited_capacity_providers')).toHaveLength(limit);
  });

  it('applies events appended by a store without the projection before its own next append', async () => {
    // Two services share one log; only the first keeps this read model.
    const table = 'read_capacity_providers_multi';
    const keeper = await createEventStore({ sql: pg.sql, inlineProjections: [capacityProviders(table)] });
    const other = await createEventStore({ sql: pg.sql });
    await other.append('capacityProvider:written-elsewhere', [{ type: 'CapacityProviderCreated', data: { state: 'Pending' } }], { expectedVersion: 'no-stream' });
    await keeper.append('capacityProvider:written-here', [{ type: 'CapacityProviderCreated', data: { state: 'Active' } }], { expectedVersion: 'no-stream' });
    const names = (await rows(pg.sql, table)).map((row) => row.name);
    expect(names).toContain('written-elsewhere');
    expect(names).toContain('written-here');
  });
});

