/**
 * A whole Hearth cluster on this host: infrastructure (resolved, or given) and
 * the six services as supervised child processes, in start order, each
 * configured only through its environment.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultGrpcPorts, defaultMetricsPorts, serviceNames, supervisedServiceNames, type ServiceName } from '@hearth/config';
import type { InfraEndpoints, InfraMode } from './infra-types.js';
import { assertPortFree, loopback, pickFreePort } from './ports.js';
import { persistentDataDir, repoRoot, resolveInfra, type ResolveInfraOptions } from './resolve-infra.js';
import type { RestartBackoffPolicy } from './restart-backoff.js';
import { SupervisedService, type ServiceStatus } from './supervised-service.js';
import { SupervisorLog, type SupervisorEvent } from './supervisor-log.js';
import { createOwnedTempDir, keepTempDir } from './temp-dirs.js';

/** Default HTTP port of the api service's Lambda-compatible API in persistent mode. */
export const defaultHttpPort = 9000;

/** Log files above this size are rotated (one `.1` generation) when a persistent cluster starts. */
const maxLogBytes = 10 * 1024 * 1024;

/** How to start a cluster. */
export interface ClusterOptions {
  /**
   * `persistent` (`npm start`): fixed ports, state under `dataDir` kept across
   * restarts. `ephemeral` (tests): every port picked free, state in a temp dir
   * removed on stop, so several clusters can run side by side.
   */
  mode: InfraMode;
  /** State and logs directory. Default: persistent `$HEARTH_DATA_DIR` or `<repo>/.hearth`; ephemeral a fresh temp dir. */
  dataDir?: string;
  /** Port of api's HTTP API. Default: persistent 9000, ephemeral free. */
  httpPort?: number;
  /** gRPC port of api; the others follow in start order (api +0 … scaler +5). Default: persistent 50051, ephemeral free ports. */
  grpcPortBase?: number;
  /**
   * Port of api's Prometheus metrics endpoint; the others follow in start order
   * (api +0 … scaler +5), each passed as `OTEL_EXPORTER_PROMETHEUS_PORT`. Used
   * only when `OTEL_METRICS_EXPORTER` includes `prometheus`. Default: persistent
   * 9464, ephemeral free ports. Agents always take free ones (see the instance-manager).
   */
  metricsPortBase?: number;
  /** Extra environment for every service (cannot override the URLs, ports and data dir the cluster assigns). */
  env?: Readonly<Record<string, string>>;
  /** Services to run, started in Hearth's order whatever the order given. Default every supervised service (all but the agent, which the instance-manager launches per instance). */
  services?: readonly ServiceName[];
  /** The script a service runs. Default `<repo>/services/<name>/dist/main.js`. */
  serviceEntry?: (name: ServiceName) => string;
  /** Use this infrastructure (not stopped by `stop()`). Default: `resolveInfra` in this mode, owned and stopped by the cluster. */
  infra?: InfraEndpoints;
  /** Options for `resolveInfra` when `infra` is not given (e.g. fixed ports). */
  infraOptions?: Omit<ResolveInfraOptions, 'mode' | 'dataDir'>;
  /** `HEARTH_LOG_LEVEL` of the services. Default `$HEARTH_LOG_LEVEL`, else `info`. */
  logLevel?: string;
  /** Milliseconds each service may take to print its ready line. Default 30000. */
  readyTimeoutMs?: number;
  /** Milliseconds each service may take to exit after SIGTERM before SIGKILL. Default 15000 (services drain for up to 10 s). */
  stopTimeoutMs?: number;
  /** Restart delays after a crash. Default 0.5 s doubling to 30 s, reset after 60 s of uptime. */
  restartBackoff?: RestartBackoffPolicy;
  /** Keep an ephemeral cluster's temp dir (logs) after stop, exempt from the sweep of abandoned temp dirs. Default false. */
  keepDataDir?: boolean;
  /** Receives every supervisor event (they also go to `<dataDir>/logs/supervisor.log`). */
  onEvent?: (event: SupervisorEvent) => void;
}

/** A running cluster. */
export interface Cluster {
  /** api's Lambda-compatible HTTP API, e.g. `http://127.0.0.1:9000`. */
  httpEndpoint: string;
  /** gRPC address (`host:port`) of every service (assigned even to services not run). */
  grpcEndpoints: Readonly<Record<ServiceName, string>>;
  /**
   * URL of the Prometheus endpoint (`http://127.0.0.1:<port>/metrics`) of every
   * service run, when the services' `OTEL_METRICS_EXPORTER` includes
   * `prometheus`; else empty. The agents' endpoints are listed by the
   * instance-manager's at `/discovery/agents` (a Prometheus `http_sd` document).
   */
  metricsEndpoints: Readonly<Partial<Record<ServiceName, string>>>;
  /** Where the infrastructure answers. */
  infra: InfraEndpoints;
  /** Temporal Web UI URL when the cluster started a local Temporal with its UI (persistent mode), else undefined. */
  temporalUiUrl: string | undefined;
  /** State directory. */
  dataDir: string;
  /** Log directory: `<service>.log`, `supervisor.log` and the infrastructure's logs. */
  logsDir: string;
  /** State of each service that runs. */
  status(): ServiceStatus[];
  /** Stops the services (SIGTERM, SIGKILL after the deadline), then the infrastructure it started. Idempotent. */
  stop(): Promise<void>;
}

/** The environment variable through which every service learns where `name` answers gRPC, e.g. `HEARTH_ROUTER_GRPC_ADDRESS`. */
export function grpcAddressVariable(name: ServiceName): string {
  return `HEARTH_${name.toUpperCase().replace(/-/g, '_')}_GRPC_ADDRESS`;
}

/** Starts the infrastructure (unless given) and the services; resolves when every service is ready. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { mode } = options;
  const ephemeral = mode === 'ephemeral';
  const ownsDir = ephemeral && !options.dataDir;
  const dataDir = options.dataDir
    ? resolve(options.dataDir)
    : ephemeral
      ? createOwnedTempDir('hearth-cluster-')
      : persistentDataDir();
  mkdirSync(dataDir, { recursive: true });
  const logsDir = join(dataDir, 'logs');
  mkdirSync(logsDir, { recursive: true });

  const wanted = new Set(options.services ?? supervisedServiceNames);
  const names = serviceNames.filter((name) => wanted.has(name));
  const { grpcPorts, httpPort } = await assignPorts(mode, names, options);
  const prometheusOn = prometheusExporterOn(options.env?.OTEL_METRICS_EXPORTER ?? process.env.OTEL_METRICS_EXPORTER);
  const metricsPorts = await assignMetricsPorts(mode, names, options, prometheusOn);
  const metricsEndpoints: Partial<Record<ServiceName, string>> = prometheusOn
    ? Object.fromEntries(names.map((name) => [name, `http://${loopback}:${metricsPorts[name]}/metrics`]))
    : {};
  const grpcEndpoints = Object.fromEntries(serviceNames.map((name) => [name, `${loopback}:${grpcPorts[name]}`])) as Record<
    ServiceName,
    string
  >;

  const ownedInfra = options.infra ? undefined : await resolveInfra({ ...options.infraOptions, mode, dataDir });
  const infra: InfraEndpoints = options.infra ?? (ownedInfra as InfraEndpoints);
  const log = new SupervisorLog(join(logsDir, 'supervisor.log'), options.onEvent);
  const entry = options.serviceEntry ?? ((name: ServiceName) => join(repoRoot(), 'services', name, 'dist', 'main.js'));
  // Inherit PATH and friends, but not a port meant for hearth-up itself: only api gets HEARTH_HTTP_PORT.
  const { HEARTH_HTTP_PORT: _ignored, ...inherited } = process.env;
  const peerAddresses = Object.fromEntries(serviceNames.map((name) => [grpcAddressVariable(name), grpcEndpoints[name]]));

  const services: SupervisedService[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const results = await Promise.allSettled(services.map((service) => service.stop()));
      await ownedInfra?.stop();
      if (ownsDir && options.keepDataDir) keepTempDir(dataDir);
      else if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
      const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed.length > 0) throw new AggregateError(failed.map((result) => result.reason), 'some services did not stop');
    })());

  try {
    for (const name of names) {
      const script = entry(name);
      if (!existsSync(script)) throw new Error(`${name}: ${script} does not exist (build it with: npm run build)`);
      const serviceDataDir = join(dataDir, 'services', name);
      mkdirSync(serviceDataDir, { recursive: true });
      const logFile = join(logsDir, `${name}.log`);
      if (!ephemeral) rotateIfLarge(logFile);
      const service = new SupervisedService({
        name,
        entry: script,
        env: {
          ...inherited,
          HEARTH_LOG_LEVEL: options.logLevel ?? (process.env.HEARTH_LOG_LEVEL || 'info'),
          ...options.env,
          ...peerAddresses,
          DATABASE_URL: infra.databaseUrl,
          NATS_URL: infra.natsUrl,
          TEMPORAL_ADDRESS: infra.temporalAddress,
          HEARTH_GRPC_PORT: String(grpcPorts[name]),
          OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPorts[name]),
          ...(name === 'api' ? { HEARTH_HTTP_PORT: String(httpPort) } : {}),
          HEARTH_DATA_DIR: serviceDataDir,
        },
        logFile,
        readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
        stopTimeoutMs: options.stopTimeoutMs ?? 15_000,
        backoff: options.restartBackoff,
        log,
      });
      services.push(service);
      await service.start();
    }
  } catch (error) {
    // Keep an ephemeral dir on failure: its logs are what explains the failure.
    await stopAfterFailedStart(services, ownedInfra);
    throw error;
  }

  return {
    httpEndpoint: `http://${loopback}:${httpPort}`,
    grpcEndpoints,
    metricsEndpoints,
    infra: { databaseUrl: infra.databaseUrl, natsUrl: infra.natsUrl, temporalAddress: infra.temporalAddress },
    temporalUiUrl: ownedInfra?.temporalUiUrl,
    dataDir,
    logsDir,
    status: () => services.map((service) => service.status()),
    stop,
  };
}

async function stopAfterFailedStart(services: SupervisedService[], infra: { stop(): Promise<void> } | undefined): Promise<void> {
  await Promise.allSettled(services.map((service) => service.stop()));
  await infra?.stop().catch(() => {});
}

async function assignPorts(
  mode: InfraMode,
  names: readonly ServiceName[],
  options: ClusterOptions,
): Promise<{ grpcPorts: Record<ServiceName, number>; httpPort: number }> {
  const grpcPorts = {} as Record<ServiceName, number>;
  if (mode === 'ephemeral' && options.grpcPortBase === undefined) {
    for (const name of serviceNames) grpcPorts[name] = await pickFreePort();
  } else {
    const base = options.grpcPortBase ?? defaultGrpcPorts.api;
    serviceNames.forEach((name, index) => {
      grpcPorts[name] = base + index;
    });
    for (const name of names) await assertPortFree(grpcPorts[name], `${name}-grpc`);
  }
  let httpPort = options.httpPort ?? (mode === 'ephemeral' ? 0 : defaultHttpPort);
  if (httpPort === 0) httpPort = await pickFreePort();
  else if (names.includes('api')) await assertPortFree(httpPort, 'api-http');
  return { grpcPorts, httpPort };
}

/** Whether an `OTEL_METRICS_EXPORTER` value turns the Prometheus endpoint on. */
function prometheusExporterOn(value: string | undefined): boolean {
  const names = (value ?? '').split(',').map((name) => name.trim());
  return names.includes('prometheus') && !names.includes('none');
}

/** Metrics ports: free ones in ephemeral mode (unless a base is given), else base + start order, checked free when the endpoint is on. */
async function assignMetricsPorts(
  mode: InfraMode,
  names: readonly ServiceName[],
  options: ClusterOptions,
  prometheusOn: boolean,
): Promise<Record<ServiceName, number>> {
  const ports = {} as Record<ServiceName, number>;
  if (mode === 'ephemeral' && options.metricsPortBase === undefined) {
    for (const name of serviceNames) ports[name] = prometheusOn && names.includes(name) ? await pickFreePort() : 0;
    return ports;
  }
  const base = options.metricsPortBase ?? defaultMetricsPorts.api;
  serviceNames.forEach((name, index) => {
    ports[name] = base + index;
  });
  if (prometheusOn) for (const name of names) await assertPortFree(ports[name], `${name}-metrics`);
  return ports;
}

function rotateIfLarge(file: string): void {
  try {
    if (statSync(file).size > maxLogBytes) renameSync(file, `${file}.1`);
  } catch {
    // No log yet.
  }
}
