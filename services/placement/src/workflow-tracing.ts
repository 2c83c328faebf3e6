/**
 * Traces of the fleet workflows (Temporal's OpenTelemetry interceptors):
 * the client that starts a workflow (api, scaler) puts its span into the
 * workflow's headers; here the worker continues it — a `RunWorkflow` span in
 * the workflow sandbox, a `StartActivity` span per scheduled activity, and a
 * `RunActivity` span around each activity in this process — so a publish shows
 * its workflow and activities under the PublishVersion request.
 *
 * Spans made inside the sandbox cannot reach this process's tracer provider;
 * the interceptors hand them out through a sink to an exporter. That code is
 * built against OpenTelemetry 1.x span shapes (`parentSpanId`,
 * `instrumentationLibrary`), while Hearth exports with 2.x exporters, which read
 * `parentSpanContext` and `instrumentationScope`: workflowSpanExporter translates.
 */
import { createRequire } from 'node:module';
import type { ExportResult } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry/lib/worker/index.js';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';

/** A span as the workflow sandbox hands it over: 1.x field names, possibly without the 2.x ones. */
type SandboxSpan = ReadableSpan & {
  parentSpanId?: string;
  instrumentationLibrary?: { name: string; version?: string; schemaUrl?: string };
};

/** Gives a sandbox span the 2.x fields the exporters read, keeping everything else. */
export function toExportableSpan(span: ReadableSpan): ReadableSpan {
  const sandbox = span as SandboxSpan;
  const context = span.spanContext();
  const parentSpanContext =
    sandbox.parentSpanContext ??
    (sandbox.parentSpanId ? { traceId: context.traceId, spanId: sandbox.parentSpanId, traceFlags: context.traceFlags, isRemote: false } : undefined);
  const instrumentationScope = sandbox.instrumentationScope ?? sandbox.instrumentationLibrary ?? { name: '@temporalio/interceptor-workflow' };
  return { ...sandbox, spanContext: () => context, parentSpanContext, instrumentationScope };
}

/** An exporter that translates sandbox spans (see the module comment) before handing them to `target`. */
export function workflowSpanExporter(target: SpanExporter): SpanExporter {
  return {
    export: (spans: ReadableSpan[], done: (result: ExportResult) => void) => target.export(spans.map(toExportableSpan), done),
    shutdown: () => Promise.resolve(),
    forceFlush: () => target.forceFlush?.() ?? Promise.resolve(),
  };
}

/** Drops spans: the sink the sandbox needs when this process exports nothing. */
const discard: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};

/** What Worker.create needs for traced workflows and activities. */
export interface WorkerTracing {
  interceptors: WorkerInterceptors;
  sinks: InjectedSinks<Record<string, never>>;
}

/**
 * Interceptors and sinks for a fleet worker. Propagation always runs (a trace
 * stays whole even when this process exports nothing); workflow spans go to
 * `exporter` when there is one.
 */
export function workerTracing(exporter: SpanExporter | undefined, resource: Resource): WorkerTracing {
  const require = createRequire(import.meta.url);
  // Typed against OpenTelemetry 1.x; what it hands over is translated by workflowSpanExporter.
  const sink = makeWorkflowExporter((exporter ? workflowSpanExporter(exporter) : discard) as never, resource as never);
  return {
    interceptors: {
      workflowModules: [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')],
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: sink } as unknown as InjectedSinks<Record<string, never>>,
  };
}
