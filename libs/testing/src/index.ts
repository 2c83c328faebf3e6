/**
 * Test harness shared by integration and end-to-end tests: where the real
 * Postgres, NATS and Temporal of this test run are, and isolated databases.
 */
export { testInfra, type TestInfra } from './test-infra.js';
export { createTestDatabase, type TestDatabase } from './test-database.js';
