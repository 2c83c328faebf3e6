import { ConfigError, envInt, envString } from './env.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Settings every Hearth service shares. */
export interface CommonConfig {
  /** Postgres connection URL (`DATABASE_URL`). No default: required by services that store events. */
  databaseUrl: string | undefined;
  /** NATS server URL (`NATS_URL`). Default `nats://127.0.0.1:4222`. */
  natsUrl: string;
  /** Temporal frontend address (`TEMPORAL_ADDRESS`). Default `127.0.0.1:7233`. */
  temporalAddress: string;
  /** Temporal namespace (`TEMPORAL_NAMESPACE`). Default `default`. */
  temporalNamespace: string;
  /** Host the gRPC server binds (`HEARTH_GRPC_HOST`). Default `127.0.0.1`. */
  grpcHost: string;
  /** Region reported in ARNs (`HEARTH_REGION`). Default `us-east-1`. */
  region: string;
  /** Account id reported in ARNs (`HEARTH_ACCOUNT_ID`). Default `000000000000`. */
  accountId: string;
  /** Milliseconds a graceful shutdown may take before in-flight work is abandoned (`HEARTH_SHUTDOWN_GRACE_MS`). Default 10000. */
  shutdownGraceMs: number;
}

/** Reads the settings every service shares. */
export function loadCommonConfig(env: Env = process.env): CommonConfig {
  const accountId = envString('HEARTH_ACCOUNT_ID', '000000000000', env);
  if (!/^\d{12}$/.test(accountId)) throw new ConfigError(`HEARTH_ACCOUNT_ID=${accountId} is not 12 digits`);
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    natsUrl: envString('NATS_URL', 'nats://127.0.0.1:4222', env),
    temporalAddress: envString('TEMPORAL_ADDRESS', '127.0.0.1:7233', env),
    temporalNamespace: envString('TEMPORAL_NAMESPACE', 'default', env),
    grpcHost: envString('HEARTH_GRPC_HOST', '127.0.0.1', env),
    region: envString('HEARTH_REGION', 'us-east-1', env),
    accountId,
    shutdownGraceMs: envInt('HEARTH_SHUTDOWN_GRACE_MS', 10_000, { min: 0, max: 600_000 }, env),
  };
}

/** Default gRPC port of each service (`HEARTH_GRPC_PORT` overrides for the one process). */
export const defaultGrpcPorts: Readonly<Record<ServiceName, number>> = Object.freeze({
  api: 50051,
  placement: 50052,
  'instance-manager': 50053,
  router: 50054,
  agent: 50055,
  scaler: 50056,
});

/**
 * Default Prometheus port of each service's metrics endpoint when the
 * `prometheus` metrics exporter is on (`OTEL_EXPORTER_PROMETHEUS_PORT`
 * overrides for the one process): 9464 (OpenTelemetry's default) plus the
 * service's place in start order. Agents launched by the local provider use a
 * free port instead (`HEARTH_AGENT_METRICS_PORT`, default 0), advertised
 * through the instance-manager's discovery document.
 */
export const defaultMetricsPorts: Readonly<Record<ServiceName, number>> = Object.freeze({
  api: 9464,
  placement: 9465,
  'instance-manager': 9466,
  router: 9467,
  agent: 9468,
  scaler: 9469,
});

/** The six Hearth services. */
export type ServiceName = 'api' | 'placement' | 'instance-manager' | 'router' | 'agent' | 'scaler';

/** All service names, in start order. */
export const serviceNames: readonly ServiceName[] = Object.freeze([
  'api',
  'placement',
  'instance-manager',
  'router',
  'agent',
  'scaler',
]);

/**
 * The services a supervisor (`npm start`, compose, test clusters) runs as
 * long-lived processes: all but the agent, which runs once per instance and is
 * launched by the instance-manager.
 */
export const supervisedServiceNames: readonly ServiceName[] = Object.freeze(serviceNames.filter((name) => name !== 'agent'));

