/** The runtime families Hearth has bootstraps for. */
export type RuntimeFamily = 'nodejs' | 'python';

/**
 * Default PerExecutionEnvironmentMaxConcurrency per vCPU of each runtime family
 * (spec §3): Node.js runs async handlers on worker threads (64 per vCPU), Python
 * runs one request per process (16 per vCPU).
 */
export const defaultConcurrencyPerVcpu: Readonly<Record<RuntimeFamily, number>> = Object.freeze({
  nodejs: 64,
  python: 16,
});

/**
 * The concurrency an EE admits: the configured maximum when set (> 0), else the
 * runtime's default per vCPU × the EE's vCPUs (at least 1 vCPU, so a fractional or
 * missing vCPU count still yields a usable EE).
 */
export function effectiveMaxConcurrency(configured: number, family: RuntimeFamily, vcpus: number): number {
  if (Number.isInteger(configured) && configured > 0) return configured;
  const cpus = Number.isFinite(vcpus) && vcpus > 1 ? vcpus : 1;
  return Math.max(1, Math.floor(defaultConcurrencyPerVcpu[family] * cpus));
}

/**
 * Worker threads a Node.js EE runs when the function does not say
 * (`AWS_LAMBDA_NODEJS_WORKER_COUNT`): one per whole vCPU of the EE, at least 1.
 * Lambda's runtime reads the EE's cgroup CPU quota; Hearth's EEs have none, so
 * the agent tells the runtime instead.
 */
export function defaultNodeWorkerCount(vcpus: number): number {
  return Number.isFinite(vcpus) && vcpus >= 1 ? Math.floor(vcpus) : 1;
}
