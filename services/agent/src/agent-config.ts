import { join, resolve } from 'node:path';
import { ConfigError, envRequired, envString } from '@hearth/config';

type Env = Readonly<Record<string, string | undefined>>;

/** Settings of an agent process, from the environment the instance-manager gives it. */
export interface AgentConfig {
  /** The instance this agent runs (`HEARTH_INSTANCE_ID`). Required: an agent always belongs to an instance. */
  instanceId: string;
  /** Instance type, e.g. `m7g.large` (`HEARTH_INSTANCE_TYPE`). Default empty. */
  instanceType: string;
  /** Availability zone (`HEARTH_ZONE`). Default empty. */
  zone: string;
  /** ARN of the capacity provider the instance belongs to (`HEARTH_CAPACITY_PROVIDER_ARN`). Default empty. */
  capacityProviderArn: string;
  /** vCPUs of the instance (`HEARTH_INSTANCE_VCPUS`). Default 2. */
  vcpus: number;
  /** Memory of the instance, MiB (`HEARTH_INSTANCE_MEMORY_MIB`). Default 4096. */
  memoryMib: number;
  /** Work directory: `${HEARTH_DATA_DIR}/instances/<instanceId>` (`HEARTH_DATA_DIR` default `<cwd>/.hearth`). */
  workDir: string;
  /** Directory of the runtime bootstraps (`HEARTH_RUNTIMES_DIR`). Default: `runtimes/` of this checkout. */
  runtimesDir: string | undefined;
}

const instanceIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

function positiveNumber(name: string, fallback: number, env: Env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${name}=${raw} is not a positive number`);
  return value;
}

/** Reads the agent's settings; throws ConfigError naming a missing or malformed variable. */
export function loadAgentConfig(env: Env = process.env): AgentConfig {
  const instanceId = envRequired('HEARTH_INSTANCE_ID', env);
  // The id names a NATS subject token and a directory: no dots-only, spaces, slashes or wildcards.
  if (!instanceIdPattern.test(instanceId)) {
    throw new ConfigError(`HEARTH_INSTANCE_ID=${instanceId} is not 1–128 letters, digits, '_' or '-'`);
  }
  const dataDir = resolve(envString('HEARTH_DATA_DIR', join(process.cwd(), '.hearth'), env));
  return {
    instanceId,
    instanceType: envString('HEARTH_INSTANCE_TYPE', '', env),
    zone: envString('HEARTH_ZONE', '', env),
    capacityProviderArn: envString('HEARTH_CAPACITY_PROVIDER_ARN', '', env),
    vcpus: positiveNumber('HEARTH_INSTANCE_VCPUS', 2, env),
    memoryMib: positiveNumber('HEARTH_INSTANCE_MEMORY_MIB', 4096, env),
    workDir: join(dataDir, 'instances', instanceId),
    runtimesDir: env.HEARTH_RUNTIMES_DIR ? resolve(env.HEARTH_RUNTIMES_DIR) : undefined,
  };
}
