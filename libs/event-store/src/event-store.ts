import type postgres from 'postgres';
import { append, type AppendExpectation, type AppendOptions } from './append.js';
import { createCheckpoint, type Checkpoint } from './checkpoint.js';
import {
  ensureProjectionCheckpoints,
  replayIntoProjection,
  type InlineProjection,
} from './inline-projections.js';
import { openLeaderSession, type LeaderSession, type LeaderSessionOptions } from './leader-session.js';
import { migrate } from './migrations.js';
import {
  headPosition,
  readAll,
  readStream,
  streamVersion,
  type ReadAllOptions,
  type ReadStreamOptions,
} from './read.js';
import { defaultSchema, notifyChannel, storeTables } from './schema-names.js';
import type { AppendResult, NewEvent, RecordedEvent } from './types.js';

/** Options of createEventStore. */
export interface EventStoreOptions {
  /** The Postgres pool; the store never ends it (its owner does). */
  sql: postgres.Sql;
  /** Schema holding the store's tables. Default `hearth`. */
  schema?: string;
  /** Read models kept inside append transactions. Default none. */
  inlineProjections?: readonly InlineProjection[];
  /**
   * Milliseconds an append waits for the append lock before failing with a
   * retryable ServiceUnavailableException. Default 5000.
   */
  appendLockTimeoutMs?: number;
}

/** The append-only event log in Postgres, with inline read models. */
export interface EventStore {
  /** The schema the store lives in. */
  readonly schema: string;
  /** The LISTEN channel announcing appends (`<schema>_events`); the payload is the last position appended. */
  readonly notifyChannel: string;
  /** The pool the store was created with. */
  readonly sql: postgres.Sql;
  /**
   * Appends `events` to `streamId` if it is at the expected version; a mismatch
   * throws StreamVersionConflictError (a ResourceConflictException) and writes
   * nothing. Records the active trace context and request id in each event's metadata.
   */
  append(
    streamId: string,
    events: readonly NewEvent[],
    expectation: AppendExpectation,
    options?: AppendOptions,
  ): Promise<AppendResult>;
  /** Events of one stream in version order (see ReadStreamOptions for bounds). */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** The stream's version, 0 when it does not exist. */
  streamVersion(streamId: string): Promise<number>;
  /** Events of all streams in global-position order, at most `limit` (default 500). */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Position of the last committed event, 0 when the log is empty. */
  headPosition(): Promise<number>;
  /**
   * Empties an inline projection and replays the whole log into it, in one
   * transaction holding the append lock (appends wait, up to their lock
   * timeout). Returns the number of events applied.
   */
  rebuild(projectionName: string): Promise<number>;
  /** A named checkpoint in `<schema>.checkpoints`, for consumers of the log that keep state in Postgres. */
  checkpoint(name: string): Checkpoint;
  /** Opens a dedicated session that competes for the leader lock of `role` (e.g. `outbox-relay`); close it when done. */
  openLeaderSession(role: string, options?: LeaderSessionOptions): Promise<LeaderSession>;
}

/**
 * Creates the event store: applies migrations (idempotent, safe when several
 * processes start at once), creates inline projections' tables, and catches
 * each projection up with the log (a new projection is built from zero).
 */
export async function createEventStore(options: EventStoreOptions): Promise<EventStore> {
  const { sql } = options;
  const schema = options.schema ?? defaultSchema;
  const tables = storeTables(schema);
  const projections = [...(options.inlineProjections ?? [])];
  assertUniqueNames(projections);
  await migrate(sql, schema, async (tx) => {
    for (const projection of projections) await projection.init(tx);
    await ensureProjectionCheckpoints(tx, tables, projections);
  });
  for (const projection of projections) {
    await replayIntoProjection(sql, tables, schema, projection, { fromZero: false });
  }
  const appendContext = {
    sql,
    schema,
    tables,
    projections,
    lockTimeoutMs: options.appendLockTimeoutMs ?? 5_000,
  };
  return {
    schema,
    notifyChannel: notifyChannel(schema),
    sql,
    append: (streamId, events, expectation, appendOptions) =>
      append(appendContext, streamId, events, expectation, appendOptions),
    readStream: (streamId, readOptions) => readStream(sql, tables, streamId, readOptions),
    streamVersion: (streamId) => streamVersion(sql, tables, streamId),
    readAll: (readOptions) => readAll(sql, tables, readOptions),
    headPosition: () => headPosition(sql, tables),
    async rebuild(projectionName) {
      const projection = projections.find((p) => p.name === projectionName);
      if (!projection) {
        throw new RangeError(
          `No inline projection named ${projectionName} (known: ${projections.map((p) => p.name).join(', ') || 'none'})`,
        );
      }
      return replayIntoProjection(sql, tables, schema, projection, { fromZero: true });
    },
    checkpoint: (name) => createCheckpoint(sql, tables, name),
    openLeaderSession: (role, sessionOptions) => openLeaderSession(sql, tables, schema, role, sessionOptions),
  };
}

function assertUniqueNames(projections: readonly InlineProjection[]): void {
  const seen = new Set<string>();
  for (const { name } of projections) {
    if (seen.has(name)) throw new RangeError(`Two inline projections are named ${name}`);
    seen.add(name);
  }
}
