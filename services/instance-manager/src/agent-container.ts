/**
 * What the docker provider asks the Docker Engine to create for an instance:
 * the container's name, environment, labels and resource limits. Pure
 * functions, so the rules are tested without a daemon (and the compose test
 * can check the environment against what the agent reads).
 */
import { createHash } from 'node:crypto';
import type { InstanceSpec } from './instance-events.js';

/** Label carrying the instance id of an agent container. */
export const instanceIdLabel = 'hearth.instance-id';
/** Label naming the cluster an agent container belongs to (`HEARTH_DOCKER_CLUSTER`). */
export const clusterLabel = 'hearth.cluster';
/** Label carrying the instance type, for `docker ps` readers. */
export const instanceTypeLabel = 'hearth.instance-type';

/** Where an agent container keeps `instances/<id>/` (the image's HEARTH_DATA_DIR; owned by its user). */
export const agentContainerDataDir = '/var/lib/hearth';

/**
 * Variables of the instance-manager's own environment an agent container
 * inherits when they are set: telemetry (`OTEL_*`) and the agent's own tuning
 * knobs. Nothing else crosses over: the manager's environment describes the
 * manager (its service name, port, database), and paths on its side
 * (HEARTH_RUNTIMES, HEARTH_RUNTIMES_DIR) mean nothing inside the agent image.
 */
export const agentPassThroughVariables: readonly string[] = [
  'HEARTH_ACCOUNT_ID',
  'HEARTH_SHUTDOWN_GRACE_MS',
  'HEARTH_LOAD_REPORT_INTERVAL_MS',
  'HEARTH_LOAD_SAMPLE_INTERVAL_MS',
  'HEARTH_CPU_WINDOW_MS',
  'HEARTH_CPU_REJECT_PERCENT',
  'HEARTH_MEMORY_REJECT_PERCENT',
];

/** Settings every agent container of a provider shares. */
export interface AgentContainerSettings {
  /** Image the agent runs from (`HEARTH_AGENT_IMAGE`); its entry point runs `services/$HEARTH_SERVICE`. */
  image: string;
  /** Docker network the containers join, the one NATS and the router are on (`HEARTH_DOCKER_NETWORK`). */
  network: string;
  /** Value of the `hearth.cluster` label and prefix of container names (`HEARTH_DOCKER_CLUSTER`). */
  cluster: string;
  /** NATS URL as reachable from inside the network (`HEARTH_AGENT_NATS_URL`, default the manager's `NATS_URL`). */
  natsUrl: string;
  /** `HEARTH_NATS_PREFIX`, the same as the manager's. */
  natsPrefix: string;
  /** `HEARTH_REGION`. */
  region: string;
  /** `HEARTH_LOG_LEVEL`. */
  logLevel: string;
  /** gRPC port the agent listens on inside its container (each container has its own network namespace). */
  agentPort: number;
  /** Bytes the daemon keeps of each container's log (json-file, two files of half each). */
  maxLogBytes: number;
  /** Values of `agentPassThroughVariables` taken from the manager's environment. */
  passThrough: Readonly<Record<string, string>>;
}

/** The picked pass-through variables of `env` (telemetry and agent tuning). */
export function agentPassThroughEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    if (name.startsWith('OTEL_') || agentPassThroughVariables.includes(name)) picked[name] = value;
  }
  return picked;
}

/** Longest container name used: a DNS label (the network's DNS resolves containers by name). */
const maxNameLength = 63;

/**
 * The container name of an instance, `<cluster>-agent-<id>`, lower case: it is
 * also the host name the router dials. An id with upper-case letters, or one
 * too long for a DNS label, gets a short hash of the exact id instead, so two
 * ids never share a name.
 */
export function agentContainerName(cluster: string, instanceId: string): string {
  const plain = `${cluster}-agent-${instanceId.toLowerCase()}`;
  if (plain.length <= maxNameLength && instanceId === instanceId.toLowerCase()) return plain;
  const hash = createHash('sha256').update(instanceId).digest('hex').slice(0, 10);
  const room = maxNameLength - `${cluster}-agent--${hash}`.length;
  return `${cluster}-agent-${instanceId.toLowerCase().slice(0, Math.max(0, room)).replace(/[-_.]+$/, '')}-${hash}`;
}

/** The CPU and memory limits of an instance's container. */
export interface AgentResourceLimits {
  /** `HostConfig.NanoCpus`: the type's vCPUs × 10⁹, at most the host's CPUs. */
  nanoCpus: number;
  /** `HostConfig.Memory` and `MemorySwap` (no swap beyond it): the type's memory in bytes. */
  memoryBytes: number;
  /** True when the type asks for more vCPUs than the host has (the daemon refuses more). */
  cpusCapped: boolean;
}

/**
 * Limits from the instance type. The Engine rejects a NanoCpus above the
 * host's CPU count ("Range of CPUs is from 0.01 to N"), so a type larger than
 * the host is capped there; memory is a cgroup ceiling and needs no cap.
 */
export function agentResourceLimits(spec: Pick<InstanceSpec, 'vcpus' | 'memoryMib'>, hostCpus: number | undefined): AgentResourceLimits {
  const wanted = spec.vcpus * 1e9;
  const ceiling = hostCpus !== undefined && hostCpus > 0 ? hostCpus * 1e9 : Number.POSITIVE_INFINITY;
  return { nanoCpus: Math.min(wanted, ceiling), memoryBytes: spec.memoryMib * 1024 * 1024, cpusCapped: wanted > ceiling };
}

/**
 * The agent's environment: what the local provider gives an agent, adapted to
 * a container — it listens on all interfaces at a fixed port of its own, and
 * advertises `<container name>:<port>`, the address other containers dial.
 */
export function agentContainerEnv(spec: InstanceSpec, settings: AgentContainerSettings): Record<string, string> {
  return {
    ...settings.passThrough,
    HEARTH_SERVICE: 'agent',
    HEARTH_INSTANCE_ID: spec.instanceId,
    HEARTH_INSTANCE_TYPE: spec.instanceType,
    HEARTH_ZONE: spec.zone,
    HEARTH_CAPACITY_PROVIDER_ARN: spec.capacityProviderArn,
    HEARTH_INSTANCE_ARCHITECTURE: spec.architecture,
    HEARTH_INSTANCE_VCPUS: String(spec.vcpus),
    HEARTH_INSTANCE_MEMORY_MIB: String(spec.memoryMib),
    HEARTH_GRPC_HOST: '0.0.0.0',
    HEARTH_GRPC_PORT: String(settings.agentPort),
    HEARTH_AGENT_ADDRESS: `${agentContainerName(settings.cluster, spec.instanceId)}:${settings.agentPort}`,
    NATS_URL: settings.natsUrl,
    HEARTH_NATS_PREFIX: settings.natsPrefix,
    HEARTH_DATA_DIR: agentContainerDataDir,
    HEARTH_REGION: settings.region,
    HEARTH_LOG_LEVEL: settings.logLevel,
  };
}

/** The body of `POST /containers/create` for an instance. */
export function agentContainerBody(spec: InstanceSpec, settings: AgentContainerSettings, hostCpus: number | undefined): Record<string, unknown> {
  const limits = agentResourceLimits(spec, hostCpus);
  const env = agentContainerEnv(spec, settings);
  return {
    Image: settings.image,
    Env: Object.entries(env).map(([name, value]) => `${name}=${value}`),
    Labels: {
      [instanceIdLabel]: spec.instanceId,
      [clusterLabel]: settings.cluster,
      [instanceTypeLabel]: spec.instanceType,
    },
    // No TTY: the log stream is then multiplexed, stdout and stderr told apart.
    Tty: false,
    OpenStdin: false,
    StopSignal: 'SIGTERM',
    HostConfig: {
      NanoCpus: limits.nanoCpus,
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes,
      // An init as PID 1 passes SIGTERM on to node and reaps the runtime processes the agent starts.
      Init: true,
      NetworkMode: settings.network,
      // The instance-manager decides about restarts (it replaces a dead instance), not the daemon.
      RestartPolicy: { Name: 'no' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': String(Math.max(1024, Math.floor(settings.maxLogBytes / 2))), 'max-file': '2' } },
      // The agent runs function code: no capabilities, no privilege escalation.
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
    },
  };
}
