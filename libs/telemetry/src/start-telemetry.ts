import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator, W3CBaggagePropagator, CompositePropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** Options of startTelemetry. */
export interface TelemetryOptions {
  /** `service.name` of the resource. */
  serviceName: string;
  /**
   * Span processors to use instead of those the `OTEL_*` variables describe
   * (tests pass an in-memory exporter here). Default: from the environment.
   */
  spanProcessors?: SpanProcessor[];
}

/** A started telemetry pipeline; `shutdown()` flushes what is buffered. */
export interface Telemetry {
  shutdown(): Promise<void>;
  forceFlush(): Promise<void>;
}

/** True when the environment asks for spans to be exported somewhere. */
function exportConfigured(env: NodeJS.ProcessEnv): boolean {
  const exporter = env.OTEL_TRACES_EXPORTER;
  if (exporter !== undefined && exporter !== '') return exporter !== 'none';
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Starts tracing for this process. Export follows the standard variables
 * (`OTEL_TRACES_EXPORTER`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL`
 * = `http/protobuf` | `http/json` | `grpc`, …); with none set, spans are still
 * created — so logs and downstream calls carry trace ids — but not exported.
 * Telemetry never throws into the host: exporter failures are dropped by the SDK.
 */
export function startTelemetry(options: TelemetryOptions, env: NodeJS.ProcessEnv = process.env): Telemetry {
  // Metrics and logs exporters are configured explicitly by the services that
  // use them; default them off so the SDK does not try to reach a collector.
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  const resource = resourceFromAttributes({ 'service.name': options.serviceName, 'service.namespace': 'hearth' });
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  if (options.spanProcessors === undefined && exportConfigured(env)) {
    // Metrics are start-metrics.ts's (one MeterProvider per process): the SDK must not build its own from OTEL_METRICS_EXPORTER.
    const sdk = new NodeSDK({ resource, serviceName: options.serviceName, instrumentations: [], metricReaders: [] });
    sdk.start();
    return { shutdown: () => sdk.shutdown(), forceFlush: async () => {} };
  }
  const provider = new NodeTracerProvider({ resource, spanProcessors: options.spanProcessors ?? [] });
  provider.register();
  return { shutdown: () => provider.shutdown(), forceFlush: () => provider.forceFlush() };
}
