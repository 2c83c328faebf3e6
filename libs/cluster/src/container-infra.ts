/**
 * The containers way to get infrastructure, for machines with a Docker (or
 * compatible) engine. testcontainers is an optional peer: without it, or
 * without an engine, `containerRuntimeAvailable()` says no and the resolver
 * uses local binaries. (The machines this was written on have no engine, so
 * this path is kept deliberately small.)
 */
import type { InfraEndpoints, StartedInfraPiece } from './infra-types.js';
import { describeDefaultNamespace } from './local-temporal.js';
import { waitUntilReady } from './wait-until-ready.js';

type Testcontainers = typeof import('testcontainers');

/** Images used, each overridable: `HEARTH_POSTGRES_IMAGE`, `HEARTH_NATS_IMAGE`, `HEARTH_TEMPORAL_IMAGE`. */
export const defaultImages = {
  postgres: 'postgres:16',
  nats: 'nats:2.10',
  temporal: 'temporalio/temporal:latest',
} as const;

async function loadTestcontainers(): Promise<Testcontainers | undefined> {
  try {
    return await import('testcontainers');
  } catch {
    return undefined;
  }
}

/**
 * True when testcontainers is installed and a container engine answers.
 * Without an engine `getContainerRuntimeClient()` rejects within milliseconds.
 */
export async function containerRuntimeAvailable(): Promise<boolean> {
  const testcontainers = await loadTestcontainers();
  if (!testcontainers) return false;
  try {
    await testcontainers.getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

type Env = Readonly<Record<string, string | undefined>>;
type Piece = keyof InfraEndpoints;

/** Starts one piece of infrastructure in a container; throws when testcontainers is missing. */
export async function startContainerPiece(piece: Piece, env: Env = process.env): Promise<StartedInfraPiece> {
  const testcontainers = await loadTestcontainers();
  if (!testcontainers) throw new Error('testcontainers is not installed');
  const { GenericContainer, Wait } = testcontainers;
  switch (piece) {
    case 'databaseUrl': {
      const container = await new GenericContainer(env.HEARTH_POSTGRES_IMAGE || defaultImages.postgres)
        .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
        .withCommand(['postgres', '-c', 'fsync=off', '-c', 'max_connections=200'])
        .withExposedPorts(5432)
        // The entrypoint restarts Postgres once after initialisation: the second "ready" is the real one.
        .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
        .start();
      const address = `postgres://postgres@${container.getHost()}:${container.getMappedPort(5432)}/postgres`;
      return { address, stop: async () => void (await container.stop()) };
    }
    case 'natsUrl': {
      const container = await new GenericContainer(env.HEARTH_NATS_IMAGE || defaultImages.nats)
        .withCommand(['-js'])
        .withExposedPorts(4222)
        .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
        .start();
      return { address: `nats://${container.getHost()}:${container.getMappedPort(4222)}`, stop: async () => void (await container.stop()) };
    }
    case 'temporalAddress': {
      const container = await new GenericContainer(env.HEARTH_TEMPORAL_IMAGE || defaultImages.temporal)
        .withCommand(['server', 'start-dev', '--ip', '0.0.0.0', '--headless'])
        .withExposedPorts(7233)
        .withWaitStrategy(Wait.forListeningPorts())
        .start();
      const address = `${container.getHost()}:${container.getMappedPort(7233)}`;
      try {
        await waitUntilReady({
          what: `Temporal container on ${address}`,
          timeoutMs: 60_000,
          intervalMs: 200,
          probe: (remainingMs) => describeDefaultNamespace(address, Math.min(remainingMs, 3_000)),
        });
      } catch (error) {
        await container.stop();
        throw error;
      }
      return { address, stop: async () => void (await container.stop()) };
    }
  }
}
