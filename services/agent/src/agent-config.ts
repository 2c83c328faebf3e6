import { join, resolve } from 'node:path';
import { defaultLogMaxAgeMs, defaultLogMaxBytes } from '@hearth/bus';
import { ConfigError, envInt, envRequired, envString } from '@hearth/config';

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
  /**
   * host:port the router dials for InvokeStream, as load reports name it (`HEARTH_AGENT_ADDRESS`).
   * Default: the address the gRPC server bound, with a wildcard host replaced by this host's name.
   */
  advertisedAddress: string | undefined;
  /** Interval of load reports on `instance.<id>.load`, ms (`HEARTH_LOAD_REPORT_INTERVAL_MS`). Default 250. */
  loadReportIntervalMs: number;
  /** Interval of CPU and memory samples of the EEs, ms (`HEARTH_LOAD_SAMPLE_INTERVAL_MS`). Default 250. */
  sampleIntervalMs: number;
  /** Window CPU pressure is averaged over, ms (`HEARTH_CPU_WINDOW_MS`). Default 1000. */
  cpuWindowMs: number;
  /** CPU over the window, percent of an EE's vCPU share or of the instance's vCPUs, that rejects new work while some is in flight (`HEARTH_CPU_REJECT_PERCENT`). Default 95. */
  cpuRejectPercent: number;
  /** Resident memory, percent of an EE's MemorySize or of the instance's memory, that rejects new work (`HEARTH_MEMORY_REJECT_PERCENT`). Default 90. */
  memoryRejectPercent: number;
  /** Limits of the function log stream, used only when the agent has to create it (the api's settings win): `HEARTH_LOGS_MAX_AGE_MS` (default 24 h), `HEARTH_LOGS_MAX_BYTES` (default 1 GiB). */
  logRetention: { maxAgeMs: number; maxBytes: number };
  /** Lines waiting to be published to the function log stream at most; more are dropped and counted (`HEARTH_LOGS_BACKLOG_LINES`). Default 10000. */
  logBacklogLines: number;
  /** Bytes of those lines at most (`HEARTH_LOGS_BACKLOG_BYTES`). Default 16777216 (16 MiB). */
  logBacklogBytes: number;
}

const instanceIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

function positiveNumber(name: string, fallback: number, env: Env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${name}=${raw} is not a positive number`);
  return value;
}

function percent(name: string, fallback: number, env: Env): number {
  const value = positiveNumber(name, fallback, env);
  if (value > 100) throw new ConfigError(`${name}=${env[name]} is not a percentage in (0, 100]`);
  return value;
}

/**
 * The address load reports advertise: `HEARTH_AGENT_ADDRESS` when set, else the
 * bound one, where a wildcard host (`0.0.0.0`, `::`) — reachable but not
 * dialable — becomes `hostname`.
 */
export function advertisedAgentAddress(bound: string, configured: string | undefined, hostname: string): string {
  if (configured) return configured;
  const colon = bound.lastIndexOf(':');
  const host = bound.slice(0, colon);
  if (host === '0.0.0.0' || host === '::' || host === '[::]') return `${hostname}${bound.slice(colon)}`;
  return bound;
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
    advertisedAddress: env.HEARTH_AGENT_ADDRESS || undefined,
    loadReportIntervalMs: positiveNumber('HEARTH_LOAD_REPORT_INTERVAL_MS', 250, env),
    sampleIntervalMs: positiveNumber('HEARTH_LOAD_SAMPLE_INTERVAL_MS', 250, env),
    cpuWindowMs: positiveNumber('HEARTH_CPU_WINDOW_MS', 1_000, env),
    cpuRejectPercent: percent('HEARTH_CPU_REJECT_PERCENT', 95, env),
    memoryRejectPercent: percent('HEARTH_MEMORY_REJECT_PERCENT', 90, env),
    logRetention: {
      maxAgeMs: envInt('HEARTH_LOGS_MAX_AGE_MS', defaultLogMaxAgeMs, { min: 1_000, max: 365 * 24 * 3_600_000 }, env),
      maxBytes: envInt('HEARTH_LOGS_MAX_BYTES', defaultLogMaxBytes, { min: 1024 * 1024, max: 1024 ** 4 }, env),
    },
    logBacklogLines: envInt('HEARTH_LOGS_BACKLOG_LINES', 10_000, { min: 1, max: 10_000_000 }, env),
    logBacklogBytes: envInt('HEARTH_LOGS_BACKLOG_BYTES', 16 * 1024 * 1024, { min: 64 * 1024, max: 1024 ** 3 }, env),
  };
}
