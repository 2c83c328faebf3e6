import type postgres from 'postgres';
import { lockClass } from './advisory-locks.js';
import { storeTables, type StoreTables } from './schema-names.js';

/** One schema change, applied once, in version order. */
interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: (tables: StoreTables) => string[];
}

// Append-only: never edit a released migration, add a new version instead.
const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'events, checkpoints',
    statements: (t) => [
      `CREATE TABLE IF NOT EXISTS ${t.events} (
         position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         event_id        uuid        NOT NULL UNIQUE,
         stream_id       text        NOT NULL,
         stream_version  integer     NOT NULL CHECK (stream_version > 0),
         type            text        NOT NULL,
         data            jsonb       NOT NULL,
         metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
         recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
         UNIQUE (stream_id, stream_version)
       )`,
      `CREATE TABLE IF NOT EXISTS ${t.checkpoints} (
         name        text        PRIMARY KEY,
         position    bigint      NOT NULL CHECK (position >= 0),
         updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
       )`,
      `CREATE TABLE IF NOT EXISTS ${t.projectionCheckpoints} (
         name        text        PRIMARY KEY,
         position    bigint      NOT NULL CHECK (position >= 0),
         updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
       )`,
    ],
  },
];

/** The highest migration version this build knows. */
export const latestSchemaVersion = migrations.reduce((max, m) => Math.max(max, m.version), 0);

/**
 * Brings the event store's schema up to date, inside one transaction holding
 * the migration advisory lock, so two processes starting at once apply each
 * migration exactly once (the second waits, then finds nothing to do).
 * `afterMigrate` runs in the same transaction and under the same lock — the
 * place for inline projections to create their tables without racing
 * (`CREATE TABLE IF NOT EXISTS` is not safe against a concurrent twin).
 * Returns the versions applied by this call.
 */
export async function migrate(
  sql: postgres.Sql,
  schema: string,
  afterMigrate?: (tx: postgres.TransactionSql) => Promise<void>,
): Promise<number[]> {
  const tables = storeTables(schema);
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${lockClass.migrate}, hashtext(${schema}))`;
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${tables.schema}`);
    await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${tables.migrations} (
      version     integer     PRIMARY KEY,
      name        text        NOT NULL,
      applied_at  timestamptz NOT NULL DEFAULT clock_timestamp()
    )`);
    const rows = await tx.unsafe<{ version: number }[]>(`SELECT version FROM ${tables.migrations}`);
    const done = new Set(rows.map((row) => row.version));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements(tables)) await tx.unsafe(statement);
      await tx.unsafe(`INSERT INTO ${tables.migrations} (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    if (afterMigrate) await afterMigrate(tx);
    return applied;
  });
}
