/**
 * The metrics pipeline of a Hearth process: one OpenTelemetry MeterProvider,
 * registered as the global one, whose readers the standard variables choose:
 *
 * - `OTEL_METRICS_EXPORTER` — comma-separated `otlp`, `prometheus`, `console`,
 *   or `none` (Hearth's default: no collector is assumed);
 * - `otlp`: a periodic reader pushing to `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` /
 *   `OTEL_EXPORTER_OTLP_ENDPOINT` over `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL` /
 *   `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf` default, `http/json`, `grpc`)
 *   every `OTEL_METRIC_EXPORT_INTERVAL` ms (60000), each export bounded by
 *   `OTEL_METRIC_EXPORT_TIMEOUT` ms (30000, never above the interval);
 * - `prometheus`: a pull endpoint `http://<OTEL_EXPORTER_PROMETHEUS_HOST>:<OTEL_EXPORTER_PROMETHEUS_PORT>/metrics`
 *   served by this module's own HTTP server (so port 0 works and the bound
 *   address is known), which can serve more JSON documents beside it (the
 *   instance-manager's scrape-target discovery).
 *
 * Instruments created through `@opentelemetry/api` before the provider is
 * registered are no-ops for good (the metrics API has no proxy), so a process
 * starts this before it creates any.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { diag, metrics, type Attributes } from '@opentelemetry/api';
import { OTLPMetricExporter as OtlpGrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as OtlpJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OtlpProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';

/** The exporters `OTEL_METRICS_EXPORTER` may name (besides `none`). */
export type MetricsExporterName = 'otlp' | 'prometheus' | 'console';

/** OTLP transports. */
/** The OTLP transports (shared with trace export). */
export type { OtlpProtocol } from './trace-export.js';
import type { OtlpProtocol } from './trace-export.js';

/** What the environment asks of the metrics pipeline. */
export interface MetricsConfig {
  /** Empty: no MeterProvider at all (every instrument stays a no-op). */
  exporters: MetricsExporterName[];
  otlpProtocol: OtlpProtocol;
  /** Interval of the periodic (otlp, console) readers, ms. */
  exportIntervalMs: number;
  /** Deadline of one periodic export, ms (at most the interval). */
  exportTimeoutMs: number;
  /** Host the Prometheus endpoint binds. */
  prometheusHost: string;
  /** Port it binds; 0 = any free one (the bound one is reported). */
  prometheusPort: number;
}

/** A metrics variable that does not parse. */
export class MetricsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsConfigError';
  }
}

const exporterNames: readonly string[] = ['otlp', 'prometheus', 'console', 'none'];
const protocols: readonly string[] = ['http/protobuf', 'http/json', 'grpc'];

/** The OTel default Prometheus port, used when neither the variable nor the caller gives one. */
export const defaultPrometheusPort = 9464;

function nonNegativeInt(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new MetricsConfigError(`${name}=${raw} is not an integer in 0–${max}`);
  }
  return value;
}

/**
 * Reads the metrics variables. `defaultPort` is the Prometheus port when
 * `OTEL_EXPORTER_PROMETHEUS_PORT` is unset (a service's own default, so the
 * processes of one host do not collide). Throws MetricsConfigError naming a
 * malformed variable and what it allows.
 */
export function metricsConfigFromEnv(env: NodeJS.ProcessEnv = process.env, defaultPort: number = defaultPrometheusPort): MetricsConfig {
  const listed = (env.OTEL_METRICS_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of listed) {
    if (!exporterNames.includes(name)) {
      throw new MetricsConfigError(`OTEL_METRICS_EXPORTER=${env.OTEL_METRICS_EXPORTER} names "${name}"; allowed: otlp, prometheus, console, none (comma-separated)`);
    }
  }
  const exporters = listed.includes('none') ? [] : ([...new Set(listed)] as MetricsExporterName[]);
  const protocolVariable = env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL?.trim() ? 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = env[protocolVariable]?.trim() || 'http/protobuf';
  if (!protocols.includes(protocol)) {
    throw new MetricsConfigError(`${protocolVariable}=${protocol} is not an OTLP protocol; allowed: http/protobuf, http/json, grpc`);
  }
  const exportIntervalMs = nonNegativeInt(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000, 86_400_000);
  if (exportIntervalMs === 0) throw new MetricsConfigError('OTEL_METRIC_EXPORT_INTERVAL=0 is not allowed; give milliseconds ≥ 1');
  const exportTimeoutMs = Math.min(nonNegativeInt(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000, 86_400_000), exportIntervalMs);
  return {
    exporters,
    otlpProtocol: protocol as OtlpProtocol,
    exportIntervalMs,
    exportTimeoutMs,
    prometheusHost: env.OTEL_EXPORTER_PROMETHEUS_HOST?.trim() || '127.0.0.1',
    prometheusPort: nonNegativeInt(env, 'OTEL_EXPORTER_PROMETHEUS_PORT', defaultPort, 65_535),
  };
}

/** The OTLP metric exporter of a protocol; endpoint, headers and temporality come from the standard OTLP variables. */
export function createOtlpMetricExporter(protocol: OtlpProtocol): PushMetricExporter {
  switch (protocol) {
    case 'grpc':
      return new OtlpGrpcMetricExporter();
    case 'http/json':
      return new OtlpJsonMetricExporter();
    case 'http/protobuf':
      return new OtlpProtoMetricExporter();
  }
}

/** Options of startMetrics. */
export interface MetricsOptions {
  /** `service.name` of the resource. */
  serviceName: string;
  /** More resource attributes, e.g. `service.instance.id` of an agent. */
  resourceAttributes?: Attributes;
  /** Prometheus port when `OTEL_EXPORTER_PROMETHEUS_PORT` is unset. Default 9464. */
  defaultPrometheusPort?: number;
  /** Readers added to those the environment asks for (tests). */
  extraReaders?: MetricReader[];
  /** Register the provider as the global one. Default true. */
  register?: boolean;
}

/** A started metrics pipeline. */
export interface MetricsPipeline {
  readonly config: MetricsConfig;
  /** The provider, undefined when no exporter is configured (and no extra reader given). */
  readonly meterProvider: MeterProvider | undefined;
  /** `host:port` the Prometheus endpoint answers on (`/metrics`), when the `prometheus` exporter is on. */
  readonly prometheusAddress: string | undefined;
  /**
   * Serves `produce()` as JSON at `path` on the Prometheus endpoint's server
   * (e.g. a Prometheus `http_sd` document). A no-op when that server is off.
   */
  serveJson(path: string, produce: () => unknown): void;
  forceFlush(): Promise<void>;
  /** Exports what is buffered, stops the readers and closes the endpoint. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Starts the metrics pipeline the environment describes (see the module
 * comment); resolves once the Prometheus endpoint, if any, is listening.
 * Rejects with MetricsConfigError on a malformed variable, or with the
 * listen error (e.g. EADDRINUSE) of the endpoint.
 */
export async function startMetrics(options: MetricsOptions, env: NodeJS.ProcessEnv = process.env): Promise<MetricsPipeline> {
  const config = metricsConfigFromEnv(env, options.defaultPrometheusPort ?? defaultPrometheusPort);
  const readers: MetricReader[] = [...(options.extraReaders ?? [])];
  let prometheus: PrometheusExporter | undefined;
  for (const exporter of config.exporters) {
    if (exporter === 'prometheus') {
      // Served by our own server below: the exporter's own ignores port 0 and hides the bound port.
      prometheus = new PrometheusExporter({ preventServerStart: true });
      readers.push(prometheus);
    } else {
      const pushExporter = exporter === 'otlp' ? createOtlpMetricExporter(config.otlpProtocol) : new ConsoleMetricExporter();
      readers.push(
        new PeriodicExportingMetricReader({ exporter: pushExporter, exportIntervalMillis: config.exportIntervalMs, exportTimeoutMillis: config.exportTimeoutMs }),
      );
    }
  }

  const routes = new Map<string, () => unknown>();
  let server: Server | undefined;
  let prometheusAddress: string | undefined;
  if (prometheus) {
    const exporter = prometheus;
    server = createServer((request, response) => handle(request, response, exporter, routes));
    prometheusAddress = await listen(server, config.prometheusHost, config.prometheusPort);
    // Never the reason a process stays alive.
    server.unref();
  }

  const meterProvider =
    readers.length > 0
      ? new MeterProvider({
          resource: resourceFromAttributes({ 'service.name': options.serviceName, 'service.namespace': 'hearth', ...options.resourceAttributes }),
          readers,
        })
      : undefined;
  if (meterProvider && options.register !== false && !metrics.setGlobalMeterProvider(meterProvider)) {
    diag.warn(`a global MeterProvider was already registered; ${options.serviceName}'s metrics go to that one`);
  }

  let stopping: Promise<void> | undefined;
  return {
    config,
    meterProvider,
    prometheusAddress,
    serveJson(path, produce) {
      routes.set(path, produce);
    },
    forceFlush: async () => {
      await meterProvider?.forceFlush();
    },
    shutdown: () =>
      (stopping ??= (async () => {
        await meterProvider?.shutdown().catch(() => undefined);
        if (server) {
          const closing = server;
          await new Promise<void>((resolve) => closing.close(() => resolve()));
          closing.closeAllConnections();
        }
      })()),
  };
}

function handle(request: IncomingMessage, response: ServerResponse, exporter: PrometheusExporter, routes: Map<string, () => unknown>): void {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  if (path === '/metrics') {
    exporter.getMetricsRequestHandler(request, response);
    return;
  }
  const produce = path === undefined ? undefined : routes.get(path);
  if (!produce) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found; metrics are at /metrics${routes.size > 0 ? `, also ${[...routes.keys()].join(', ')}` : ''}\n`);
    return;
  }
  try {
    const body = JSON.stringify(produce());
    response.writeHead(200, { 'content-type': 'application/json' }).end(body);
  } catch (error) {
    response.writeHead(500, { 'content-type': 'text/plain' }).end(`could not produce ${path}: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

/** Listens and resolves with the dialable `host:port` (a wildcard host becomes this host's name). */
function listen(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(new Error(`the Prometheus endpoint could not listen on ${host}:${port}: ${error.message}`, { cause: error }));
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      const wildcard = host === '0.0.0.0' || host === '::' || host === '[::]';
      const shown = wildcard ? hostname() : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
      resolve(`${shown}:${bound}`);
    });
  });
}
