/**
 * @hearth/fleet — the fleet workflows' contract (names, ids, task queue,
 * inputs, activity signatures). The workflow code itself is the
 * `@hearth/fleet/workflows` entry, which only the placement worker bundles.
 */
export * from './contract.js';
export { workflowClientTracing } from './client-tracing.js';
