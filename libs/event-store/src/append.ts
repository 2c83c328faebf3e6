import { randomUUID } from 'node:crypto';
import { ServiceUnavailableException } from '@hearth/errors';
import type postgres from 'postgres';
import { lockClass } from './advisory-locks.js';
import { captureMetadata } from './capture-metadata.js';
import { StreamVersionConflictError } from './errors.js';
import { applyInlineProjections, catchUpInlineProjections, type InlineProjection } from './inline-projections.js';
import { eventColumns, streamVersionSql, toRecordedEvent, type EventRow } from './read.js';
import { notifyChannel, type StoreTables } from './schema-names.js';
import { assertEventType, parseStreamId } from './stream-id.js';
import type { AppendResult, ExpectedVersion, NewEvent } from './types.js';

/** What an append expects of the stream. */
export interface AppendExpectation {
  /** The version the stream must be at; see ExpectedVersion. */
  expectedVersion: ExpectedVersion;
}

/** Optional behaviour of one append. */
export interface AppendOptions {
  /**
   * Runs inside the append transaction, after the append lock is taken and the
   * stream version checked, before the insert: the place to check invariants
   * across streams against exact state (inline projections are current here).
   * Throw — a LambdaError, typically — to abort; nothing is written.
   */
  precondition?: (tx: postgres.TransactionSql, context: { streamVersion: number }) => Promise<void>;
}

/** What append needs from the store. */
export interface AppendContext {
  readonly sql: postgres.Sql;
  readonly schema: string;
  readonly tables: StoreTables;
  readonly projections: readonly InlineProjection[];
  /** Milliseconds an append waits for the append lock before failing with ServiceUnavailableException. */
  readonly lockTimeoutMs: number;
}

/** Most events one append may carry. */
export const maxEventsPerAppend = 1_000;

const lockNotAvailable = '55P03';
const uniqueViolation = '23505';

/**
 * Appends events to a stream in one transaction: take the append lock (so
 * global positions are in commit order — ADR 0002), check the expected
 * version, run the precondition, insert and NOTIFY (delivered at commit),
 * apply inline projections.
 */
export async function append(
  context: AppendContext,
  streamId: string,
  events: readonly NewEvent[],
  expectation: AppendExpectation,
  options: AppendOptions = {},
): Promise<AppendResult> {
  parseStreamId(streamId);
  if (events.length === 0 || events.length > maxEventsPerAppend) {
    throw new RangeError(`An append carries 1 to ${maxEventsPerAppend} events, not ${events.length}`);
  }
  for (const event of events) assertEventType(event.type);
  assertExpectedVersionShape(expectation.expectedVersion);
  const captured = captureMetadata();
  const { sql, schema, tables } = context;
  try {
    return await sql.begin(async (tx) => {
      // postgres.js sends a query when it is first awaited or executed; execute()
      // sends these three now, in this order, in one round trip. The server runs
      // them in order, so the version is read by a statement that starts after
      // the lock is granted and sees every append committed before.
      const [, , versionRows] = await Promise.all([
        tx`SELECT set_config('lock_timeout', ${`${context.lockTimeoutMs}ms`}, true)`.execute(),
        tx`SELECT pg_advisory_xact_lock(${lockClass.append}, hashtext(${schema}))`.execute(),
        tx.unsafe<{ version: number }[]>(streamVersionSql(tables), [streamId]).execute(),
      ]);
      const actual = versionRows[0]?.version ?? 0;
      checkExpectedVersion(streamId, expectation.expectedVersion, actual);
      // Other processes append with other projection sets; bring ours up to the log
      // before the precondition reads them and before the new events are applied.
      await catchUpInlineProjections(tx, tables, context.projections);
      if (options.precondition) await options.precondition(tx, { streamVersion: actual });
      const [rows] = await Promise.all([
        insertEvents(tx, tables, streamId, actual, events, captured).execute(),
        tx.unsafe(`SELECT pg_notify($1, (SELECT max(position) FROM ${tables.events})::text)`, [notifyChannel(schema)]).execute(),
      ]);
      const recorded = rows.map(toRecordedEvent);
      await applyInlineProjections(tx, tables, context.projections, recorded);
      const first = recorded[0];
      const last = recorded.at(-1);
      if (first === undefined || last === undefined) throw new Error('insert returned no rows');
      return {
        nextExpectedVersion: last.streamVersion,
        firstPosition: first.position,
        lastPosition: last.position,
        events: recorded,
      };
    });
  } catch (error) {
    throw translateAppendError(error, streamId, expectation.expectedVersion);
  }
}

function insertEvents(
  tx: postgres.TransactionSql,
  tables: StoreTables,
  streamId: string,
  currentVersion: number,
  events: readonly NewEvent[],
  captured: Record<string, unknown>,
): postgres.PendingQuery<EventRow[]> {
  const ids = events.map(() => randomUUID());
  const versions = events.map((_, index) => currentVersion + index + 1);
  const types = events.map((event) => event.type);
  const data = events.map((event) => JSON.stringify(event.data ?? null));
  const metadata = events.map((event) => JSON.stringify({ ...captured, ...event.metadata }));
  // One statement for the whole batch; ORDER BY ord gives positions in version order.
  return tx.unsafe<EventRow[]>(
    `INSERT INTO ${tables.events} (event_id, stream_id, stream_version, type, data, metadata)
       SELECT e.event_id, $2, e.stream_version, e.type, e.data::jsonb, e.metadata::jsonb
         FROM unnest($1::uuid[], $3::int[], $4::text[], $5::text[], $6::text[])
              WITH ORDINALITY AS e(event_id, stream_version, type, data, metadata, ord)
        ORDER BY e.ord
     RETURNING ${eventColumns}`,
    [ids, streamId, versions, types, data, metadata],
  );
}

function assertExpectedVersionShape(expected: ExpectedVersion): void {
  if (expected === 'any' || expected === 'no-stream') return;
  if (!Number.isSafeInteger(expected) || expected < 0) {
    throw new RangeError(`expectedVersion ${String(expected)} must be 'any', 'no-stream' or an integer >= 0`);
  }
}

function checkExpectedVersion(streamId: string, expected: ExpectedVersion, actual: number): void {
  if (expected === 'any') return;
  const wanted = expected === 'no-stream' ? 0 : expected;
  if (wanted !== actual) throw new StreamVersionConflictError(streamId, expected, actual);
}

function translateAppendError(error: unknown, streamId: string, expected: ExpectedVersion): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === lockNotAvailable) {
    return new ServiceUnavailableException('The event store is busy; retry the request', {
      cause: error,
      retryAfterSeconds: 1,
    });
  }
  // The append lock makes this unreachable between appends of one store; kept
  // so a writer that bypasses the lock still gets a conflict, not a 500.
  if (code === uniqueViolation && String((error as { constraint_name?: unknown }).constraint_name).includes('stream')) {
    return new StreamVersionConflictError(streamId, expected, undefined);
  }
  return error;
}
