/**
 * Placement decisions: pure functions over data (no I/O, no clock, no
 * randomness) that choose instance types, place and remove execution
 * environments. The instance-type catalog is re-exported for callers that
 * pass a type or a catalog in.
 */
export * from '../catalog/index.js';
export * from './resources.js';
export * from './failures.js';
export * from './instance-type-patterns.js';
export * from './fleet.js';
export * from './choose-instance-type.js';
export * from './plan-placement.js';
export * from './plan-removal.js';
export { MinHeap } from './min-heap.js';
