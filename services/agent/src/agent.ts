import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectRuntimes, type RuntimeInterpreter } from '@hearth/config';
import { InvalidParameterValueException, ResourceConflictException, ResourceNotFoundException } from '@hearth/errors';
import type { agent } from '@hearth/proto';
import type { Logger } from '@hearth/telemetry';
import type { Meter } from '@opentelemetry/api';
import { emptyUsage, goodputAdmission, type AdmissionPolicy, type GoodputThresholds } from './admission.js';
import { ExecutionEnvironment, type InvokeRequest } from './environment.js';
import { startHeartbeats, type HeartbeatPublisher, type Heartbeats } from './heartbeat.js';
import { createInterpreterPlanner, defaultSandboxUser, type SandboxUser } from './interpreter-plan.js';
import type { InvocationOutcome } from './invocation-broker.js';
import { startLoadReports, type LoadReports } from './load-report.js';
import { capacityProviderNameOf, createAgentMetrics } from './metrics.js';
import type { CapturedLine } from './output-capture.js';
import { createProcfsSampler, type ProcessSampler } from './proc-sampler.js';
import { ResourceMonitor } from './resource-monitor.js';

/** Options of createAgent. */
export interface AgentOptions {
  /** The instance this agent runs (`HEARTH_INSTANCE_ID`). Required. */
  instanceId: string;
  /** The agent's work directory, `${HEARTH_DATA_DIR}/instances/<instanceId>`; EEs live in its `environments/`. */
  workDir: string;
  /** Region of EEs whose spec names none (`HEARTH_REGION`). Default `us-east-1`. */
  region?: string;
  /** Where packages come from: the code store's `get(sha256Hex)`. */
  codeStore: { get(sha256Hex: string): Promise<Uint8Array | undefined> };
  /** Publishes heartbeats on `instance.<instanceId>.heartbeat` and load reports on `instance.<instanceId>.load`; undefined = neither (tests of other parts). */
  bus?: HeartbeatPublisher;
  /** Availability zone of the instance (`HEARTH_ZONE`), in load reports and spans. Default empty. */
  zone?: string;
  /** ARN of the instance's capacity provider (`HEARTH_CAPACITY_PROVIDER_ARN`), in load reports and metric dimensions. Default empty. */
  capacityProviderArn?: string;
  /** Instance type (`HEARTH_INSTANCE_TYPE`), the `InstanceType` dimension of the capacity-provider metrics. Default empty. */
  instanceType?: string;
  /** vCPUs of the instance (`HEARTH_INSTANCE_VCPUS`): instance-wide CPU pressure is measured against them. Default 2. */
  instanceVcpus?: number;
  /** Memory of the instance, MiB (`HEARTH_INSTANCE_MEMORY_MIB`): instance-wide memory pressure is measured against it. Default 4096. */
  instanceMemoryMib?: number;
  logger: Logger;
  /** Runtimes this instance runs. Default detectRuntimes() (`HEARTH_RUNTIMES`, this Node.js, the python3 on PATH). */
  runtimes?: ReadonlyMap<string, RuntimeInterpreter>;
  /** Directory holding the bootstraps (`nodejs/bootstrap.mjs`, `python/bootstrap.py`). Default `<repo>/runtimes`. */
  runtimesDir?: string;
  /** The user EEs run as. Default `nobody` (65534) when the agent is root, else the agent's own user; null = never switch. */
  sandboxUser?: SandboxUser | null;
  /** Admission of invocations to an EE. Default goodputAdmission(goodput): concurrency, memory and CPU pressure. */
  admission?: AdmissionPolicy;
  /** Thresholds of the default admission (`HEARTH_CPU_REJECT_PERCENT` 95, `HEARTH_MEMORY_REJECT_PERCENT` 90). */
  goodput?: GoodputThresholds;
  /** Where CPU and memory of the EEs' process groups come from. Default /proc (createProcfsSampler). */
  sampler?: ProcessSampler;
  /** Interval of resource samples, ms (`HEARTH_LOAD_SAMPLE_INTERVAL_MS`). Default 250. */
  sampleIntervalMs?: number;
  /** Window CPU pressure is averaged over, ms (`HEARTH_CPU_WINDOW_MS`). Default 1000. */
  cpuWindowMs?: number;
  /** Interval of load reports, ms (`HEARTH_LOAD_REPORT_INTERVAL_MS`). Default 250. */
  loadReportIntervalMs?: number;
  /** Meter of the EE metrics. Default the global MeterProvider's (a no-op unless one is configured). */
  meter?: Meter;
  /** Interval of heartbeats, ms. Default 1000. */
  heartbeatIntervalMs?: number;
  /** Size at which an EE's output.log rotates, bytes. Default 8 MiB. */
  outputLogMaxBytes?: number;
  /** Receives every line an EE prints (the function log publisher's `offer`); must not block. Default none. */
  onOutputLine?: (line: CapturedLine) => void;
  /** Stopped and Failed EEs remembered (and listed) before the oldest is forgotten and its files removed. Default 256. */
  maxRetainedEnvironments?: number;
  /** Grace of each EE when the agent shuts down, ms. Default 2000. */
  shutdownGraceMs?: number;
}

/** An agent: the execution environments of one instance. */
export interface Agent {
  readonly instanceId: string;
  /** Starts an EE and resolves once it is Ready or Failed. Idempotent by environment id. */
  startEnvironment(spec: agent.EnvironmentSpec): Promise<agent.EnvironmentStatus>;
  /** Stops an EE (SIGTERM, SIGKILL after `graceMs`, default 2000). Unknown ids answer Stopped. */
  stopEnvironment(environmentId: string, graceMs?: number): Promise<agent.EnvironmentStatus>;
  listEnvironments(): agent.EnvironmentStatus[];
  /** Runs one invocation on one EE. */
  invoke(environmentId: string, request: InvokeRequest, signal?: AbortSignal): Promise<InvocationOutcome>;
  /** The EE of that id (any state), for InvokeStream. */
  environment(environmentId: string): ExecutionEnvironment | undefined;
  /**
   * Starts publishing load reports (needs `bus`), naming `agentAddress` (host:port
   * of this agent's gRPC server) as where to send invocations. Called once the
   * server is bound. Idempotent.
   */
  startLoadReports(agentAddress: string): void;
  /** Stops every EE (each bounded by the shutdown grace), then load reports (one last, empty) and heartbeats. Idempotent. */
  close(): Promise<void>;
}

/** `<repo>/runtimes`, from this module's place in `services/agent/{src,dist}/`. */
export const defaultRuntimesDir = fileURLToPath(new URL('../../../runtimes/', import.meta.url));

const environmentIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const sha256Pattern = /^[0-9a-f]{64}$/;

/**
 * Creates the agent of one instance. It starts EEs on request (each fetched
 * from the code store, unpacked into a private directory and run by its
 * runtime's bootstrap), serves each its Runtime API, runs invocations through
 * them, and publishes a heartbeat with every EE's state and load every second.
 */
export async function createAgent(options: AgentOptions): Promise<Agent> {
  const { logger, instanceId } = options;
  const environmentsDir = join(options.workDir, 'environments');
  // 0755 so the sandbox user can reach its own EE's directories below.
  await mkdir(environmentsDir, { recursive: true, mode: 0o755 });
  const runtimes = options.runtimes ?? detectRuntimes();
  const environments = new Map<string, ExecutionEnvironment>();
  const retained: string[] = [];
  const maxRetained = options.maxRetainedEnvironments ?? 256;
  const shutdownGraceMs = options.shutdownGraceMs ?? 2_000;
  const fetches = new Map<string, Promise<Uint8Array | undefined>>();
  let heartbeats: Heartbeats | undefined;
  let loadReports: LoadReports | undefined;
  let closing: Promise<void> | undefined;
  const zone = options.zone ?? '';
  const capacityProviderArn = options.capacityProviderArn ?? '';
  const instance = { vcpus: options.instanceVcpus ?? 2, memoryMib: options.instanceMemoryMib ?? 4096, usage: emptyUsage() };
  const liveEnvironments = function* (): Generator<ExecutionEnvironment> {
    for (const environment of environments.values()) if (environment.reportedState !== undefined) yield environment;
  };
  const monitor = new ResourceMonitor({
    sampler: options.sampler ?? createProcfsSampler(),
    environments: liveEnvironments,
    instance,
    intervalMs: options.sampleIntervalMs ?? 250,
    windowMs: options.cpuWindowMs ?? 1_000,
  });
  const metrics = createAgentMetrics({
    environments: liveEnvironments,
    instance: {
      capacityProviderName: capacityProviderNameOf(capacityProviderArn),
      instanceType: options.instanceType ?? '',
      vcpus: instance.vcpus,
      memoryMib: instance.memoryMib,
      cpuPercent: () => instance.usage.cpuPercent,
      memoryPercent: () => instance.usage.memoryPercent,
    },
    ...(options.meter ? { meter: options.meter } : {}),
  });

  const planner = createInterpreterPlanner({
    sandboxUser: options.sandboxUser === null ? undefined : (options.sandboxUser ?? defaultSandboxUser()),
    logger,
  });

  // EEs of one version started together on one instance share one download.
  const fetchCode = (sha256Hex: string): Promise<Uint8Array | undefined> => {
    let fetch = fetches.get(sha256Hex);
    if (!fetch) {
      fetch = options.codeStore.get(sha256Hex).finally(() => fetches.delete(sha256Hex));
      fetches.set(sha256Hex, fetch);
    }
    return fetch;
  };

  const ctx = {
    environmentsDir,
    region: options.region ?? 'us-east-1',
    fetchCode,
    runtimes,
    runtimesDir: options.runtimesDir ?? defaultRuntimesDir,
    planner,
    admission: options.admission ?? goodputAdmission(options.goodput),
    instanceUsage: instance.usage,
    metrics,
    instanceId,
    zone,
    capacityProviderName: capacityProviderNameOf(capacityProviderArn),
    logger,
    outputLogMaxBytes: options.outputLogMaxBytes ?? 8 * 1024 * 1024,
    onOutputLine: options.onOutputLine,
    onChange: (environment: ExecutionEnvironment) => {
      if (environment.state === 'Failed' || environment.state === 'Stopped') retain(environment.id);
      heartbeats?.soon();
      // Every change of an EE's state is a change of what the router may use: report it at once.
      loadReports?.now();
    },
  };

  // Terminal EEs stay listed (placement reads reasons from them) up to a bound; the oldest is then forgotten.
  function retain(environmentId: string): void {
    if (retained.includes(environmentId)) return;
    retained.push(environmentId);
    while (retained.length > maxRetained) {
      const oldest = retained.shift() as string;
      const environment = environments.get(oldest);
      if (environment && (environment.state === 'Stopped' || environment.state === 'Failed')) {
        environments.delete(oldest);
        void environment.removeFiles();
      }
    }
  }

  function validate(spec: agent.EnvironmentSpec | undefined): agent.EnvironmentSpec {
    if (!spec) throw new InvalidParameterValueException('StartEnvironment needs a spec');
    if (!environmentIdPattern.test(spec.environmentId)) {
      throw new InvalidParameterValueException(
        `environment_id ${JSON.stringify(spec.environmentId)} is not 1–128 letters, digits, '.', '_' or '-' starting with a letter or digit`,
      );
    }
    if (!sha256Pattern.test(spec.codeSha256Hex)) {
      throw new InvalidParameterValueException(`code_sha256_hex ${JSON.stringify(spec.codeSha256Hex)} is not a lower-case hex sha256`);
    }
    for (const field of ['functionName', 'functionArn', 'version', 'runtime', 'handler'] as const) {
      if (!spec[field]) throw new InvalidParameterValueException(`spec.${field} is required`);
    }
    if (!(spec.memorySizeMb > 0)) throw new InvalidParameterValueException('spec.memory_size_mb must be positive');
    if (spec.maxConcurrency < 0 || spec.initTimeoutMs < 0 || spec.timeoutSeconds < 0) {
      throw new InvalidParameterValueException('spec.max_concurrency, timeout_seconds and init_timeout_ms must not be negative');
    }
    return spec;
  }

  const agentApi: Agent = {
    instanceId,
    async startEnvironment(input) {
      const spec = validate(input);
      if (closing) throw new ResourceConflictException(`Agent of ${instanceId} is shutting down`);
      let environment = environments.get(spec.environmentId);
      if (environment) {
        if (environment.spec.functionArn !== spec.functionArn || environment.spec.codeSha256Hex !== spec.codeSha256Hex) {
          throw new ResourceConflictException(
            `Environment ${spec.environmentId} already runs ${environment.spec.functionArn} (code ${environment.spec.codeSha256Hex.slice(0, 12)}…)`,
          );
        }
      } else {
        environment = new ExecutionEnvironment(spec, ctx);
        environments.set(spec.environmentId, environment);
        heartbeats?.soon();
      }
      await environment.settled;
      return environment.status();
    },
    async stopEnvironment(environmentId, graceMs) {
      const environment = environments.get(environmentId);
      if (!environment) return stoppedStatus(environmentId);
      await environment.stop(graceMs && graceMs > 0 ? graceMs : 2_000);
      return environment.status();
    },
    listEnvironments() {
      return [...environments.values()].map((environment) => environment.status());
    },
    invoke(environmentId, request, signal) {
      const environment = environments.get(environmentId);
      if (!environment) return Promise.reject(new ResourceNotFoundException(`Environment ${environmentId} is not on instance ${instanceId}`));
      return environment.invoke(request, signal);
    },
    environment(environmentId) {
      return environments.get(environmentId);
    },
    startLoadReports(agentAddress) {
      if (loadReports || closing || !options.bus) return;
      loadReports = startLoadReports({
        bus: options.bus,
        agentAddress,
        intervalMs: options.loadReportIntervalMs ?? 250,
        environments: liveEnvironments,
        instance: reportedInstance,
        logger,
      });
    },
    close() {
      closing ??= (async () => {
        await Promise.all([...environments.values()].map((environment) => environment.stop(shutdownGraceMs)));
        loadReports?.stop();
        monitor.stop();
        await heartbeats?.stop();
      })();
      return closing;
    },
  };

  const reportedInstance = {
    instanceId,
    zone,
    capacityProviderArn,
    memoryMib: instance.memoryMib,
    cpuPercent: () => instance.usage.cpuPercent,
    environmentsCpuPercent: () => monitor.environmentsCpuPercent,
    memoryMiB: () => instance.usage.memoryMiB,
  };

  monitor.start();
  if (options.bus) {
    heartbeats = startHeartbeats({
      bus: options.bus,
      instanceId,
      intervalMs: options.heartbeatIntervalMs ?? 1_000,
      environments: () => [...environments.values()],
      logger,
    });
  }
  return agentApi;
}

function stoppedStatus(environmentId: string): agent.EnvironmentStatus {
  return {
    environmentId,
    state: 'Stopped',
    maxConcurrency: 0,
    initDurationMs: 0,
    pid: 0,
    runtimeApi: '',
    functionArn: '',
    version: '',
    inFlight: 0,
  };
}
