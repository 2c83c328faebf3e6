import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client/index.js';
import type { WorkflowClientInterceptor } from '@temporalio/client';

/**
 * The Temporal client interceptor of a process that starts fleet workflows
 * (api, scaler): a `StartWorkflow:<type>` span under the active span, whose
 * context travels in the workflow's headers, so the workflow and its activities
 * join the trace of the request or decision that started them. Only starts and
 * signals are traced: the scaler's periodic describes would otherwise be a
 * stream of one-span traces that say nothing.
 */
export function workflowClientTracing(): WorkflowClientInterceptor {
  const traced = new OpenTelemetryWorkflowClientInterceptor();
  return {
    start: (input, next) => traced.start(input, next),
    startWithDetails: (input, next) => traced.startWithDetails(input, next),
    signal: (input, next) => traced.signal(input, next),
    signalWithStart: (input, next) => traced.signalWithStart(input, next),
  };
}
