/**
 * Where the infrastructure binaries are. `scripts/ensure-infra.mjs` installs
 * them and records their paths in `tools.json`; this module reads that record,
 * falls back to the usual places, and otherwise fails with the command that
 * installs them.
 */
import { accessSync, constants, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

/** The command that installs every missing binary (named in every MissingBinaryError). */
export const installCommand = 'node scripts/ensure-infra.mjs';

/** Paths recorded by `scripts/ensure-infra.mjs` in `tools.json`. */
export interface ToolPaths {
  /** Directory holding `initdb` and `postgres`. */
  postgresBinDir?: string;
  /** The `nats-server` executable. */
  natsServer?: string;
  /** The Temporal CLI executable (`temporal`). */
  temporal?: string;
}

/** A binary the local infrastructure needs is not installed. */
export class MissingBinaryError extends Error {
  constructor(
    /** The missing tool, e.g. `nats-server`. */
    readonly tool: string,
    looked: readonly string[],
  ) {
    super(`${tool} not found (looked in: ${looked.join(', ') || 'nothing'}). Install it with: ${installCommand}`);
    this.name = 'MissingBinaryError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Directory of Hearth's tool cache: `$HEARTH_TOOLS_DIR`, default `~/.cache/hearth`. */
export function toolsDir(env: Env = process.env): string {
  return env.HEARTH_TOOLS_DIR || join(home(env), '.cache', 'hearth');
}

function home(env: Env): string {
  return env.HOME || homedir();
}

/** Path of `tools.json` inside `toolsDir()`. */
export function toolsFile(env: Env = process.env): string {
  return join(toolsDir(env), 'tools.json');
}

/** The paths recorded in `tools.json`; empty when it is missing or unreadable. */
export function readToolPaths(env: Env = process.env): ToolPaths {
  try {
    const parsed = JSON.parse(readFileSync(toolsFile(env), 'utf8')) as ToolPaths;
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

function isExecutable(path: string | undefined): path is string {
  if (!path) return false;
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: Env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function isPostgresBinDir(dir: string | undefined): dir is string {
  return dir !== undefined && isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'postgres'));
}

/** Highest-version `/usr/lib/postgresql/<major>/bin` holding the server binaries (Debian's layout). */
function debianPostgresBinDir(): string | undefined {
  let versions: string[];
  try {
    versions = readdirSync('/usr/lib/postgresql');
  } catch {
    return undefined;
  }
  return versions
    .filter((version) => /^\d+$/.test(version))
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => `/usr/lib/postgresql/${version}/bin`)
    .find(isPostgresBinDir);
}

/**
 * Directory with Postgres's `initdb` and `postgres`: `$HEARTH_PG_BIN_DIR`,
 * else tools.json, else the highest `/usr/lib/postgresql/<n>/bin`, else the
 * directory of `initdb` on PATH.
 */
export function findPostgresBinDir(env: Env = process.env): string {
  const fromPath = onPath('initdb', env);
  const candidates = [
    env.HEARTH_PG_BIN_DIR,
    readToolPaths(env).postgresBinDir,
    debianPostgresBinDir(),
    fromPath ? dirname(realpathSync(fromPath)) : undefined,
  ];
  const found = candidates.find(isPostgresBinDir);
  if (found) return found;
  throw new MissingBinaryError('Postgres server (initdb, postgres)', [
    'HEARTH_PG_BIN_DIR',
    toolsFile(env),
    '/usr/lib/postgresql/*/bin',
    'PATH',
  ]);
}

/** The `nats-server` executable: `$HEARTH_NATS_SERVER`, else tools.json, else PATH, else `~/go/bin`. */
export function findNatsServer(env: Env = process.env): string {
  const candidates = [
    env.HEARTH_NATS_SERVER,
    readToolPaths(env).natsServer,
    onPath('nats-server', env),
    '/usr/sbin/nats-server',
    join(home(env), 'go', 'bin', 'nats-server'),
  ];
  const found = candidates.find(isExecutable);
  if (found) return found;
  throw new MissingBinaryError('nats-server', ['HEARTH_NATS_SERVER', toolsFile(env), 'PATH', '~/go/bin']);
}

/**
 * The Temporal CLI: `$HEARTH_TEMPORAL_CLI`, else tools.json, else the venv
 * ensure-infra creates, else PATH, else `~/.local/bin`.
 */
export function findTemporalCli(env: Env = process.env): string {
  const candidates = [
    env.HEARTH_TEMPORAL_CLI,
    readToolPaths(env).temporal,
    join(toolsDir(env), 'tools', 'venv', 'bin', 'temporal'),
    onPath('temporal', env),
    join(home(env), '.local', 'bin', 'temporal'),
  ];
  const found = candidates.find(isExecutable);
  if (found) return found;
  throw new MissingBinaryError('temporal (Temporal CLI)', ['HEARTH_TEMPORAL_CLI', toolsFile(env), 'PATH', '~/.local/bin']);
}
