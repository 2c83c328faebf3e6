/**
 * A real Postgres server from the system's binaries (Debian's `postgresql`):
 * `initdb` once per data directory, then `postgres` in the foreground as our
 * child, listening on 127.0.0.1 only with trust authentication.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import postgres from 'postgres';
import type { InfraMode, StartedInfraPiece } from './infra-types.js';
import { ManagedProcess, runManagedCommand } from './managed-process.js';
import { once } from './once.js';
import { loopback, startOnPort } from './ports.js';
import { firstClosedAncestor, isRoot, lookupUser, type SystemUser } from './system-user.js';
import { findPostgresBinDir, installCommand } from './tool-paths.js';
import { sleep, waitUntilReady } from './wait-until-ready.js';

/** How to start a local Postgres. */
export interface LocalPostgresOptions {
  /** `ephemeral` turns durability off (fsync, synchronous commit, full-page writes): fast, crash-unsafe. */
  mode: InfraMode;
  /** Directory of the cluster's files (created; `initdb` runs when it holds no cluster yet). */
  pgData: string;
  /** File Postgres's output is appended to. Default none (only the tail is kept). */
  logFile?: string;
  /** Port on 127.0.0.1. Default: a free one. */
  port?: number;
  /** Database the returned URL names, created when missing. Default `postgres`. */
  database?: string;
  /** Milliseconds `initdb` plus start may take before failing. Default 60000. */
  startTimeoutMs?: number;
  /** Environment used to find binaries. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A running local Postgres. */
export interface LocalPostgres extends StartedInfraPiece {
  /** Pid of the server process (also its process group). */
  readonly pid: number;
  /** `postgres://postgres@127.0.0.1:<port>/<database>`. */
  readonly address: string;
  /** The port it listens on. */
  readonly port: number;
}

/** Starts Postgres and resolves once it answers `SELECT 1`. */
export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const { mode, pgData, database = 'postgres', startTimeoutMs = 60_000 } = options;
  const deadline = Date.now() + startTimeoutMs;
  const binDir = findPostgresBinDir(options.env);
  // Created before the access check so it checks what Postgres will see; 0755 whatever the umask.
  mkdirSync(dirname(pgData), { recursive: true });
  chmodSync(dirname(pgData), 0o755);
  const runAs = postgresRunAs(pgData);
  await initCluster(binDir, pgData, runAs, options.logFile, startTimeoutMs);
  await clearStalePostmasterPid(pgData);

  return startOnPort(options.port, 'postgres', async (port) => {
    const { socketDir, temporary } = socketDirFor(pgData);
    if (runAs) chownSync(socketDir, runAs.uid, runAs.gid);
    const settings = ['listen_addresses=127.0.0.1', 'max_connections=200'];
    if (mode === 'ephemeral') settings.push('fsync=off', 'synchronous_commit=off', 'full_page_writes=off');
    const server = await ManagedProcess.start({
      name: 'postgres',
      command: join(binDir, 'postgres'),
      args: ['-D', pgData, '-p', String(port), '-k', socketDir, ...settings.flatMap((setting) => ['-c', setting])],
      cwd: pgData,
      uid: runAs?.uid,
      gid: runAs?.gid,
      logFile: options.logFile,
    });
    const adminUrl = `postgres://postgres@${loopback}:${port}/postgres`;
    const stop = async (): Promise<void> => {
      // SIGINT is Postgres's "fast" shutdown: SIGTERM ("smart") would wait for every client to leave.
      await server.stop({ signal: 'SIGINT', timeoutMs: 15_000 });
      if (temporary) rmSync(socketDir, { recursive: true, force: true });
    };
    try {
      await waitUntilReady({
        what: `Postgres on ${loopback}:${port}`,
        process: server,
        timeoutMs: Math.max(1_000, deadline - Date.now()),
        probe: (remainingMs) => selectOne(adminUrl, remainingMs),
      });
      if (database !== 'postgres') await createDatabaseIfMissing(adminUrl, database);
    } catch (error) {
      await stop();
      throw error;
    }
    return { address: `postgres://postgres@${loopback}:${port}/${database}`, port, pid: server.pid, stop: once(stop) };
  });
}

/**
 * Our own Unix socket directory: Debian's default /var/run/postgresql may be
 * missing or not writable. Next to the data directory when the socket path
 * fits the kernel's ~107-byte limit, else a temp dir.
 */
function socketDirFor(pgData: string): { socketDir: string; temporary: boolean } {
  const beside = join(dirname(pgData), 'run');
  if (`${beside}/.s.PGSQL.65535`.length <= 100) {
    mkdirSync(beside, { recursive: true, mode: 0o755 });
    return { socketDir: beside, temporary: false };
  }
  const socketDir = mkdtempSync(join(tmpdir(), 'hearth-pg-'));
  chmodSync(socketDir, 0o755);
  return { socketDir, temporary: true };
}

/** The user Postgres must run as: `postgres` when we are root (it refuses root), else ourselves. */
function postgresRunAs(pgData: string): SystemUser | undefined {
  if (!isRoot()) return undefined;
  const user = lookupUser('postgres');
  if (!user) {
    throw new Error(`Postgres cannot run as root and there is no "postgres" user. Create it with: ${installCommand}`);
  }
  const closed = firstClosedAncestor(pgData, user);
  if (closed) {
    throw new Error(
      `the postgres user cannot enter ${closed}, so it cannot reach ${pgData}. ` +
        'Set HEARTH_DATA_DIR to a directory whose parents are world-searchable (e.g. /var/tmp/hearth), ' +
        `or run: chmod o+x ${closed}`,
    );
  }
  return user;
}

async function initCluster(
  binDir: string,
  pgData: string,
  runAs: SystemUser | undefined,
  logFile: string | undefined,
  timeoutMs: number,
): Promise<void> {
  const versionFile = join(pgData, 'PG_VERSION');
  if (existsSync(versionFile)) {
    await assertSameMajorVersion(binDir, versionFile);
    return;
  }
  // No PG_VERSION means no finished initdb (a crash mid-initdb): start over rather than fail forever.
  rmSync(pgData, { recursive: true, force: true });
  mkdirSync(pgData, { recursive: true, mode: 0o700 });
  if (runAs) chownSync(pgData, runAs.uid, runAs.gid);
  await runManagedCommand({
    name: 'initdb',
    command: join(binDir, 'initdb'),
    // --no-sync: nothing is worth an fsync before the server first starts.
    args: ['-D', pgData, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync'],
    cwd: pgData,
    uid: runAs?.uid,
    gid: runAs?.gid,
    logFile,
    timeoutMs,
  });
}

async function assertSameMajorVersion(binDir: string, versionFile: string): Promise<void> {
  const dataVersion = readFileSync(versionFile, 'utf8').trim();
  const output = await runManagedCommand({ name: 'postgres -V', command: join(binDir, 'postgres'), args: ['-V'], timeoutMs: 10_000 });
  const binaryVersion = /(\d+)(?:\.\d+)*/.exec(output)?.[1];
  if (binaryVersion !== undefined && binaryVersion !== dataVersion) {
    throw new Error(
      `${versionFile} says the data was made by Postgres ${dataVersion}, but ${binDir} is Postgres ${binaryVersion}. ` +
        `Set HEARTH_PG_BIN_DIR to a Postgres ${dataVersion} bin directory, or move ${versionFile.replace(/\/PG_VERSION$/, '')} away to start empty.`,
    );
  }
}

/**
 * A `postmaster.pid` left by a crash blocks start-up when its pid now belongs
 * to another process (common after a reboot or in containers). If that pid is
 * still a Postgres serving this very directory, it is our orphan: stop it.
 */
async function clearStalePostmasterPid(pgData: string): Promise<void> {
  const pidFile = join(pgData, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 0 && servesDirectory(pid, pgData)) {
    process.kill(pid, 'SIGINT');
    for (let waited = 0; waited < 15_000 && isAlive(pid); waited += 100) await sleep(100);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    for (let waited = 0; waited < 5_000 && isAlive(pid); waited += 100) await sleep(100);
  }
  if (existsSync(pidFile)) unlinkSync(pidFile);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function servesDirectory(pid: number, pgData: string): boolean {
  try {
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    // Postgres chdirs into its data directory, so its cwd identifies the cluster.
    return /postgres|postmaster/.test(command) && readlinkSync(`/proc/${pid}/cwd`) === pgData;
  } catch {
    return false;
  }
}

async function selectOne(url: string, remainingMs: number): Promise<void> {
  const sql = postgres(url, {
    max: 1,
    connect_timeout: Math.max(1, Math.min(5, Math.floor(remainingMs / 1000))),
    onnotice: () => {},
  });
  try {
    await sql`SELECT 1`;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`database name ${database} must match [a-z_][a-z0-9_]*`);
  const sql = postgres(adminUrl, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const rows = await sql`SELECT 1 FROM pg_database WHERE datname = ${database}`;
    if (rows.length === 0) await sql.unsafe(`CREATE DATABASE ${database}`);
  } finally {
    await sql.end({ timeout: 1 });
  }
}
