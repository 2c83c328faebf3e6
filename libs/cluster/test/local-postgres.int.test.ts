import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalPostgres } from '@hearth/cluster';
import { isAlive } from './process-helpers.js';

describe('local Postgres in persistent mode', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-pg-test-'));
  chmodSync(dataDir, 0o755); // as root, Postgres runs as the postgres user, who must enter it
  const pgData = join(dataDir, 'postgres', 'data');
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps its data across restarts, even past a stale postmaster.pid', async () => {
    const first = await startLocalPostgres({ mode: 'persistent', pgData, database: 'hearth' });
    try {
      await withSql(first.address, (sql) => sql`CREATE TABLE kept (value text); INSERT INTO kept VALUES ('survives')`.simple());
    } finally {
      await first.stop();
    }
    expect(isAlive(first.pid)).toBe(false);

    // What a crash leaves after a reboot: a pid file naming a live process that is not Postgres.
    writeFileSync(join(pgData, 'postmaster.pid'), `${process.pid}\n${pgData}\n`);

    const second = await startLocalPostgres({ mode: 'persistent', pgData, database: 'hearth' });
    try {
      expect(second.address).toMatch(/\/hearth$/);
      const rows = await withSql(second.address, (sql) => sql<{ value: string }[]>`SELECT value FROM kept`);
      expect(rows.map((row) => row.value)).toEqual(['survives']);
    } finally {
      await second.stop();
    }
    expect(isAlive(second.pid)).toBe(false);
    expect(isAlive(process.pid)).toBe(true);
  });
});

async function withSql<T>(url: string, use: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await use(sql);
  } finally {
    await sql.end();
  }
}
