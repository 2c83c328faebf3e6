import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, envInt, envString, type CommonConfig } from '@hearth/config';
import { defaultInstanceMaxAgeMs } from './instance-manager.js';

/** Settings of the instance-manager service, from the environment. */
export interface InstanceManagerConfig {
  /** Postgres URL of the event store (`DATABASE_URL`). Required. */
  databaseUrl: string;
  /** Schema of the event store and read models (`HEARTH_DB_SCHEMA`). Default `hearth`. */
  schema: string;
  /** Where instances come from (`HEARTH_INSTANCE_PROVIDER`): `local` (agent processes) or `sim` (simulated in this process). Default `local`. */
  provider: 'local' | 'sim';
  /** The agent's entry, run with this Node.js (`HEARTH_AGENT_ENTRY`). Default `<repo>/services/agent/dist/main.js`. */
  agentEntry: string;
  /** Directory holding `instances/<id>/` (`HEARTH_DATA_DIR`). Default `<repo>/.hearth/services/instance-manager`. */
  dataDir: string;
  /** A Running instance not heard from for this long is Unhealthy (`HEARTH_HEARTBEAT_TIMEOUT_MS`). Default 3000. */
  heartbeatTimeoutMs: number;
  /** Deadline from launch request to ready agent (`HEARTH_INSTANCE_LAUNCH_TIMEOUT_MS`). Default 30000. */
  launchTimeoutMs: number;
  /** Time an agent gets to stop its EEs on terminate before it is killed (`HEARTH_AGENT_STOP_TIMEOUT_MS`). Default 10000. */
  agentStopTimeoutMs: number;
  /** A Running instance older than this is due for rotation (`HEARTH_INSTANCE_MAX_AGE_MS`). Default 14 days. */
  instanceMaxAgeMs: number;
  /** Most instances this process runs at once (`HEARTH_MAX_INSTANCES`). Default 1000. */
  maxInstances: number;
  /** Bytes each instance's `agent.log` and `agent.log.1` may hold together (`HEARTH_AGENT_LOG_MAX_BYTES`). Default 10 MiB. */
  agentLogMaxBytes: number;
  /** `HEARTH_LOG_LEVEL`, passed on to agents. Default `info`. */
  logLevel: string;
}

/** The repository root, from this file's place in `services/instance-manager/{src,dist}/`. */
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Reads the instance-manager's settings; throws ConfigError naming a malformed variable. */
export function loadInstanceManagerConfig(common: CommonConfig, env: NodeJS.ProcessEnv = process.env): InstanceManagerConfig {
  if (!common.databaseUrl) throw new ConfigError('DATABASE_URL is required by the instance-manager (instance events live in the event store)');
  const schema = envString('HEARTH_DB_SCHEMA', 'hearth', env);
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new ConfigError(`HEARTH_DB_SCHEMA=${schema} is not a lower-case SQL identifier`);
  const provider = envString('HEARTH_INSTANCE_PROVIDER', 'local', env);
  if (provider !== 'local' && provider !== 'sim') {
    throw new ConfigError(`HEARTH_INSTANCE_PROVIDER=${provider} is not available (available: local, sim; docker is planned, not built)`);
  }
  return {
    databaseUrl: common.databaseUrl,
    schema,
    provider,
    agentEntry: envString('HEARTH_AGENT_ENTRY', join(repoRoot, 'services', 'agent', 'dist', 'main.js'), env),
    dataDir: envString('HEARTH_DATA_DIR', join(repoRoot, '.hearth', 'services', 'instance-manager'), env),
    heartbeatTimeoutMs: envInt('HEARTH_HEARTBEAT_TIMEOUT_MS', 3_000, { min: 100, max: 600_000 }, env),
    launchTimeoutMs: envInt('HEARTH_INSTANCE_LAUNCH_TIMEOUT_MS', 30_000, { min: 100, max: 600_000 }, env),
    agentStopTimeoutMs: envInt('HEARTH_AGENT_STOP_TIMEOUT_MS', 10_000, { min: 0, max: 600_000 }, env),
    instanceMaxAgeMs: envInt('HEARTH_INSTANCE_MAX_AGE_MS', defaultInstanceMaxAgeMs, { min: 1_000, max: 365 * 24 * 3_600_000 }, env),
    maxInstances: envInt('HEARTH_MAX_INSTANCES', 1_000, { min: 1, max: 100_000 }, env),
    agentLogMaxBytes: envInt('HEARTH_AGENT_LOG_MAX_BYTES', 10 * 1024 * 1024, { min: 1024, max: 1024 * 1024 * 1024 }, env),
    logLevel: envString('HEARTH_LOG_LEVEL', 'info', env),
  };
}
