import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator, W3CBaggagePropagator, CompositePropagator } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createTraceExporters, traceExportConfig } from './trace-export.js';

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
  /**
   * The exporter the environment configured (the first, when several), for
   * spans made outside this process's tracer provider: Temporal's workflow
   * spans reach it through the worker's sinks. Undefined when nothing is exported.
   */
  readonly traceExporter: SpanExporter | undefined;
  /** The resource (`service.name`, …) this process's spans carry. */
  readonly resource: Resource;
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
  const exporters = options.spanProcessors === undefined ? createTraceExporters(traceExportConfig(env)) : [];
  if (exporters.length > 0) {
    // Batching reads OTEL_BSP_* (schedule delay, queue and batch sizes, export timeout); the console is written at once.
    const spanProcessors = exporters.map((exporter) =>
      exporter instanceof ConsoleSpanExporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter),
    );
    // Metrics are start-metrics.ts's (one MeterProvider per process): the SDK must not build its own from OTEL_METRICS_EXPORTER.
    const sdk = new NodeSDK({ resource, serviceName: options.serviceName, instrumentations: [], spanProcessors, metricReaders: [] });
    sdk.start();
    return {
      shutdown: () => sdk.shutdown(),
      forceFlush: async () => {
        await Promise.all(spanProcessors.map((processor) => processor.forceFlush()));
      },
      traceExporter: exporters[0],
      resource,
    };
  }
  const provider = new NodeTracerProvider({ resource, spanProcessors: options.spanProcessors ?? [] });
  provider.register();
  return { shutdown: () => provider.shutdown(), forceFlush: () => provider.forceFlush(), traceExporter: undefined, resource };
}
