import type { StoreTables } from './schema-names.js';
import type { SqlExecutor } from './read.js';

/**
 * A named position in the global log, persisted in Postgres
 * (`<schema>.checkpoints`): how far a consumer of the log (the outbox relay, a
 * service's projection) has got.
 */
export interface Checkpoint {
  /** The checkpoint's name. */
  readonly name: string;
  /** The saved position; 0 when never saved. */
  load(): Promise<number>;
  /**
   * Saves `position` exactly (rebuilds save 0). Resolves false — and saves
   * nothing — when the `guard` given at creation no longer holds.
   */
  save(position: number): Promise<boolean>;
}

/** Options of createCheckpoint. */
export interface CheckpointOptions {
  /**
   * A SQL boolean expression evaluated in the same statement as the save; the
   * save happens only when it is true. The outbox relay uses it to check it
   * still holds its leader lock on the very connection that writes. Default:
   * none (always save).
   */
  guard?: string;
}

/** A checkpoint stored through `sql` (use a reserved connection when `guard` refers to the session). */
export function createCheckpoint(
  sql: SqlExecutor,
  tables: StoreTables,
  name: string,
  options: CheckpointOptions = {},
): Checkpoint {
  const guard = options.guard ?? 'true';
  return {
    name,
    async load() {
      const rows = await sql.unsafe<{ position: string }[]>(
        `SELECT position FROM ${tables.checkpoints} WHERE name = $1`,
        [name],
      );
      return Number(rows[0]?.position ?? 0);
    },
    async save(position) {
      if (!Number.isSafeInteger(position) || position < 0) {
        throw new RangeError(`Checkpoint position ${position} must be a non-negative integer`);
      }
      const rows = await sql.unsafe(
        `INSERT INTO ${tables.checkpoints} AS c (name, position)
           SELECT $1, $2 WHERE (${guard})
         ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = clock_timestamp()
         RETURNING 1`,
        [name, position],
      );
      return rows.length === 1;
    },
  };
}
