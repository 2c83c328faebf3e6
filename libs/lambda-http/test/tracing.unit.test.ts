/**
 * Each request runs inside a SERVER span continuing the caller's W3C trace,
 * and its log lines name the trace and the request. Kept in its own file
 * because it registers a global tracer provider.
 */
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetry, type Telemetry } from '@hearth/telemetry';
import { accessLogs, eventually, startTestServer, type TestServer } from './test-server.js';

const traceId = '0af7651916cd43dd8448eb211c80319c';
const callerSpanId = 'b7ad6b7169203331';
const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let server: TestServer;
let traceIdSeenByHandler: string | undefined;

beforeAll(async () => {
  telemetry = startTelemetry({ serviceName: 'lambda-http-test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
  server = await startTestServer({
    handlers: {
      ListFunctions: async () => {
        traceIdSeenByHandler = trace.getActiveSpan()?.spanContext().traceId;
        return { Functions: [] };
      },
      GetFunction: async () => {
        throw new Error('database is down');
      },
    },
  });
});

afterAll(async () => {
  await server.close();
  await telemetry.shutdown();
});

describe('request tracing', () => {
  it('continues the caller trace in a SERVER span and logs with trace and request ids', async () => {
    const response = await fetch(`${server.url}/2015-03-31/functions?MaxItems=1`, {
      headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
    });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-amzn-requestid');
    await eventually(() => exporter.getFinishedSpans().length === 1);
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('GET /2015-03-31/functions');
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.spanContext().traceId).toBe(traceId);
    expect(span?.parentSpanContext?.spanId).toBe(callerSpanId);
    expect(span?.attributes).toMatchObject({
      'rpc.method': 'ListFunctions',
      'http.route': '/2015-03-31/functions',
      'http.response.status_code': 200,
      'hearth.request_id': requestId,
    });
    expect(traceIdSeenByHandler).toBe(traceId);
    const [line] = accessLogs(server);
    expect(line).toMatchObject({ traceId, requestId, operation: 'ListFunctions' });
  });

  it('marks a 5xx span as an error and logs the hidden cause with its ids', async () => {
    exporter.reset();
    const response = await fetch(`${server.url}/2015-03-31/functions/f`, {
      headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
    });
    expect(response.status).toBe(500);
    const requestId = response.headers.get('x-amzn-requestid');
    await eventually(() => exporter.getFinishedSpans().length === 1);
    expect(exporter.getFinishedSpans()[0]?.status.code).toBe(SpanStatusCode.ERROR);
    const logged = server.logs.find((line) => line.level === 'error');
    expect(logged).toMatchObject({ traceId, requestId, exception: 'ServiceException' });
    expect(JSON.stringify(logged?.err)).toContain('database is down');
    expect(await response.text()).not.toContain('database is down');
  });
});
