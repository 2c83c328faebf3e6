/**
 * Delivery of invocation records to OnSuccess / OnFailure destinations:
 * - `nats:<subject>`: published on the subject. When a JetStream stream
 *   captures the subject the publish is acknowledged and deduplicated by
 *   `<requestId>:<condition>`; otherwise it goes to the subject's current
 *   subscribers (core NATS, at most once).
 * - a function ARN: an Event invocation of that function with the record as
 *   its event, enqueued like any other (its own EventInvokeConfig applies).
 *
 * Delivery is best effort, as Lambda's is: a few quick retries, then the
 * record is dropped and counted (Lambda's DestinationDeliveryFailures). It
 * never makes the source function run again.
 */
import { createHash } from 'node:crypto';
import type { AsyncInvocation, EventDestination, InvocationTarget } from '@hearth/domain';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { Bus } from '@hearth/bus';
import type { RecordCondition } from './retry-policy.js';

/** What a delivery carries besides the record. */
export interface RecordMeta {
  /** The source invocation. */
  readonly invocation: AsyncInvocation;
  readonly condition: RecordCondition;
}

/** Delivers records. */
export interface DestinationSink {
  /** Resolves when delivered; rejects when the destination cannot take it (after the sink's own retries). */
  deliver(destination: EventDestination, record: Buffer, meta: RecordMeta): Promise<void>;
}

/** Options of createDestinationSink. */
export interface DestinationSinkOptions {
  bus: Pick<Bus, 'js' | 'jsm' | 'nc' | 'requestTimeoutMs'>;
  /** Resolves a destination function ARN to the version an Event invoke of it runs (throws the Lambda error when it cannot run). */
  resolveFunction(arn: string): Promise<InvocationTarget>;
  /** Enqueues an asynchronous invocation (the queue's publish). */
  enqueue(invocation: AsyncInvocation, payload: Uint8Array): Promise<void>;
  /** Attempts per delivery. Default 3. */
  attempts?: number;
  /** Wait before the second attempt; doubles after. Default 200 ms. */
  retryDelayMs?: number;
  /** How long whether a stream captures a subject is remembered. Default 30000 ms. */
  streamLookupTtlMs?: number;
  /** Epoch ms. Default Date.now. */
  now?: () => number;
}

/** Subjects whose capturing stream is remembered at most (a bounded cache). */
const maxRememberedSubjects = 1_000;

/**
 * The request id of the destination function's invocation: derived from the
 * source's request id and the condition, so re-delivering the same record
 * (after a crash) enqueues it once within the queue's duplicate window.
 */
export function destinationRequestId(sourceRequestId: string, condition: RecordCondition): string {
  const hex = createHash('sha256').update(`${sourceRequestId}\n${condition}`).digest('hex');
  // Shaped as a version-4-like UUID, as Lambda request ids are.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Creates the sink. */
export function createDestinationSink(options: DestinationSinkOptions): DestinationSink {
  const attempts = options.attempts ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 200;
  const now = options.now ?? Date.now;
  const streamLookupTtlMs = options.streamLookupTtlMs ?? 30_000;
  const { bus } = options;
  const captured = new Map<string, { stream: string | undefined; until: number }>();

  /**
   * The stream storing `subject`, if any. Asked of JetStream first, because a
   * JetStream publish is a request on the subject itself: with no stream but a
   * plain subscriber, it would hang until its timeout instead of failing.
   */
  const streamFor = async (subject: string): Promise<string | undefined> => {
    const known = captured.get(subject);
    if (known !== undefined && known.until > now()) return known.stream;
    let stream: string | undefined;
    try {
      stream = await bus.jsm.streams.find(subject);
    } catch (error) {
      if (!/no stream matches subject/i.test(error instanceof Error ? error.message : String(error))) throw error;
    }
    captured.delete(subject);
    captured.set(subject, { stream, until: now() + streamLookupTtlMs });
    if (captured.size > maxRememberedSubjects) captured.delete(captured.keys().next().value as string);
    return stream;
  };

  const toSubject = async (subject: string, record: Buffer, meta: RecordMeta): Promise<void> => {
    const headers = natsHeaders();
    headers.set('Hearth-Request-Id', meta.invocation.requestId);
    headers.set('Hearth-Condition', meta.condition);
    if (meta.invocation.traceparent) headers.set('traceparent', meta.invocation.traceparent);
    if ((await streamFor(subject)) !== undefined) {
      await bus.js.publish(subject, record, { msgID: `${meta.invocation.requestId}:${meta.condition}`, headers, timeout: bus.requestTimeoutMs });
      return;
    }
    // No stream stores this subject: hand the record to whoever subscribes now.
    bus.nc.publish(subject, record, { headers });
    await bus.nc.flush();
  };

  const toFunction = async (arn: string, record: Buffer, meta: RecordMeta): Promise<void> => {
    const target = await options.resolveFunction(arn);
    await options.enqueue(
      {
        requestId: destinationRequestId(meta.invocation.requestId, meta.condition),
        functionName: target.FunctionName,
        version: target.Version,
        functionArn: target.FunctionArn,
        timeoutSeconds: target.version.configuration.Timeout,
        enqueuedAtMs: now(),
        ...(meta.invocation.traceparent === undefined ? {} : { traceparent: meta.invocation.traceparent }),
        ...(meta.invocation.tracestate === undefined ? {} : { tracestate: meta.invocation.tracestate }),
        retries: 0,
        invocations: 0,
        throttles: 0,
        generation: 0,
      },
      record,
    );
  };

  return {
    async deliver(destination, record, meta) {
      let delay = retryDelayMs;
      for (let attempt = 1; ; attempt += 1) {
        try {
          if (destination.kind === 'nats') await toSubject(destination.subject, record, meta);
          else await toFunction(destination.arn, record, meta);
          return;
        } catch (error) {
          // A destination function that does not exist or cannot run will not in the next second either.
          const permanent = error instanceof Error && /^(ResourceNotFoundException|InvalidParameterValueException|NoPublishedVersionException)$/.test(error.name);
          if (permanent || attempt >= attempts) throw error;
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay *= 2;
        }
      }
    },
  };
}
