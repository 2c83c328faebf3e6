/**
 * Test harness shared by integration and end-to-end tests: where the real
 * Postgres, NATS and Temporal of this test run are, isolated databases, and
 * whole clusters for end-to-end tests.
 */
export { testInfra, type TestInfra } from './test-infra.js';
export { createTestDatabase, type TestDatabase } from './test-database.js';
export { startTestCluster, type TestCluster, type TestClusterOptions } from './test-cluster.js';
