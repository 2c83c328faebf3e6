import { currentRequestId, injectTraceContext } from '@hearth/telemetry';
import type { EventMetadata } from './types.js';

/**
 * The metadata an append records without being asked: the active W3C trace
 * context (so the relay can hand it on in NATS headers and consumers continue
 * the trace) and the request id of the API call in progress.
 */
export function captureMetadata(): EventMetadata {
  const metadata: EventMetadata = {};
  injectTraceContext((key, value) => {
    if (key === 'traceparent' || key === 'tracestate') metadata[key] = value;
  });
  const requestId = currentRequestId();
  if (requestId !== undefined) metadata.requestId = requestId;
  return metadata;
}
