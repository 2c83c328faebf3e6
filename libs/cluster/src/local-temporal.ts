/**
 * A real Temporal server from the Temporal CLI's `server start-dev` (one
 * process, SQLite persistence), bound to 127.0.0.1.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { InfraMode, StartedInfraPiece } from './infra-types.js';
import { ManagedProcess } from './managed-process.js';
import { once } from './once.js';
import { assertPortFree, loopback, startOnPort } from './ports.js';
import { findTemporalCli } from './tool-paths.js';
import { waitUntilReady } from './wait-until-ready.js';

/** How to start a local Temporal dev server. */
export interface LocalTemporalOptions {
  /**
   * `ephemeral`: in-memory SQLite (nothing to write, nothing to clean) and no
   * Web UI. `persistent`: state in `dbFile`, Web UI on `uiPort`.
   */
  mode: InfraMode;
  /** SQLite file for persistent mode (its directory is created). Ignored in ephemeral mode. */
  dbFile?: string;
  /** File the server's output is appended to. Default none (only the tail is kept). */
  logFile?: string;
  /** Frontend gRPC port on 127.0.0.1. Default: a free one. */
  port?: number;
  /** Web UI port in persistent mode. Default: the gRPC port + 1000 (Temporal's own default). */
  uiPort?: number;
  /** Milliseconds start-up may take, until the `default` namespace answers. Default 60000. */
  startTimeoutMs?: number;
  /** Environment used to find the binary. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A running local Temporal server. */
export interface LocalTemporal extends StartedInfraPiece {
  /** Pid of the server process (also its process group). */
  readonly pid: number;
  /** Frontend address `127.0.0.1:<port>`. */
  readonly address: string;
  /** Web UI URL, when the UI runs (persistent mode). */
  readonly uiUrl: string | undefined;
}

/** Starts `temporal server start-dev` and resolves once the `default` namespace can be described. */
export async function startLocalTemporal(options: LocalTemporalOptions): Promise<LocalTemporal> {
  const { mode, startTimeoutMs = 60_000 } = options;
  const cli = findTemporalCli(options.env);
  return startOnPort(options.port, 'temporal', async (port) => {
    const args = ['server', 'start-dev', '--ip', loopback, '--port', String(port), '--log-level', 'warn'];
    let uiUrl: string | undefined;
    if (mode === 'persistent') {
      if (!options.dbFile) throw new Error('startLocalTemporal: dbFile is required in persistent mode');
      mkdirSync(dirname(options.dbFile), { recursive: true });
      const uiPort = options.uiPort ?? port + 1000;
      await assertPortFree(uiPort, 'temporal-ui');
      // No news fetch: the UI would otherwise call out to the internet on every load.
      args.push('--db-filename', options.dbFile, '--ui-port', String(uiPort), '--ui-disable-news-fetch');
      uiUrl = `http://${loopback}:${uiPort}`;
    } else {
      args.push('--headless');
    }
    const server = await ManagedProcess.start({ name: 'temporal', command: cli, args, logFile: options.logFile });
    const stop = once(async () => {
      // An ephemeral server keeps everything in memory: there is nothing to shut down cleanly.
      await server.stop(mode === 'ephemeral' ? { signal: 'SIGKILL' } : { signal: 'SIGTERM', timeoutMs: 15_000 });
    });
    const address = `${loopback}:${port}`;
    try {
      await waitUntilReady({
        what: `Temporal on ${address}`,
        process: server,
        timeoutMs: startTimeoutMs,
        intervalMs: 100,
        probe: (remainingMs) => describeDefaultNamespace(address, Math.min(remainingMs, 3_000)),
      });
    } catch (error) {
      await stop();
      throw error;
    }
    return { address, uiUrl, pid: server.pid, stop };
  });
}

/**
 * Connects to a Temporal frontend and describes the `default` namespace: the
 * gRPC port accepting is not enough, the namespace is registered a moment later.
 */
export async function describeDefaultNamespace(address: string, timeoutMs: number): Promise<void> {
  // Loaded lazily: the client pulls in grpc-js, which callers that only supervise services never need.
  const { Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
  try {
    await connection.withDeadline(Date.now() + timeoutMs, () =>
      connection.workflowService.describeNamespace({ namespace: 'default' }),
    );
  } finally {
    await connection.close();
  }
}
