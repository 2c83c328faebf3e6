import { randomBytes } from 'node:crypto';
import { startCluster, type Cluster, type ClusterOptions } from '@hearth/cluster';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { testInfra } from './test-infra.js';

/** Options of `startTestCluster`: those of `startCluster` that a test may choose. */
export type TestClusterOptions = Omit<ClusterOptions, 'mode' | 'infra' | 'infraOptions' | 'httpPort' | 'grpcPortBase' | 'metricsPortBase'>;

/** A whole Hearth cluster for one test, isolated from other clusters of the same run. */
export interface TestCluster extends Cluster {
  /** The cluster's own database (dropped by `stop()`). */
  database: TestDatabase;
  /** Prefix of its NATS streams and subjects, passed to services as `HEARTH_NATS_PREFIX`. */
  natsPrefix: string;
}

/**
 * Starts the six services (or `options.services`) in ephemeral mode on the
 * test run's infrastructure: every port free-picked, a fresh database and a
 * unique NATS prefix, so several clusters can run side by side. Services run
 * from their built `dist`, so build first (`npm test` does).
 */
export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const infra = testInfra();
  const database = await createTestDatabase('hearth_cluster');
  const natsPrefix = `t${randomBytes(5).toString('hex')}`;
  let cluster: Cluster;
  try {
    cluster = await startCluster({
      ...options,
      mode: 'ephemeral',
      infra: { databaseUrl: database.url, natsUrl: infra.natsUrl, temporalAddress: infra.temporalAddress },
      env: { ...options.env, HEARTH_NATS_PREFIX: natsPrefix },
    });
  } catch (error) {
    await database.drop();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    ...cluster,
    database,
    natsPrefix,
    stop: () =>
      (stopping ??= (async () => {
        try {
          await cluster.stop();
        } finally {
          await database.drop();
        }
      })()),
  };
}
