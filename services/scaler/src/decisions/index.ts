/**
 * Scaler decisions: pure functions over data (no I/O, no clock, no
 * randomness). The per-version autoscaler turns load observations into a
 * desired number of EEs; the fleet cap trims the desires of a capacity
 * provider's versions to its MaxVCpuCount.
 */
export * from './config.js';
export * from './observation.js';
export * from './windows.js';
export * from './autoscaler.js';
export * from './fleet-cap.js';
