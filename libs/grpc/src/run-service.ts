import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { defaultGrpcPorts, defaultMetricsPorts, envInt, loadCommonConfig, type CommonConfig, type ServiceName } from '@hearth/config';
import type { Attributes } from '@opentelemetry/api';
import { createLogger, startMetrics, startTelemetry, type Logger, type MetricsPipeline, type Telemetry } from '@hearth/telemetry';

/** What a service's setup receives. */
export interface ServiceContext {
  name: ServiceName;
  config: CommonConfig;
  logger: Logger;
  /** This process's tracing: its exporter and resource, for spans made outside its tracer (Temporal workflow spans). */
  telemetry: Telemetry;
  /** Adds a gRPC service to this process's server. */
  addService(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void;
  /** Registers cleanup to run at shutdown, in reverse order of registration, each bounded by the grace period. */
  onShutdown(fn: () => Promise<void> | void): void;
  /** Sets the health of a named sub-service (the empty name is the whole process). */
  setHealth(service: string, status: 'SERVING' | 'NOT_SERVING'): void;
  /** The process's metrics pipeline, started before setup (so instruments created in setup are live). */
  metrics: MetricsPipeline;
}

/** Options of runService. */
export interface ServiceDefinitionOptions {
  name: ServiceName;
  /** Wires the service: connect dependencies, add gRPC services, start loops. May return fields for the ready line. */
  setup(ctx: ServiceContext): Promise<Record<string, unknown> | void>;
  /** Largest inbound gRPC message, bytes. Default 4 MiB. */
  maxReceiveMessageBytes?: number;
  /** Resource attributes of the process's metrics beyond `service.name`, e.g. an agent's `service.instance.id`. */
  metricsResourceAttributes?: Attributes;
}

/** A started service. */
export interface RunningService {
  grpcAddress: string;
  /** `host:port` of the Prometheus metrics endpoint (`/metrics`), when the `prometheus` exporter is on. */
  metricsAddress: string | undefined;
  /** Stops gracefully; idempotent. */
  stop(): Promise<void>;
}

/**
 * The entry point of every Hearth service: telemetry, JSON logs, config from
 * the environment, a gRPC server with the standard health service on
 * `HEARTH_GRPC_PORT` (default: the service's own port), and a graceful,
 * idempotent shutdown on SIGTERM/SIGINT: health goes NOT_SERVING, the server
 * stops accepting and drains in-flight calls up to `HEARTH_SHUTDOWN_GRACE_MS`,
 * cleanups run, and the process exits 0. When ready it logs one line with
 * `event: "service.ready"`, which the supervisor waits for. Metrics (see
 * startMetrics) start before setup; the ready line names the Prometheus
 * endpoint as `metrics` when there is one.
 */
export async function runService(options: ServiceDefinitionOptions): Promise<RunningService> {
  const telemetry = startTelemetry({ serviceName: `hearth-${options.name}` });
  const logger = createLogger(options.name);
  const config = loadCommonConfig();
  const port = envInt('HEARTH_GRPC_PORT', defaultGrpcPorts[options.name], { min: 0, max: 65535 });
  const server = new Server({
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 4 * 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
  });
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  const cleanups: Array<() => Promise<void> | void> = [];
  let metricsPipeline: MetricsPipeline | undefined;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      logger.info({ event: 'service.stopping' }, 'shutting down');
      health.setStatus('', 'NOT_SERVING');
      await drainServer(server, config.shutdownGraceMs);
      for (const cleanup of cleanups.reverse()) {
        await withDeadline(Promise.resolve().then(cleanup), config.shutdownGraceMs).catch((error: unknown) =>
          logger.warn({ err: error }, 'cleanup failed during shutdown'),
        );
      }
      await metricsPipeline?.shutdown().catch(() => undefined);
      await telemetry.shutdown().catch(() => undefined);
      logger.info({ event: 'service.stopped' }, 'stopped');
    })();
    return stopping;
  };

  try {
    metricsPipeline = await startMetrics({
      serviceName: `hearth-${options.name}`,
      defaultPrometheusPort: defaultMetricsPorts[options.name],
      ...(options.metricsResourceAttributes ? { resourceAttributes: options.metricsResourceAttributes } : {}),
    });
  } catch (error) {
    logger.fatal({ err: error }, `${options.name} failed to start its metrics`);
    await stop();
    throw error;
  }
  const metricsAddress = metricsPipeline.prometheusAddress;

  const ctx: ServiceContext = {
    name: options.name,
    config,
    logger,
    telemetry,
    addService: (definition, implementation) => server.addService(definition, implementation),
    onShutdown: (fn) => cleanups.push(fn),
    setHealth: (service, status) => health.setStatus(service, status),
    metrics: metricsPipeline,
  };

  try {
    const extra = (await options.setup(ctx)) ?? {};
    const boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${config.grpcHost}:${port}`, ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    health.setStatus('', 'SERVING');
    const grpcAddress = `${config.grpcHost}:${boundPort}`;
    logger.info({ event: 'service.ready', grpc: grpcAddress, ...(metricsAddress ? { metrics: metricsAddress } : {}), ...extra }, `${options.name} ready`);
    return { grpcAddress, metricsAddress, stop };
  } catch (error) {
    logger.fatal({ err: error }, `${options.name} failed to start`);
    await stop();
    throw error;
  }
}

/** Runs a service as the process's main: exits 0 after a graceful stop on SIGTERM/SIGINT, 1 if start fails. */
export function runServiceMain(options: ServiceDefinitionOptions): void {
  // A bug that escapes every handler leaves the process in an unknown state: log it as one
  // JSON line and exit non-zero, so the supervisor restarts a clean process (and logs that).
  const crashLogger = createLogger(options.name);
  const crash = (kind: string) => (error: unknown) => {
    crashLogger.fatal({ err: error, event: 'service.crashed', kind }, `${options.name} crashed: ${kind}`);
    process.exit(1);
  };
  process.on('uncaughtException', crash('uncaughtException'));
  process.on('unhandledRejection', crash('unhandledRejection'));
  runService(options).then(
    (service) => {
      const onSignal = () => void service.stop().then(() => process.exit(0));
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    },
    () => process.exit(1),
  );
}

function drainServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
