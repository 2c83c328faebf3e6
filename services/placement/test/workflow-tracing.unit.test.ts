/**
 * Workflow spans come out of Temporal's sandbox in OpenTelemetry 1.x shape;
 * Hearth's 2.x OTLP exporters must still see each span's parent and scope.
 */
import { TraceFlags } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { toExportableSpan, workerTracing, workflowSpanExporter } from '../src/workflow-tracing.js';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const resource = resourceFromAttributes({ 'service.name': 'hearth-placement' });

/** What makeWorkflowExporter builds from a serialized sandbox span (1.x field names). */
function sandboxSpan(name: string, spanId: string, parentSpanId?: string): ReadableSpan {
  const spanContext = { traceId, spanId, traceFlags: TraceFlags.SAMPLED };
  return {
    name,
    kind: 0,
    spanContext: () => spanContext,
    parentSpanId,
    startTime: [1_764_280_000, 0],
    endTime: [1_764_280_000, 5_000_000],
    status: { code: 0 },
    attributes: { workflowId: 'publish:fn:1' },
    links: [],
    events: [],
    duration: [0, 5_000_000],
    ended: true,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    instrumentationLibrary: { name: '@temporalio/interceptor-workflow' },
    resource,
  } as unknown as ReadableSpan;
}

describe('toExportableSpan', () => {
  it('turns parentSpanId and instrumentationLibrary into the 2.x fields, keeping the rest', () => {
    const span = toExportableSpan(sandboxSpan('RunWorkflow:publishVersion', '00f067aa0ba902b7', 'b7ad6b7169203331'));
    expect(span.parentSpanContext).toEqual({ traceId, spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED, isRemote: false });
    expect(span.instrumentationScope).toEqual({ name: '@temporalio/interceptor-workflow' });
    expect(span.spanContext().spanId).toBe('00f067aa0ba902b7');
    expect(span.attributes).toEqual({ workflowId: 'publish:fn:1' });
  });

  it('leaves a root span without a parent, and a 2.x span as it is', () => {
    expect(toExportableSpan(sandboxSpan('root', '00f067aa0ba902b7')).parentSpanContext).toBeUndefined();
    const modern = { ...sandboxSpan('x', '00f067aa0ba902b7'), parentSpanContext: { traceId, spanId: '1111111111111111', traceFlags: 1 } } as ReadableSpan;
    expect(toExportableSpan(modern).parentSpanContext?.spanId).toBe('1111111111111111');
  });

  it('encodes as OTLP with the parent span id (what the exporters send)', () => {
    const bytes = JsonTraceSerializer.serializeRequest([toExportableSpan(sandboxSpan('StartActivity:startEnvironment', '00f067aa0ba902b7', 'b7ad6b7169203331'))]);
    const body = JSON.parse(Buffer.from(bytes!).toString('utf8')) as { resourceSpans: Array<{ scopeSpans: Array<{ scope: { name: string }; spans: Array<{ parentSpanId: string; name: string }> }> }> };
    const scopeSpans = body.resourceSpans[0]!.scopeSpans[0]!;
    expect(scopeSpans.scope.name).toBe('@temporalio/interceptor-workflow');
    expect(scopeSpans.spans[0]).toMatchObject({ name: 'StartActivity:startEnvironment', parentSpanId: 'b7ad6b7169203331' });
  });
});

describe('workflowSpanExporter and workerTracing', () => {
  it('hands translated spans to the process exporter through the sink', async () => {
    const exported: ReadableSpan[] = [];
    const target: SpanExporter = {
      export: (spans: ReadableSpan[], done: (result: ExportResult) => void) => {
        exported.push(...spans);
        done({ code: 0 });
      },
      shutdown: () => Promise.resolve(),
    };
    const results: ExportResult[] = [];
    workflowSpanExporter(target).export([sandboxSpan('RunWorkflow:x', '00f067aa0ba902b7', 'b7ad6b7169203331')], (result) => results.push(result));
    expect(results).toEqual([{ code: 0 }]);
    expect(exported[0]?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');

    const tracing = workerTracing(target, resource);
    expect(tracing.interceptors.workflowModules?.[0]).toMatch(/interceptors-opentelemetry\/lib\/workflow-interceptors\.js$/);
    expect(tracing.interceptors.activity).toHaveLength(1);
    // The sink as the worker calls it: workflow info plus the serialized spans.
    const sink = (tracing.sinks as unknown as { exporter: { export: { fn: (info: object, spans: unknown[]) => void } } }).exporter.export;
    const { spanContext, ...serialized } = sandboxSpan('RunWorkflow:publishVersion', 'aaaaaaaaaaaaaaaa', 'b7ad6b7169203331') as unknown as Record<string, unknown> & { spanContext: () => object };
    sink.fn({}, [{ ...serialized, spanContext: spanContext() }]);
    const last = exported.at(-1);
    expect(last?.name).toBe('RunWorkflow:publishVersion');
    expect(last?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(last?.spanContext().spanId).toBe('aaaaaaaaaaaaaaaa');
  });
});
