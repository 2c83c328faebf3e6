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
  /** Where instances come from (`HEARTH_INSTANCE_PROVIDER`): `local` processes, `docker` containers or `sim` (simulated in this process). Default `local`. */
  provider: 'local' | 'docker' | 'sim';
  /** Settings of the `docker` provider; undefined with any other. */
  docker: DockerProviderConfig | undefined;
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

/** Settings of the `docker` provider (read only when `HEARTH_INSTANCE_PROVIDER=docker`). */
export interface DockerProviderConfig {
  /** The Docker Engine's Unix socket (`HEARTH_DOCKER_SOCKET`). Default `/var/run/docker.sock`. */
  socketPath: string;
  /** Image agent containers run (`HEARTH_AGENT_IMAGE`). Default `hearth:dev`, the image docker-compose.yml builds. */
  agentImage: string;
  /** Network agent containers join (`HEARTH_DOCKER_NETWORK`). Default `hearth`, the compose network. */
  network: string;
  /** Label `hearth.cluster` of agent containers and prefix of their names (`HEARTH_DOCKER_CLUSTER`). Default `hearth`. */
  cluster: string;
  /** NATS URL agents use, as reachable on that network (`HEARTH_AGENT_NATS_URL`). Default the manager's `NATS_URL`. */
  agentNatsUrl: string;
}

/** Providers `HEARTH_INSTANCE_PROVIDER` may name. */
const providers = ['local', 'docker', 'sim'] as const;

/** Docker names: a letter or digit, then letters, digits, `_`, `.` or `-`. */
const dockerNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

function loadDockerProviderConfig(common: CommonConfig, env: NodeJS.ProcessEnv): DockerProviderConfig {
  const network = envString('HEARTH_DOCKER_NETWORK', 'hearth', env);
  if (!dockerNamePattern.test(network)) throw new ConfigError(`HEARTH_DOCKER_NETWORK=${network} is not a Docker network name`);
  const cluster = envString('HEARTH_DOCKER_CLUSTER', 'hearth', env);
  if (!/^[a-z0-9][a-z0-9-]{0,19}$/.test(cluster)) {
    throw new ConfigError(`HEARTH_DOCKER_CLUSTER=${cluster} is not valid (allowed: 1–20 lower-case letters, digits or -, a letter or digit first)`);
  }
  const agentImage = envString('HEARTH_AGENT_IMAGE', 'hearth:dev', env);
  if (/\s/.test(agentImage)) throw new ConfigError(`HEARTH_AGENT_IMAGE=${agentImage} is not an image reference`);
  return {
    socketPath: envString('HEARTH_DOCKER_SOCKET', '/var/run/docker.sock', env),
    agentImage,
    network,
    cluster,
    agentNatsUrl: envString('HEARTH_AGENT_NATS_URL', common.natsUrl, env),
  };
}

/** The repository root, from this file's place in `services/instance-manager/{src,dist}/`. */
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Reads the instance-manager's settings; throws ConfigError naming a malformed variable. */
export function loadInstanceManagerConfig(common: CommonConfig, env: NodeJS.ProcessEnv = process.env): InstanceManagerConfig {
  if (!common.databaseUrl) throw new ConfigError('DATABASE_URL is required by the instance-manager (instance events live in the event store)');
  const schema = envString('HEARTH_DB_SCHEMA', 'hearth', env);
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new ConfigError(`HEARTH_DB_SCHEMA=${schema} is not a lower-case SQL identifier`);
  const provider = envString('HEARTH_INSTANCE_PROVIDER', 'local', env);
  if (!providers.includes(provider as (typeof providers)[number])) {
    throw new ConfigError(`HEARTH_INSTANCE_PROVIDER=${provider} is not available (available: ${providers.join(', ')})`);
  }
  return {
    databaseUrl: common.databaseUrl,
    schema,
    provider: provider as (typeof providers)[number],
    docker: provider === 'docker' ? loadDockerProviderConfig(common, env) : undefined,
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
