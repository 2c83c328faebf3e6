/**
 * The local-binaries way to get infrastructure: system Postgres, nats-server
 * and the Temporal CLI's dev server as our own child processes, their state in
 * one data directory. Used when no URL is given and no container engine answers.
 */
import { join } from 'node:path';
import type { InfraMode } from './infra-types.js';
import { startLocalNats, type LocalNats } from './local-nats.js';
import { startLocalPostgres, type LocalPostgres } from './local-postgres.js';
import { startLocalTemporal, type LocalTemporal } from './local-temporal.js';

export { startLocalPostgres, type LocalPostgres, type LocalPostgresOptions } from './local-postgres.js';
export { startLocalNats, natsGreetsWithJetStream, type LocalNats, type LocalNatsOptions } from './local-nats.js';
export { startLocalTemporal, describeDefaultNamespace, type LocalTemporal, type LocalTemporalOptions } from './local-temporal.js';

/** Where each piece keeps its state and log inside a data directory. */
export interface LocalInfraLayout {
  /** Postgres cluster directory: `<dataDir>/postgres/data`. */
  pgData: string;
  /** JetStream store: `<dataDir>/nats`. */
  natsStore: string;
  /** Temporal SQLite file (persistent mode only): `<dataDir>/temporal/temporal.db`. */
  temporalDb: string;
  /** Log directory: `<dataDir>/logs` (`postgres.log`, `nats.log`, `temporal.log`, one per service). */
  logsDir: string;
}

/** The layout of `dataDir`. */
export function localInfraLayout(dataDir: string): LocalInfraLayout {
  return {
    pgData: join(dataDir, 'postgres', 'data'),
    natsStore: join(dataDir, 'nats'),
    temporalDb: join(dataDir, 'temporal', 'temporal.db'),
    logsDir: join(dataDir, 'logs'),
  };
}

/** Fixed ports for the pieces; each unset one is picked free. */
export interface LocalInfraPorts {
  /** Postgres port. */
  postgres?: number;
  /** NATS client port. */
  nats?: number;
  /** Temporal frontend gRPC port. */
  temporal?: number;
  /** Temporal Web UI port (persistent mode). Default: Temporal port + 1000. */
  temporalUi?: number;
}

/** Options shared by the three local starters. */
export interface LocalPieceOptions {
  /** Ephemeral (durability off, no Temporal UI) or persistent. */
  mode: InfraMode;
  /** Data directory laid out by `localInfraLayout`. */
  dataDir: string;
  /** Fixed ports; each unset one is picked free. */
  ports: LocalInfraPorts;
  /** Database the Postgres URL names (created when missing). Default `postgres`. */
  database?: string;
  /** Milliseconds each piece may take to start. Default: each starter's own (60 s Postgres and Temporal, 15 s NATS). */
  startTimeoutMs?: number;
  /** Environment used to find binaries. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Starts Postgres with the layout of `options.dataDir`. */
export function startLocalPostgresIn(options: LocalPieceOptions): Promise<LocalPostgres> {
  const layout = localInfraLayout(options.dataDir);
  return startLocalPostgres({
    mode: options.mode,
    pgData: layout.pgData,
    logFile: join(layout.logsDir, 'postgres.log'),
    port: options.ports.postgres,
    database: options.database,
    startTimeoutMs: options.startTimeoutMs,
    env: options.env,
  });
}

/** Starts nats-server with the layout of `options.dataDir`. */
export function startLocalNatsIn(options: LocalPieceOptions): Promise<LocalNats> {
  const layout = localInfraLayout(options.dataDir);
  return startLocalNats({
    storeDir: layout.natsStore,
    logFile: join(layout.logsDir, 'nats.log'),
    port: options.ports.nats,
    startTimeoutMs: options.startTimeoutMs,
    env: options.env,
  });
}

/** Starts the Temporal dev server with the layout of `options.dataDir`. */
export function startLocalTemporalIn(options: LocalPieceOptions): Promise<LocalTemporal> {
  const layout = localInfraLayout(options.dataDir);
  return startLocalTemporal({
    mode: options.mode,
    dbFile: layout.temporalDb,
    logFile: join(layout.logsDir, 'temporal.log'),
    port: options.ports.temporal,
    uiPort: options.ports.temporalUi,
    startTimeoutMs: options.startTimeoutMs,
    env: options.env,
  });
}
