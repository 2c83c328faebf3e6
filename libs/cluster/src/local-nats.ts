/**
 * A real `nats-server` with JetStream, listening on 127.0.0.1 only, its
 * JetStream store in a directory we own.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import type { StartedInfraPiece } from './infra-types.js';
import { ManagedProcess } from './managed-process.js';
import { once } from './once.js';
import { loopback, startOnPort } from './ports.js';
import { findNatsServer } from './tool-paths.js';
import { waitUntilReady } from './wait-until-ready.js';

/** How to start a local NATS server. */
export interface LocalNatsOptions {
  /** JetStream store directory (created). */
  storeDir: string;
  /** File the server's output is appended to. Default none (only the tail is kept). */
  logFile?: string;
  /** Port on 127.0.0.1. Default: a free one. */
  port?: number;
  /** Milliseconds start-up may take. Default 15000. */
  startTimeoutMs?: number;
  /** Environment used to find the binary. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A running local NATS server. */
export interface LocalNats extends StartedInfraPiece {
  /** Pid of the server process (also its process group). */
  readonly pid: number;
  /** `nats://127.0.0.1:<port>`. */
  readonly address: string;
  /** The client port. */
  readonly port: number;
}

/** Largest NATS message Hearth's servers accept: 8 MiB (see deploy/nats.conf for compose). */
export const natsMaxPayloadBytes = 8 * 1024 * 1024;

/** Starts nats-server and resolves once it greets clients with JetStream enabled. */
export async function startLocalNats(options: LocalNatsOptions): Promise<LocalNats> {
  const { storeDir, startTimeoutMs = 15_000 } = options;
  const binary = findNatsServer(options.env);
  mkdirSync(storeDir, { recursive: true });
  // Messages carry up to 6 MB synchronous results and 1 MiB asynchronous events plus their
  // headers; the server's default limit is 1 MiB, and only a config file can raise it.
  const configFile = join(storeDir, 'hearth-nats.conf');
  writeFileSync(configFile, `max_payload: ${natsMaxPayloadBytes}\n`);
  return startOnPort(options.port, 'nats', async (port) => {
    const server = await ManagedProcess.start({
      name: 'nats-server',
      command: binary,
      args: ['-c', configFile, '-a', loopback, '-p', String(port), '-js', '-sd', storeDir],
      logFile: options.logFile,
    });
    const stop = once(async () => {
      await server.stop({ signal: 'SIGTERM', timeoutMs: 10_000 });
    });
    try {
      await waitUntilReady({
        what: `NATS on ${loopback}:${port}`,
        process: server,
        timeoutMs: startTimeoutMs,
        probe: (remainingMs) => natsGreetsWithJetStream(port, Math.min(remainingMs, 2_000)),
      });
    } catch (error) {
      await stop();
      throw error;
    }
    return { address: `nats://${loopback}:${port}`, port, pid: server.pid, stop };
  });
}

/**
 * Connects, reads the server's `INFO {...}` greeting and checks it announces
 * JetStream; a bare TCP accept is not enough (JetStream may still be loading).
 */
export function natsGreetsWithJetStream(port: number, timeoutMs: number, host = loopback): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = '';
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`no INFO within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('error', (error) => finish(error));
    socket.on('data', (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\r\n');
      if (end === -1) {
        if (received.length > 64_000) finish(new Error('INFO line too long'));
        return;
      }
      const line = received.slice(0, end);
      if (!line.startsWith('INFO ')) return finish(new Error(`unexpected greeting: ${line.slice(0, 80)}`));
      try {
        const info = JSON.parse(line.slice(5)) as { jetstream?: boolean };
        finish(info.jetstream ? undefined : new Error('server runs without JetStream'));
      } catch {
        finish(new Error('INFO is not JSON'));
      }
    });
  });
}
