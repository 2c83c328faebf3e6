/**
 * Decides where Postgres, NATS and Temporal come from, each independently
 * (ARCHITECTURE.md, "Infrastructure for development and tests"):
 *   1. a URL from the environment (`DATABASE_URL`, `NATS_URL`, `TEMPORAL_ADDRESS`);
 *   2. else a container, when a Docker-compatible engine answers;
 *   3. else a local binary started by us.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { containerRuntimeAvailable, startContainerPiece } from './container-infra.js';
import type { InfraEndpoints, InfraMode, StartedInfraPiece } from './infra-types.js';
import {
  startLocalNatsIn,
  startLocalPostgresIn,
  startLocalTemporalIn,
  type LocalInfraPorts,
  type LocalPieceOptions,
} from './local-binaries.js';
import type { LocalTemporal } from './local-temporal.js';
import { assertPortFree } from './ports.js';
import { createOwnedTempDir } from './temp-dirs.js';

/** Where a piece of infrastructure came from. */
export type InfraSource = 'env' | 'container' | 'local';

/** Ports `npm start` uses unless told otherwise (5433, not 5432, to leave a system Postgres alone). */
export const persistentDefaultPorts: Readonly<Required<LocalInfraPorts>> = Object.freeze({
  postgres: 5433,
  nats: 4222,
  temporal: 7233,
  temporalUi: 8233,
});

/** How to resolve the infrastructure. */
export interface ResolveInfraOptions {
  /** `ephemeral` (tests: temp dir, free ports, removed on stop) or `persistent` (`npm start`). */
  mode: InfraMode;
  /**
   * State directory for local binaries. Default: persistent mode
   * `$HEARTH_DATA_DIR`, else `<repo>/.hearth`; ephemeral mode a fresh temp dir,
   * removed by `stop()`.
   */
  dataDir?: string;
  /** Fixed ports for local binaries. Default: persistent mode `persistentDefaultPorts`; ephemeral mode free ports. */
  ports?: LocalInfraPorts;
  /**
   * Which of containers or local binaries to use for pieces without a URL.
   * Default `$HEARTH_INFRA` (`auto`, `containers` or `local`), else `auto`
   * (containers when an engine answers).
   */
  source?: 'auto' | 'containers' | 'local';
  /** Database a local Postgres URL names (created when missing). Default: `postgres` (ephemeral), `hearth` (persistent). */
  database?: string;
  /** Milliseconds each piece may take to start. Default 60000. */
  startTimeoutMs?: number;
  /** Environment read for URLs and settings. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Infrastructure ready to use. */
export interface ResolvedInfra extends InfraEndpoints {
  /** Where each piece came from. */
  sources: Record<keyof InfraEndpoints, InfraSource>;
  /** Temporal Web UI URL when we started a local Temporal with its UI (persistent mode), else undefined. */
  temporalUiUrl: string | undefined;
  /** The state directory of local pieces (undefined when none runs locally). */
  dataDir: string | undefined;
  /** Stops everything this call started (Temporal, then NATS, then Postgres) and removes ephemeral state. Idempotent. */
  stop(): Promise<void>;
}

const envNames: Record<keyof InfraEndpoints, string> = {
  databaseUrl: 'DATABASE_URL',
  natsUrl: 'NATS_URL',
  temporalAddress: 'TEMPORAL_ADDRESS',
};

/** The repository root (this file is `libs/cluster/{src,dist}/resolve-infra.*`). */
export function repoRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}

/** The persistent data directory: `$HEARTH_DATA_DIR`, default `<repo>/.hearth`. */
export function persistentDataDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return resolve(env.HEARTH_DATA_DIR || join(repoRoot(), '.hearth'));
}

/** Resolves (and starts what is needed of) Postgres, NATS and Temporal. */
export async function resolveInfra(options: ResolveInfraOptions): Promise<ResolvedInfra> {
  const { mode, env = process.env, startTimeoutMs } = options;
  const pieces = Object.keys(envNames) as (keyof InfraEndpoints)[];
  const missing = pieces.filter((piece) => !env[envNames[piece]]);
  const source = options.source ?? parseSource(env.HEARTH_INFRA);
  let useContainers = false;
  if (missing.length > 0 && source !== 'local') {
    useContainers = await containerRuntimeAvailable();
    if (!useContainers && source === 'containers') {
      throw new Error('containers were asked for (HEARTH_INFRA=containers), but testcontainers finds no working container engine');
    }
  }

  let ownedDir: string | undefined;
  let dataDir: string | undefined;
  if (missing.length > 0 && !useContainers) {
    if (options.dataDir) dataDir = resolve(options.dataDir);
    else if (mode === 'persistent') dataDir = persistentDataDir(env);
    else dataDir = ownedDir = createOwnedTempDir('hearth-infra-');
    mkdirSync(dataDir, { recursive: true });
  }

  const local: LocalPieceOptions = {
    mode,
    dataDir: dataDir ?? '',
    ports: mode === 'persistent' ? { ...persistentDefaultPorts, ...options.ports } : { ...options.ports },
    database: options.database ?? (mode === 'persistent' ? 'hearth' : 'postgres'),
    startTimeoutMs,
    env,
  };
  if (missing.length > 0 && !useContainers) await assertFixedPortsFree(missing, local.ports);
  const starters: Record<keyof InfraEndpoints, () => Promise<StartedInfraPiece>> = {
    databaseUrl: () => startLocalPostgresIn(local),
    natsUrl: () => startLocalNatsIn(local),
    temporalAddress: () => startLocalTemporalIn(local),
  };

  // In parallel: Temporal's start-up and initdb dominate, and they overlap well even on two cores.
  const results = await Promise.allSettled(
    missing.map((piece) => (useContainers ? startContainerPiece(piece, env) : starters[piece]())),
  );
  const started = new Map<keyof InfraEndpoints, StartedInfraPiece>();
  results.forEach((result, index) => {
    if (result.status === 'fulfilled') started.set(missing[index] as keyof InfraEndpoints, result.value);
  });

  const stop = stopInOrder(started, mode, ownedDir);
  const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failures.length > 0) {
    await stop();
    // One failure is rethrown as is, so callers can tell a PortInUseError or MissingBinaryError apart.
    if (failures.length === 1) throw (failures[0] as PromiseRejectedResult).reason;
    const errors = failures.map((failure) => failure.reason as unknown);
    const reasons = errors.map((error) => (error instanceof Error ? error.message : String(error)));
    throw new AggregateError(errors, `could not start the infrastructure:\n- ${reasons.join('\n- ')}`);
  }

  const endpoint = (piece: keyof InfraEndpoints): string => env[envNames[piece]] || (started.get(piece)?.address as string);
  const sourceOf = (piece: keyof InfraEndpoints): InfraSource =>
    !started.has(piece) ? 'env' : useContainers ? 'container' : 'local';
  const temporal = started.get('temporalAddress') as Partial<LocalTemporal> | undefined;
  return {
    databaseUrl: endpoint('databaseUrl'),
    natsUrl: endpoint('natsUrl'),
    temporalAddress: endpoint('temporalAddress'),
    sources: { databaseUrl: sourceOf('databaseUrl'), natsUrl: sourceOf('natsUrl'), temporalAddress: sourceOf('temporalAddress') },
    temporalUiUrl: temporal?.uiUrl,
    dataDir,
    stop,
  };
}

/** Checks every fixed port before starting anything, so a taken port fails fast and starts nothing. */
async function assertFixedPortsFree(pieces: readonly (keyof InfraEndpoints)[], ports: LocalInfraPorts): Promise<void> {
  const wanted: [number | undefined, string][] = [];
  if (pieces.includes('databaseUrl')) wanted.push([ports.postgres, 'postgres']);
  if (pieces.includes('natsUrl')) wanted.push([ports.nats, 'nats']);
  if (pieces.includes('temporalAddress')) wanted.push([ports.temporal, 'temporal'], [ports.temporalUi, 'temporal-ui']);
  for (const [port, component] of wanted) if (port) await assertPortFree(port, component);
}

function parseSource(value: string | undefined): 'auto' | 'containers' | 'local' {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === 'containers' || value === 'local') return value;
  throw new Error(`HEARTH_INFRA=${value} is not one of auto, containers, local`);
}

/**
 * Stop function for the started pieces: Temporal first (it writes to nothing
 * of ours, but clients of it should go first), then NATS, then Postgres. In
 * ephemeral mode all at once (nothing to preserve), then the temp dir goes.
 */
function stopInOrder(
  started: ReadonlyMap<keyof InfraEndpoints, StartedInfraPiece>,
  mode: InfraMode,
  ownedDir: string | undefined,
): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const order: (keyof InfraEndpoints)[] = ['temporalAddress', 'natsUrl', 'databaseUrl'];
  const run = async (): Promise<void> => {
    const pieces = order.map((piece) => started.get(piece)).filter((piece) => piece !== undefined);
    const errors: unknown[] = [];
    if (mode === 'ephemeral') {
      const results = await Promise.allSettled(pieces.map((piece) => piece.stop()));
      for (const result of results) if (result.status === 'rejected') errors.push(result.reason);
    } else {
      for (const piece of pieces) await piece.stop().catch((error: unknown) => errors.push(error));
    }
    if (ownedDir) rmSync(ownedDir, { recursive: true, force: true });
    if (errors.length > 0) throw new AggregateError(errors, 'some infrastructure did not stop cleanly');
  };
  return () => (stopping ??= run());
}
