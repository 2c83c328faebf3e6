/**
 * vitest global setup of the `int` and `e2e` projects: resolves real
 * Postgres, NATS and Temporal once per test run (URLs from the environment,
 * else containers, else local binaries on free ports in a temp dir) and
 * provides their addresses to tests as `hearthInfra` (read with `testInfra()`).
 */
import type { TestProject } from 'vitest/node';
import { resolveInfra, type ResolvedInfra } from '@hearth/cluster';
import type { TestInfra } from './test-infra.js';

/** Infrastructure shared by every project of one vitest process, stopped when the last one tears down. */
interface SharedInfra {
  infra: Promise<ResolvedInfra>;
  users: number;
}

// vitest runs this setup once per project; projects of one run share one process, so they share one infra.
const sharedKey = Symbol.for('hearth.testing.sharedInfra');
type GlobalWithInfra = typeof globalThis & { [sharedKey]?: SharedInfra };

/** Starts (or joins) the test infrastructure and provides it; returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const global = globalThis as GlobalWithInfra;
  const startedAt = Date.now();
  const shared = (global[sharedKey] ??= { infra: resolveInfra({ mode: 'ephemeral' }), users: 0 });
  shared.users += 1;
  let infra: ResolvedInfra;
  try {
    infra = await shared.infra;
  } catch (error) {
    shared.users -= 1;
    if (global[sharedKey] === shared) delete global[sharedKey];
    throw error;
  }
  if (shared.users === 1) {
    const where = Object.entries(infra.sources)
      .map(([piece, source]) => `${piece}=${source}`)
      .join(' ');
    console.log(`hearth test infra ready in ${Date.now() - startedAt} ms (${where})`);
  }
  const provided: TestInfra = {
    databaseUrl: infra.databaseUrl,
    natsUrl: infra.natsUrl,
    temporalAddress: infra.temporalAddress,
  };
  project.provide('hearthInfra', provided);
  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    if (global[sharedKey] === shared) delete global[sharedKey];
    await infra.stop();
  };
}
