/**
 * Where spans go, read from the standard OpenTelemetry variables:
 *
 * - `OTEL_TRACES_EXPORTER`: a comma-separated list of `otlp`, `console`, `none`
 *   (default `otlp` when an OTLP endpoint is set, else nothing is exported);
 * - `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`:
 *   `http/protobuf` (default), `http/json` or `grpc`;
 * - the endpoint, headers, timeout and compression variables
 *   (`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`, `…_HEADERS`, …), which the OTLP
 *   exporters read themselves.
 *
 * The same choices NodeSDK makes, made here so the process keeps the exporter:
 * Temporal's workflow spans are handed to it directly (see `Telemetry.traceExporter`).
 */
import { diag } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ConsoleSpanExporter, type SpanExporter } from '@opentelemetry/sdk-trace-base';

/** The OTLP transports an exporter can use. */
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

/** The exporters the environment asks for, by name. */
export type TraceExporterName = 'otlp' | 'console';

/** What the environment says about exporting spans. */
export interface TraceExportConfig {
  /** Exporters to use, in order; empty when nothing is exported. */
  exporters: TraceExporterName[];
  /** Transport of the `otlp` exporter. */
  protocol: OtlpProtocol;
  /** Values that were not understood and were ignored, for a warning. */
  ignored: string[];
}

const protocols: readonly OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];

function text(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** Reads the trace export settings from `env` (see the module comment). */
export function traceExportConfig(env: NodeJS.ProcessEnv): TraceExportConfig {
  const ignored: string[] = [];
  const protocolText = text(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? text(env.OTEL_EXPORTER_OTLP_PROTOCOL) ?? 'http/protobuf';
  let protocol: OtlpProtocol = 'http/protobuf';
  if ((protocols as readonly string[]).includes(protocolText)) protocol = protocolText as OtlpProtocol;
  else ignored.push(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocolText}`);

  const listed = text(env.OTEL_TRACES_EXPORTER);
  let names: string[];
  if (listed === undefined) {
    // Unset: export over OTLP only when an endpoint says where to, so a plain
    // `npm start` does not retry a collector on localhost forever.
    names = text(env.OTEL_EXPORTER_OTLP_ENDPOINT) || text(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ? ['otlp'] : [];
  } else {
    names = [...new Set(listed.split(',').map((name) => name.trim()).filter((name) => name !== ''))];
  }
  if (names.includes('none')) return { exporters: [], protocol, ignored };
  const exporters: TraceExporterName[] = [];
  for (const name of names) {
    if (name === 'otlp' || name === 'console') exporters.push(name);
    else ignored.push(`OTEL_TRACES_EXPORTER=${name}`);
  }
  return { exporters, protocol, ignored };
}

/** A new OTLP span exporter for `protocol`; it reads its endpoint, headers and timeout from the `OTEL_*` variables. */
export function otlpTraceExporter(protocol: OtlpProtocol): SpanExporter {
  switch (protocol) {
    case 'grpc':
      return new OtlpGrpcExporter();
    case 'http/json':
      return new OtlpJsonExporter();
    case 'http/protobuf':
      return new OtlpProtoExporter();
  }
}

/** The span exporters `config` describes, new. */
export function createTraceExporters(config: TraceExportConfig): SpanExporter[] {
  for (const value of config.ignored) diag.warn(`ignored unsupported trace export setting ${value}`);
  return config.exporters.map((name) => (name === 'otlp' ? otlpTraceExporter(config.protocol) : new ConsoleSpanExporter()));
}
