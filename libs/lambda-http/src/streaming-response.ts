import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { toLambdaError, type LambdaError } from '@hearth/errors';
import { invokeCompleteEvent, payloadChunkEvent } from './event-stream.js';
import type { InvokeCompleteEvent, StreamingInvokeOutput } from './operation-handlers.js';
import { successStatus } from './responses.js';

/** How a streamed response ended. */
export interface StreamOutcome {
  /** Bytes of event-stream frames written. */
  readonly bytes: number;
  /** The error that ended the stream early, reported to the client in `InvokeComplete`. */
  readonly error?: LambdaError;
}

/**
 * Sends an InvokeWithResponseStream result as an event stream: one
 * `PayloadChunk` per chunk, then `InvokeComplete`. Once the headers are out an
 * error can no longer change the status, so a failure while streaming is
 * reported in `InvokeComplete` (ErrorCode, ErrorDetails). Stops when `signal`
 * aborts (client gone, deadline, shutdown), which also bounds every wait for
 * the client to drain.
 */
export async function sendEventStream(
  res: ServerResponse,
  output: StreamingInvokeOutput,
  signal: AbortSignal,
): Promise<StreamOutcome> {
  const headers: OutgoingHttpHeaders = { 'Content-Type': 'application/vnd.amazon.eventstream' };
  if (output.ExecutedVersion !== undefined) headers['X-Amz-Executed-Version'] = output.ExecutedVersion;
  res.writeHead(successStatus(output.StatusCode, 200, 'StatusCode'), headers);
  // The client should learn the stream started before the first chunk exists.
  res.flushHeaders();
  let bytes = 0;
  let complete: InvokeCompleteEvent;
  let error: LambdaError | undefined;
  try {
    for await (const chunk of output.PayloadChunks) {
      if (signal.aborted) break;
      const frame = payloadChunkEvent(chunk);
      bytes += frame.byteLength;
      if (!res.write(frame)) await drained(res, signal);
    }
    complete = signal.aborted ? {} : ((await output.complete?.()) ?? {});
  } catch (thrown) {
    error = toLambdaError(thrown);
    complete = { ErrorCode: error.name, ErrorDetails: error.message };
  }
  if (signal.aborted || res.destroyed) {
    res.destroy();
    return error ? { bytes, error } : { bytes };
  }
  const frame = invokeCompleteEvent({ ...complete });
  bytes += frame.byteLength;
  res.end(frame);
  return error ? { bytes, error } : { bytes };
}

/** Resolves when the response can take more data, or when waiting no longer makes sense. */
function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done).once('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
