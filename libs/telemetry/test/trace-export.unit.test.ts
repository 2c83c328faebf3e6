/**
 * The standard OTEL_* variables choose the span exporter: which exporters, and
 * for OTLP which transport. Each transport is checked end to end against a
 * receiver in this process: a span really leaves in that encoding.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as GrpcServer, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { createTraceExporters, startTelemetry, traceExportConfig, withSpan, type OtlpProtocol } from '@hearth/telemetry';

describe('traceExportConfig', () => {
  it('exports nothing when neither an exporter nor an endpoint is set', () => {
    expect(traceExportConfig({})).toEqual({ exporters: [], protocol: 'http/protobuf', ignored: [] });
  });

  it('exports over OTLP http/protobuf when only an endpoint is set', () => {
    expect(traceExportConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toMatchObject({ exporters: ['otlp'], protocol: 'http/protobuf' });
    expect(traceExportConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toMatchObject({ exporters: ['otlp'] });
  });

  it('reads the protocol, the traces-specific variable first', () => {
    expect(traceExportConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).protocol).toBe('http/json');
    expect(traceExportConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).protocol).toBe('grpc');
    expect(
      traceExportConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' }).protocol,
    ).toBe('grpc');
  });

  it('falls back to http/protobuf on an unknown protocol and says so', () => {
    expect(traceExportConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' })).toEqual({
      exporters: ['otlp'],
      protocol: 'http/protobuf',
      ignored: ['OTEL_EXPORTER_OTLP_PROTOCOL=thrift'],
    });
  });

  it('honours OTEL_TRACES_EXPORTER: a list, none, and names it does not know', () => {
    expect(traceExportConfig({ OTEL_TRACES_EXPORTER: 'otlp,console' }).exporters).toEqual(['otlp', 'console']);
    expect(traceExportConfig({ OTEL_TRACES_EXPORTER: 'console' }).exporters).toEqual(['console']);
    expect(traceExportConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).exporters).toEqual([]);
    expect(traceExportConfig({ OTEL_TRACES_EXPORTER: 'otlp,none' }).exporters).toEqual([]);
    expect(traceExportConfig({ OTEL_TRACES_EXPORTER: ' otlp , jaeger ' })).toMatchObject({ exporters: ['otlp'], ignored: ['OTEL_TRACES_EXPORTER=jaeger'] });
  });

  it('creates a console exporter for console', () => {
    const [exporter] = createTraceExporters(traceExportConfig({ OTEL_TRACES_EXPORTER: 'console' }));
    expect(exporter).toBeInstanceOf(ConsoleSpanExporter);
  });
});

interface Received {
  path: string;
  contentType: string;
  body: Buffer;
}

const savedEnv = { ...process.env };
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const key of Object.keys(process.env)) if (key.startsWith('OTEL_')) delete process.env[key];
  Object.assign(process.env, savedEnv);
});

/** An OTLP/HTTP receiver: answers every POST 200 with an empty export response. */
async function startHttpReceiver(): Promise<{ endpoint: string; received: Received[] }> {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const contentType = String(req.headers['content-type'] ?? '');
      received.push({ path: req.url ?? '', contentType, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'Content-Type': contentType.includes('json') ? 'application/json' : 'application/x-protobuf' });
      res.end(contentType.includes('json') ? '{}' : Buffer.alloc(0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** An OTLP/gRPC receiver: the collector's TraceService/Export, taking the request as raw bytes. */
async function startGrpcReceiver(): Promise<{ endpoint: string; received: Received[] }> {
  const received: Received[] = [];
  const server = new GrpcServer();
  const path = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
  server.register<Buffer, Buffer>(
    path,
    (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      received.push({ path, contentType: 'application/grpc', body: call.request });
      // An empty ExportTraceServiceResponse: every span accepted.
      callback(null, Buffer.alloc(0));
    },
    (value: Buffer) => value,
    (bytes: Buffer) => bytes,
    'unary',
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  cleanups.push(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
  return { endpoint: `http://127.0.0.1:${port}`, received };
}

/** Sends one span named `name` through `exporter` and waits until it is exported. */
async function exportOneSpan(exporter: SpanExporter, name: string): Promise<void> {
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.getTracer('test').startSpan(name, { attributes: { 'hearth.function': 'fn' } }).end();
  await provider.forceFlush();
  await provider.shutdown();
}

async function eventually(check: () => void, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

describe('OTLP export per OTEL_EXPORTER_OTLP_PROTOCOL', () => {
  const cases: Array<{ protocol: OtlpProtocol; receiver: () => Promise<{ endpoint: string; received: Received[] }>; path: string; contentType: string }> = [
    { protocol: 'http/json', receiver: startHttpReceiver, path: '/v1/traces', contentType: 'application/json' },
    { protocol: 'http/protobuf', receiver: startHttpReceiver, path: '/v1/traces', contentType: 'application/x-protobuf' },
    { protocol: 'grpc', receiver: startGrpcReceiver, path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', contentType: 'application/grpc' },
  ];

  for (const { protocol, receiver, path, contentType } of cases) {
    it(`sends spans over ${protocol} to OTEL_EXPORTER_OTLP_ENDPOINT`, async () => {
      const { endpoint, received } = await receiver();
      // The exporters read their endpoint from the process environment, as in a service.
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
      process.env.OTEL_EXPORTER_OTLP_PROTOCOL = protocol;
      const exporters = createTraceExporters(traceExportConfig(process.env));
      expect(exporters).toHaveLength(1);
      const spanName = `span-over-${protocol}`;
      await exportOneSpan(exporters[0] as SpanExporter, spanName);
      await eventually(() => expect(received.length).toBeGreaterThan(0));
      const [request] = received as [Received];
      expect(request.path).toBe(path);
      expect(request.contentType).toContain(contentType);
      // JSON and protobuf both carry the span name as plain UTF-8 bytes.
      expect(request.body.includes(Buffer.from(spanName))).toBe(true);
      if (protocol === 'http/json') {
        const body = JSON.parse(request.body.toString('utf8')) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ name: string; traceId: string }> }> }> };
        const span = body.resourceSpans[0]?.scopeSpans[0]?.spans[0];
        expect(span?.name).toBe(spanName);
        expect(span?.traceId).toMatch(/^[0-9a-f]{32}$/);
      }
    });
  }

  it('sends to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, without appending /v1/traces', async () => {
    const { endpoint, received } = await startHttpReceiver();
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${endpoint}/custom/traces`;
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
    const [exporter] = createTraceExporters(traceExportConfig(process.env));
    await exportOneSpan(exporter as SpanExporter, 'custom-path');
    await eventually(() => expect(received.map((r) => r.path)).toEqual(['/custom/traces']));
  });
});

describe('startTelemetry with OTEL_* export settings', () => {
  it('batches spans to the configured endpoint, flushes on demand and exposes its exporter', async () => {
    const { endpoint, received } = await startHttpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
    // Long enough that only forceFlush can explain a prompt export.
    process.env.OTEL_BSP_SCHEDULE_DELAY = '60000';
    const telemetry = startTelemetry({ serviceName: 'hearth-export-test' });
    cleanups.push(() => telemetry.shutdown());
    expect(telemetry.traceExporter).toBeDefined();
    await withSpan('exported-by-the-sdk', {}, async () => undefined);
    await telemetry.forceFlush();
    expect(received).toHaveLength(1);
    const body = JSON.parse((received[0] as Received).body.toString('utf8')) as {
      resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: Array<{ name: string }> }> }>;
    };
    const resourceSpans = body.resourceSpans[0];
    expect(resourceSpans?.scopeSpans[0]?.spans.map((span) => span.name)).toEqual(['exported-by-the-sdk']);
    expect(resourceSpans?.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'hearth-export-test' } });
  });
});
