/**
 * Loopback ports: a free one for ephemeral clusters, or a check that a fixed
 * one is free so a persistent cluster fails with a message naming the port
 * instead of a child dying with "address already in use".
 */
import { createServer } from 'node:net';

/** Host every local piece binds: loopback only, nothing is exposed to the network. */
export const loopback = '127.0.0.1';

/** A fixed port is already taken by another process. */
export class PortInUseError extends Error {
  constructor(
    /** The port that is taken. */
    readonly port: number,
    /** What wanted it, e.g. `postgres`, `temporal-ui`, `api-http`. */
    readonly component: string,
  ) {
    super(`port ${port} on ${loopback} (wanted by ${component}) is already in use`);
    this.name = 'PortInUseError';
  }
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: loopback, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A port the kernel reports free on 127.0.0.1 right now. Another process may
 * take it before our child binds it; callers that can retry on "address in use"
 * should.
 */
export function pickFreePort(): Promise<number> {
  return listenOnce(0);
}

/** Throws PortInUseError when `port` cannot be bound on 127.0.0.1. */
export async function assertPortFree(port: number, component: string): Promise<void> {
  try {
    await listenOnce(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(port, component);
    throw error;
  }
}

/** The fixed port when given, else a free one; checks a fixed port is free. */
export async function choosePort(fixed: number | undefined, component: string): Promise<number> {
  if (fixed === undefined || fixed === 0) return pickFreePort();
  await assertPortFree(fixed, component);
  return fixed;
}

const addressInUse = /address already in use|EADDRINUSE/i;

/**
 * Starts something on a port: the fixed one once (checked free first), or a
 * free one, retried up to `attempts` times (default 3) when the start fails
 * because another process took the port between our check and the child's bind.
 */
export async function startOnPort<T>(
  fixed: number | undefined,
  component: string,
  start: (port: number) => Promise<T>,
  attempts = 3,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await choosePort(fixed, component);
    try {
      return await start(port);
    } catch (error) {
      const clash = error instanceof Error && addressInUse.test(error.message);
      if (!clash || attempt >= attempts || (fixed !== undefined && fixed !== 0)) throw error;
    }
  }
}
