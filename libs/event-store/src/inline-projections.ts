import type postgres from 'postgres';
import { lockClass } from './advisory-locks.js';
import { eventColumns, toRecordedEvent, type EventRow } from './read.js';
import type { StoreTables } from './schema-names.js';
import type { RecordedEvent } from './types.js';

/**
 * A read model kept in the same transaction as the append, so a read right
 * after a command sees it and a precondition checked inside an append sees
 * exact state. Applied idempotently by global position: each projection has a
 * checkpoint row in `<schema>.projection_checkpoints` moved in the same
 * transaction, and only events after it are applied.
 */
export interface InlineProjection {
  /** Unique name; the key of its checkpoint row. */
  readonly name: string;
  /** Event types it applies; others only move its checkpoint. */
  readonly handles: readonly string[];
  /** Creates its tables; idempotent. Runs at start inside the migration transaction (under its lock). */
  init(tx: postgres.TransactionSql): Promise<void>;
  /** Applies one event inside the append (or rebuild) transaction. Throwing aborts the append. */
  apply(tx: postgres.TransactionSql, event: RecordedEvent): Promise<void>;
  /** Empties its tables, before a rebuild replays the log. */
  reset(tx: postgres.TransactionSql): Promise<void>;
}

/** Number of events a catch-up or rebuild reads per query. */
const replayBatchSize = 500;

/** Ensures each projection has a checkpoint row (new projections start at 0). */
export async function ensureProjectionCheckpoints(
  tx: postgres.TransactionSql,
  tables: StoreTables,
  projections: readonly InlineProjection[],
): Promise<void> {
  for (const projection of projections) {
    await tx.unsafe(
      `INSERT INTO ${tables.projectionCheckpoints} (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING`,
      [projection.name],
    );
  }
}

/**
 * Applies `events` (just inserted, in position order) to every projection that
 * has not seen them, then moves each projection's checkpoint to the last one.
 */
export async function applyInlineProjections(
  tx: postgres.TransactionSql,
  tables: StoreTables,
  projections: readonly InlineProjection[],
  events: readonly RecordedEvent[],
): Promise<void> {
  const last = events.at(-1);
  if (projections.length === 0 || last === undefined) return;
  const checkpoints = await loadProjectionCheckpoints(tx, tables, projections);
  for (const projection of projections) {
    const after = checkpoints.get(projection.name) ?? 0;
    for (const event of events) {
      if (event.position > after && projection.handles.includes(event.type)) await projection.apply(tx, event);
    }
  }
  await tx.unsafe(
    `UPDATE ${tables.projectionCheckpoints} SET position = $1, updated_at = clock_timestamp()
      WHERE name = ANY($2::text[]) AND position < $1`,
    [last.position, projections.map((p) => p.name)],
  );
}

/**
 * Applies to each projection the events it has not seen: those appended by
 * processes whose stores do not carry this projection. Runs inside an append
 * transaction, after the append lock, so the log cannot move meanwhile. Cheap
 * when every projection is current (one indexed query).
 */
export async function catchUpInlineProjections(
  tx: postgres.TransactionSql,
  tables: StoreTables,
  projections: readonly InlineProjection[],
): Promise<void> {
  if (projections.length === 0) return;
  const checkpoints = await loadProjectionCheckpoints(tx, tables, projections);
  const from = Math.min(...projections.map((p) => checkpoints.get(p.name) ?? 0));
  let head = from;
  for (;;) {
    const rows = await tx.unsafe<EventRow[]>(
      `SELECT ${eventColumns} FROM ${tables.events} WHERE position > $1 ORDER BY position LIMIT $2`,
      [head, replayBatchSize],
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      const event = toRecordedEvent(row);
      for (const projection of projections) {
        if (event.position > (checkpoints.get(projection.name) ?? 0) && projection.handles.includes(event.type)) {
          await projection.apply(tx, event);
        }
      }
      head = event.position;
    }
    if (rows.length < replayBatchSize) break;
  }
  if (head > from) {
    await tx.unsafe(
      `UPDATE ${tables.projectionCheckpoints} SET position = $1, updated_at = clock_timestamp()
        WHERE name = ANY($2::text[]) AND position < $1`,
      [head, projections.map((p) => p.name)],
    );
  }
}

/**
 * Replays the log after a projection's checkpoint into it, in one transaction
 * holding the append lock so no append interleaves. With `fromZero`, the
 * projection is reset first (a rebuild). Returns the number of events applied.
 */
export async function replayIntoProjection(
  sql: postgres.Sql,
  tables: StoreTables,
  schema: string,
  projection: InlineProjection,
  options: { fromZero: boolean },
): Promise<number> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${lockClass.append}, hashtext(${schema}))`;
    let after = 0;
    if (options.fromZero) {
      await projection.reset(tx);
    } else {
      after = (await loadProjectionCheckpoints(tx, tables, [projection])).get(projection.name) ?? 0;
    }
    let applied = 0;
    let head = after;
    for (;;) {
      const rows = await tx.unsafe<EventRow[]>(
        `SELECT ${eventColumns} FROM ${tables.events} WHERE position > $1 ORDER BY position LIMIT $2`,
        [head, replayBatchSize],
      );
      for (const row of rows) {
        const event = toRecordedEvent(row);
        if (projection.handles.includes(event.type)) {
          await projection.apply(tx, event);
          applied += 1;
        }
        head = event.position;
      }
      if (rows.length < replayBatchSize) break;
    }
    await tx.unsafe(
      `INSERT INTO ${tables.projectionCheckpoints} (name, position) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = clock_timestamp()`,
      [projection.name, head],
    );
    return applied;
  });
}

async function loadProjectionCheckpoints(
  tx: postgres.TransactionSql,
  tables: StoreTables,
  projections: readonly InlineProjection[],
): Promise<Map<string, number>> {
  const rows = await tx.unsafe<{ name: string; position: string }[]>(
    `SELECT name, position FROM ${tables.projectionCheckpoints} WHERE name = ANY($1::text[])`,
    [projections.map((p) => p.name)],
  );
  return new Map(rows.map((row) => [row.name, Number(row.position)]));
}
