/**
 * Observability shared by every Hearth process: OpenTelemetry tracing set up
 * from the standard `OTEL_*` variables, W3C trace context carried across gRPC
 * metadata and NATS headers, and structured JSON logs that name the trace and
 * the request they belong to.
 */
export { startTelemetry, type TelemetryOptions, type Telemetry } from './start-telemetry.js';
export { createLogger, type Logger } from './logger.js';
export { runWithRequest, currentRequestId } from './request-context.js';
export { injectTraceContext, extractTraceContext, type CarrierGetter, type CarrierSetter } from './propagation.js';
export { tracer, withSpan } from './tracer.js';
export {
  startMetrics,
  metricsConfigFromEnv,
  createOtlpMetricExporter,
  defaultPrometheusPort,
  MetricsConfigError,
  type MetricsOptions,
  type MetricsPipeline,
  type MetricsConfig,
  type MetricsExporterName,
} from './start-metrics.js';
export { spanAttributes } from './span-attributes.js';
export {
  traceExportConfig,
  createTraceExporters,
  otlpTraceExporter,
  type TraceExportConfig,
  type OtlpProtocol,
  type TraceExporterName,
} from './trace-export.js';
