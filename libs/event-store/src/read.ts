import type postgres from 'postgres';
import type { StoreTables } from './schema-names.js';
import type { EventMetadata, RecordedEvent } from './types.js';

/** Anything that runs SQL: the pool, a reserved connection or a transaction. */
export type SqlExecutor = postgres.ISql;

/** Default number of events `readAll` returns. */
export const defaultReadAllLimit = 500;
/** Largest `limit` `readAll` accepts, so one read never holds an unbounded batch in memory. */
export const maxReadAllLimit = 10_000;
/** Default and largest number of events `readStream` returns. */
export const defaultReadStreamMaxCount = 10_000;

/** An events row as Postgres returns it (bigint as string, timestamptz as Date). */
export interface EventRow {
  position: string;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  data: unknown;
  metadata: EventMetadata | null;
  recorded_at: Date;
}

/** The column list every event query selects, in EventRow's shape. */
export const eventColumns = 'position, event_id, stream_id, stream_version, type, data, metadata, recorded_at';

/** Turns a row into a RecordedEvent; positions fit a Number up to 2^53. */
export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    position: Number(row.position),
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    type: row.type,
    data: row.data,
    metadata: row.metadata ?? {},
    recordedAt: row.recorded_at.toISOString(),
  };
}

/** Options of readStream. */
export interface ReadStreamOptions {
  /** First stream version to return. Default 1 (the whole stream). */
  fromVersion?: number;
  /** Most events to return; page with `fromVersion` for longer streams. Default and maximum 10,000. */
  maxCount?: number;
}

/** Events of one stream in version order, from `fromVersion`. An absent stream reads as []. */
export async function readStream(
  sql: SqlExecutor,
  tables: StoreTables,
  streamId: string,
  options: ReadStreamOptions = {},
): Promise<RecordedEvent[]> {
  const fromVersion = options.fromVersion ?? 1;
  const maxCount = boundedCount(options.maxCount ?? defaultReadStreamMaxCount, defaultReadStreamMaxCount, 'maxCount');
  const rows = await sql.unsafe<EventRow[]>(
    `SELECT ${eventColumns} FROM ${tables.events}
      WHERE stream_id = $1 AND stream_version >= $2
      ORDER BY stream_version LIMIT $3`,
    [streamId, fromVersion, maxCount],
  );
  return rows.map(toRecordedEvent);
}

/** SQL of a stream's version (parameter $1: the stream id), one row with `version`. */
export function streamVersionSql(tables: StoreTables): string {
  return `SELECT coalesce(max(stream_version), 0)::int AS version FROM ${tables.events} WHERE stream_id = $1`;
}

/** The stream's current version: its last event's `streamVersion`, 0 when it has none. */
export async function streamVersion(sql: SqlExecutor, tables: StoreTables, streamId: string): Promise<number> {
  const rows = await sql.unsafe<{ version: number }[]>(streamVersionSql(tables), [streamId]);
  return rows[0]?.version ?? 0;
}

/** Options of readAll. */
export interface ReadAllOptions {
  /** First global position to return (inclusive). Default 1, the start of the log. */
  fromPosition?: number;
  /** Most events to return. Default 500, at most 10,000. */
  limit?: number;
}

/** Events of every stream in global-position (= commit) order, from `fromPosition`. */
export async function readAll(
  sql: SqlExecutor,
  tables: StoreTables,
  options: ReadAllOptions = {},
): Promise<RecordedEvent[]> {
  const fromPosition = options.fromPosition ?? 1;
  const limit = boundedCount(options.limit ?? defaultReadAllLimit, maxReadAllLimit, 'limit');
  const rows = await sql.unsafe<EventRow[]>(
    `SELECT ${eventColumns} FROM ${tables.events} WHERE position >= $1 ORDER BY position LIMIT $2`,
    [fromPosition, limit],
  );
  return rows.map(toRecordedEvent);
}

/** The position of the last committed event, 0 for an empty log. */
export async function headPosition(sql: SqlExecutor, tables: StoreTables): Promise<number> {
  const rows = await sql.unsafe<{ head: string }[]>(`SELECT coalesce(max(position), 0) AS head FROM ${tables.events}`);
  return Number(rows[0]?.head ?? 0);
}

function boundedCount(value: number, max: number, name: string): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} ${value} must be an integer between 1 and ${max}`);
  }
  return value;
}
