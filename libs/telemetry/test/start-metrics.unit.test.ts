/**
 * The metrics pipeline: what the standard variables select (exporters, OTLP
 * protocol, intervals, Prometheus host and port), the errors a malformed one
 * gets, a Prometheus endpoint on a free port serving the instruments and a
 * JSON document beside them, and an OTLP/HTTP JSON push to a receiver of this test.
 */
import { createServer, type Server } from 'node:http';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { afterEach, describe, expect, it } from 'vitest';
import { createOtlpMetricExporter, metricsConfigFromEnv, MetricsConfigError, startMetrics, type MetricsPipeline } from '../src/start-metrics.js';

describe('metricsConfigFromEnv', () => {
  it('exports nothing unless OTEL_METRICS_EXPORTER asks', () => {
    expect(metricsConfigFromEnv({}).exporters).toEqual([]);
    expect(metricsConfigFromEnv({ OTEL_METRICS_EXPORTER: 'none' }).exporters).toEqual([]);
    expect(metricsConfigFromEnv({ OTEL_METRICS_EXPORTER: 'otlp,none' }).exporters).toEqual([]);
  });

  it('reads one exporter or several, without duplicates', () => {
    expect(metricsConfigFromEnv({ OTEL_METRICS_EXPORTER: 'otlp' }).exporters).toEqual(['otlp']);
    expect(metricsConfigFromEnv({ OTEL_METRICS_EXPORTER: 'prometheus' }).exporters).toEqual(['prometheus']);
    expect(metricsConfigFromEnv({ OTEL_METRICS_EXPORTER: ' otlp , prometheus,otlp' }).exporters).toEqual(['otlp', 'prometheus']);
  });

  it('rejects an unknown exporter naming what is allowed', () => {
    expect(() => metricsConfigFromEnv({ OTEL_METRICS_EXPORTER: 'otlp,statsd' })).toThrow(MetricsConfigError);
    expect(() => metricsConfigFromEnv({ OTEL_METRICS_EXPORTER: 'statsd' })).toThrow(/"statsd"; allowed: otlp, prometheus, console, none/);
  });

  it('takes the metrics protocol over the general one, http/protobuf by default', () => {
    expect(metricsConfigFromEnv({}).otlpProtocol).toBe('http/protobuf');
    expect(metricsConfigFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).otlpProtocol).toBe('grpc');
    expect(metricsConfigFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' }).otlpProtocol).toBe('http/json');
    expect(() => metricsConfigFromEnv({ OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'udp' })).toThrow(
      /OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=udp is not an OTLP protocol; allowed: http\/protobuf, http\/json, grpc/,
    );
  });

  it('reads the export interval and clamps the timeout to it', () => {
    expect(metricsConfigFromEnv({})).toMatchObject({ exportIntervalMs: 60_000, exportTimeoutMs: 30_000 });
    expect(metricsConfigFromEnv({ OTEL_METRIC_EXPORT_INTERVAL: '1000' })).toMatchObject({ exportIntervalMs: 1_000, exportTimeoutMs: 1_000 });
    expect(metricsConfigFromEnv({ OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '2000' })).toMatchObject({
      exportIntervalMs: 5_000,
      exportTimeoutMs: 2_000,
    });
    expect(() => metricsConfigFromEnv({ OTEL_METRIC_EXPORT_INTERVAL: 'soon' })).toThrow(/OTEL_METRIC_EXPORT_INTERVAL=soon is not an integer/);
    expect(() => metricsConfigFromEnv({ OTEL_METRIC_EXPORT_INTERVAL: '0' })).toThrow(/OTEL_METRIC_EXPORT_INTERVAL=0 is not allowed/);
  });

  it('binds Prometheus on loopback at the service default port unless told otherwise', () => {
    expect(metricsConfigFromEnv({}, 9467)).toMatchObject({ prometheusHost: '127.0.0.1', prometheusPort: 9467 });
    expect(metricsConfigFromEnv({})).toMatchObject({ prometheusPort: 9464 });
    expect(metricsConfigFromEnv({ OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0', OTEL_EXPORTER_PROMETHEUS_PORT: '0' }, 9467)).toMatchObject({
      prometheusHost: '0.0.0.0',
      prometheusPort: 0,
    });
    expect(() => metricsConfigFromEnv({ OTEL_EXPORTER_PROMETHEUS_PORT: '70000' })).toThrow(/OTEL_EXPORTER_PROMETHEUS_PORT=70000 is not an integer in 0–65535/);
  });
});

describe('createOtlpMetricExporter', () => {
  it('picks the exporter of each protocol', async () => {
    const exporters = [createOtlpMetricExporter('http/protobuf'), createOtlpMetricExporter('http/json'), createOtlpMetricExporter('grpc')];
    expect(exporters[0]).toBeInstanceOf(ProtoExporter);
    expect(exporters[1]).toBeInstanceOf(JsonExporter);
    expect(exporters[2]).toBeInstanceOf(GrpcExporter);
    await Promise.all(exporters.map((exporter) => exporter.shutdown()));
  });
});

describe('startMetrics', () => {
  let pipeline: MetricsPipeline | undefined;
  let receiver: Server | undefined;
  afterEach(async () => {
    await pipeline?.shutdown();
    pipeline = undefined;
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
    receiver = undefined;
  });

  it('creates no provider when nothing is exported', async () => {
    pipeline = await startMetrics({ serviceName: 'test', register: false }, {});
    expect(pipeline.meterProvider).toBeUndefined();
    expect(pipeline.prometheusAddress).toBeUndefined();
  });

  it('serves the instruments on a free Prometheus port, with JSON documents beside them', async () => {
    pipeline = await startMetrics(
      { serviceName: 'test', register: false },
      { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: '0' },
    );
    expect(pipeline.prometheusAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const meter = pipeline.meterProvider!.getMeter('test');
    meter.createCounter('Throttles').add(2, { FunctionName: 'fn', Resource: 'fn:1' });
    meter.createObservableGauge('CPUUtilization', { unit: '%' }).addCallback((result) => result.observe(12.5, { CapacityProviderName: 'fleet', InstanceType: 'm7g.large' }));
    pipeline.serveJson('/discovery/agents', () => [{ targets: ['127.0.0.1:1234'], labels: { hearth_instance_id: 'i-1' } }]);

    const base = `http://${pipeline.prometheusAddress}`;
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('Throttles_total{FunctionName="fn",Resource="fn:1",otel_scope_name="test"} 2');
    expect(text).toContain('CPUUtilization{CapacityProviderName="fleet",InstanceType="m7g.large",otel_scope_name="test"} 12.5');
    expect(text).toMatch(/target_info\{[^}]*service_name="test"/);

    const discovery = await fetch(`${base}/discovery/agents`);
    expect(discovery.headers.get('content-type')).toBe('application/json');
    expect(await discovery.json()).toEqual([{ targets: ['127.0.0.1:1234'], labels: { hearth_instance_id: 'i-1' } }]);
    expect((await fetch(`${base}/elsewhere`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('fails naming the address when the Prometheus port is taken', async () => {
    receiver = createServer();
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as { port: number }).port;
    await expect(
      startMetrics({ serviceName: 'test', register: false }, { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: String(port) }),
    ).rejects.toThrow(`the Prometheus endpoint could not listen on 127.0.0.1:${port}`);
  });

  it('pushes OTLP/HTTP JSON to the configured endpoint', async () => {
    const bodies: Array<{ path: string; contentType: string | undefined; body: any }> = [];
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        bodies.push({ path: request.url ?? '', contentType: request.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString()) });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as { port: number }).port;
    // The OTLP exporters read their endpoint from process.env, as the SDK's do.
    const saved = { ...process.env };
    Object.assign(process.env, { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${port}/v1/metrics` });
    try {
      pipeline = await startMetrics(
        { serviceName: 'otlp-test', register: false },
        { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json', OTEL_METRIC_EXPORT_INTERVAL: '600000' },
      );
    } finally {
      process.env = saved;
    }
    pipeline.meterProvider!.getMeter('test').createCounter('Invocations').add(3, { FunctionName: 'fn', Resource: 'fn:1' });
    await pipeline.forceFlush();

    expect(bodies.length).toBeGreaterThan(0);
    expect(bodies[0]).toMatchObject({ path: '/v1/metrics', contentType: 'application/json' });
    const metric = bodies[0]!.body.resourceMetrics[0].scopeMetrics[0].metrics[0];
    expect(metric.name).toBe('Invocations');
    expect(metric.sum.dataPoints[0].asInt ?? metric.sum.dataPoints[0].asDouble).toBe(3);
    const attributes = Object.fromEntries(metric.sum.dataPoints[0].attributes.map((a: any) => [a.key, a.value.stringValue]));
    expect(attributes).toEqual({ FunctionName: 'fn', Resource: 'fn:1' });
  });
});
