import postgres from 'postgres';
import { lockClass } from './advisory-locks.js';
import { createCheckpoint, type Checkpoint } from './checkpoint.js';
import { withDeadline } from './deadline.js';
import type { StoreTables } from './schema-names.js';

/**
 * A dedicated Postgres session that competes for a named session-level
 * advisory lock: whoever holds it is the one active leader (e.g. of the outbox
 * relay). The lock lives as long as the session, so a leader that dies —
 * process or connection — frees it for the others.
 */
export interface LeaderSession {
  /** Takes the lock if free; true when this session holds it (also when it already did). Rejects on a database error. */
  tryAcquire(): Promise<boolean>;
  /** Whether this session still holds the lock; false once its connection was lost (never rejects). */
  isHeld(): Promise<boolean>;
  /**
   * A checkpoint whose `save` runs on this session and only writes while the
   * lock is held (resolving false otherwise), fencing off a deposed leader.
   * `load` reads through the store's pool.
   */
  checkpoint(name: string): Checkpoint;
  /** Releases the lock and closes the session's connection. Idempotent. */
  close(): Promise<void>;
}

/** Options of openLeaderSession. */
export interface LeaderSessionOptions {
  /** Deadline of each query on the session; on expiry the connection is dropped (and with it the lock). Default 5000 ms. */
  queryTimeoutMs?: number;
}

const lockNamePattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * Opens a session for leader election on `lockName` in `schema`, on a
 * dedicated one-connection client configured like `sql` (as postgres.js opens
 * its LISTEN connection) rather than a connection reserved from the pool: the
 * session must be dropped as a whole when its connection fails. Any failed or
 * overdue query drops the connection, so the lock is never believed held by a
 * session the server has ended; the next tryAcquire connects afresh.
 */
export async function openLeaderSession(
  sql: postgres.Sql,
  tables: StoreTables,
  schema: string,
  lockName: string,
  options: LeaderSessionOptions = {},
): Promise<LeaderSession> {
  if (!lockNamePattern.test(lockName)) {
    throw new RangeError(`Leader lock name "${lockName}" must match ${lockNamePattern.source}`);
  }
  const queryTimeoutMs = options.queryTimeoutMs ?? 5_000;
  const [row] = await sql<{ key: number }[]>`SELECT hashtext(${`${schema}:${lockName}`}) AS key`;
  const key = row?.key ?? 0;
  // pg_locks shows the two int4 keys as oids (unsigned); compare in that type.
  const heldBySession = `EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
      AND classid = (${lockClass.leader})::oid AND objid = (${key})::int4::oid AND objsubid = 2
      AND pid = pg_backend_pid() AND granted)`;
  // postgres.js accepts its own parsed options back (its listen() does the same);
  // the typings only describe the unparsed form.
  const dedicated = { ...sql.options, max: 1, idle_timeout: null, max_lifetime: null };
  let client: postgres.Sql | undefined;
  let closed = false;

  const drop = async (): Promise<void> => {
    const dropped = client;
    client = undefined;
    await dropped?.end({ timeout: 1 }).catch(() => {});
  };
  const run = async <T>(what: string, query: (session: postgres.Sql) => Promise<T>): Promise<T> => {
    if (closed) throw new Error(`Leader session ${lockName} is closed`);
    client ??= postgres(dedicated as unknown as postgres.Options<Record<string, postgres.PostgresType>>);
    try {
      return await withDeadline(query(client), queryTimeoutMs, `Leader session ${lockName}: ${what}`);
    } catch (error) {
      await drop();
      throw error;
    }
  };
  const isHeld = async (): Promise<boolean> => {
    if (client === undefined || closed) return false;
    try {
      return await run('check the lock', async (session) => {
        const [held] = await session.unsafe<{ held: boolean }[]>(`SELECT ${heldBySession} AS held`);
        return held?.held === true;
      });
    } catch {
      return false;
    }
  };

  return {
    async tryAcquire() {
      if (await isHeld()) return true;
      return run('take the lock', async (session) => {
        const [got] = await session<{ ok: boolean }[]>`SELECT pg_try_advisory_lock(${lockClass.leader}, ${key}) AS ok`;
        return got?.ok === true;
      });
    },
    isHeld,
    checkpoint(name) {
      const viaPool = createCheckpoint(sql, tables, name);
      return {
        name,
        load: () => viaPool.load(),
        async save(position) {
          if (client === undefined || closed) return false;
          return run('save a checkpoint', (session) =>
            createCheckpoint(session, tables, name, { guard: heldBySession }).save(position),
          );
        },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      // Ending the session releases its session-level lock.
      await drop();
    },
  };
}
