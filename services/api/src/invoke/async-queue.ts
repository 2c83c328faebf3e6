/**
 * The producer side of the asynchronous invocation queue: the JetStream
 * work-queue stream `${PREFIX}_INVOCATIONS` (created or updated here at
 * start; the api owns its limits) and the publish an Event invoke makes. The
 * 202 is answered only after JetStream acknowledged the message, so an
 * accepted event is on disk; the message id is the request id, so a publish
 * repeated within the duplicate window is stored once.
 *
 * The stream is bounded by messages and bytes with discard-new: when it is
 * full the publish is refused and the caller gets 429 (reason `AsyncQueueFull`)
 * instead of the queue growing without bound. Publishes awaiting their ack are
 * bounded too.
 */
import { encodeAsyncInvocation, asyncInvocationMessageId, asyncInvocationStreamName, asyncInvocationSubject, allAsyncInvocationsSubject, type AsyncInvocation } from '@hearth/domain';
import type { Bus } from '@hearth/bus';
import { RequestTooLargeException, ServiceUnavailableException, TooManyRequestsException } from '@hearth/errors';
import type { Logger } from '@hearth/telemetry';
import { DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { headers as natsHeaders, nanos } from '@nats-io/transport-node';

/** Throttle reason when the queue cannot take more events. */
export const asyncQueueFullReason = 'AsyncQueueFull';

/** Options of createAsyncQueue. */
export interface AsyncQueueOptions {
  bus: Bus;
  logger: Logger;
  /** Messages the stream holds at most. Default 100000. */
  maxMessages?: number;
  /** Bytes the stream holds at most. Default 1073741824 (1 GiB). */
  maxBytes?: number;
  /** Publishes awaiting their ack at once; more are shed with 429. Default 1024. */
  maxPendingPublishes?: number;
  /**
   * Age after which the stream drops a message unread: the longest
   * MaximumEventAgeInSeconds (6 h) plus an hour, so only events the consumer
   * would drop as too old anyway can go this way. Default 25200000 (7 h).
   */
  maxAgeMs?: number;
  /** Window in which a repeated message id is dropped. Default 120000 (2 min). */
  duplicateWindowMs?: number;
}

/** Why an event was refused before it reached the stream. */
export type AsyncQueueDrop = 'queueFull' | 'pendingLimit' | 'tooLargeForBus' | 'unavailable';

/** Counters of the queue's producer. */
export interface AsyncQueueStats {
  published: number;
  /** Publishes the stream recognised as repeats of a stored message. */
  duplicates: number;
  pending: number;
  dropped: Record<AsyncQueueDrop, number>;
}

/** The producer. */
export interface AsyncQueue {
  /** The stream's name. */
  readonly streamName: string;
  /**
   * Stores one event durably. Resolves once JetStream acknowledged it.
   * Rejects with TooManyRequestsException (queue full or too many publishes
   * waiting), RequestTooLargeException (larger than the NATS server's message
   * limit allows with the headers) or ServiceUnavailableException (no ack in time).
   */
  enqueue(invocation: AsyncInvocation, payload: Uint8Array): Promise<{ duplicate: boolean }>;
  stats(): AsyncQueueStats;
}

/** The stream's configuration; what an update may change is everything but retention and storage. */
export function asyncInvocationStreamConfig(prefix: string, options: Pick<AsyncQueueOptions, 'maxMessages' | 'maxBytes' | 'maxAgeMs' | 'duplicateWindowMs'> = {}) {
  const updatable = {
    subjects: [allAsyncInvocationsSubject(prefix)],
    max_msgs: options.maxMessages ?? 100_000,
    max_bytes: options.maxBytes ?? 1024 ** 3,
    max_age: nanos(options.maxAgeMs ?? 7 * 3_600_000),
    // Refusing new events keeps the old ones: a full queue pushes back on callers instead of losing work.
    discard: DiscardPolicy.New,
    duplicate_window: nanos(options.duplicateWindowMs ?? 120_000),
  } satisfies Partial<StreamConfig>;
  return {
    updatable,
    create: { name: asyncInvocationStreamName(prefix), ...updatable, retention: RetentionPolicy.Workqueue, storage: StorageType.File, num_replicas: 1 } satisfies Partial<StreamConfig>,
  };
}

/** Creates the stream, or updates its limits, and returns the producer. */
export async function createAsyncQueue(options: AsyncQueueOptions): Promise<AsyncQueue> {
  const { bus } = options;
  const log = options.logger.child({ component: 'async-queue' });
  const config = asyncInvocationStreamConfig(bus.prefix, options);
  const streamName = config.create.name;
  await ensureStream(bus, streamName, config);
  const maxPending = options.maxPendingPublishes ?? 1024;
  const counts = { published: 0, duplicates: 0 };
  const dropped: Record<AsyncQueueDrop, number> = { queueFull: 0, pendingLimit: 0, tooLargeForBus: 0, unavailable: 0 };
  let pending = 0;

  const full = (reason: 'queueFull' | 'pendingLimit', message: string): TooManyRequestsException => {
    dropped[reason] += 1;
    return new TooManyRequestsException(message, { reason: asyncQueueFullReason, retryAfterSeconds: 1 });
  };

  return {
    streamName,
    async enqueue(invocation, payload) {
      if (pending >= maxPending) throw full('pendingLimit', `Rate Exceeded. ${maxPending} asynchronous invocations are waiting to be stored.`);
      const headers = natsHeaders();
      let headerBytes = 16;
      for (const [name, value] of Object.entries(encodeAsyncInvocation(invocation))) {
        headers.set(name, value);
        headerBytes += name.length + value.length + 4;
      }
      // NATS refuses a message (headers included) above the server's max_payload, whatever Lambda's limit says.
      const serverLimit = bus.nc.info?.max_payload;
      if (serverLimit !== undefined && payload.byteLength + headerBytes > serverLimit) {
        dropped.tooLargeForBus += 1;
        throw new RequestTooLargeException(
          `Request must be smaller than ${serverLimit - headerBytes} bytes for the InvokeAsync operation on this deployment (the NATS server's max_payload is ${serverLimit} bytes).`,
        );
      }
      pending += 1;
      try {
        const ack = await bus.js.publish(asyncInvocationSubject(bus.prefix, invocation.functionName), payload, {
          msgID: asyncInvocationMessageId(invocation),
          headers,
          timeout: bus.requestTimeoutMs,
          expect: { streamName },
        });
        counts.published += 1;
        if (ack.duplicate) counts.duplicates += 1;
        return { duplicate: ack.duplicate };
      } catch (error) {
        if (isStreamFull(error)) throw full('queueFull', 'Rate Exceeded. The asynchronous invocation queue is full; retry later.');
        dropped.unavailable += 1;
        log.warn({ err: error, requestId: invocation.requestId }, 'asynchronous invocation not stored');
        throw new ServiceUnavailableException('The asynchronous invocation queue did not confirm the event; it may not be stored. Retry shortly.', {
          cause: error,
          retryAfterSeconds: 1,
        });
      } finally {
        pending -= 1;
      }
    },
    stats: () => ({ ...counts, pending, dropped: { ...dropped } }),
  };
}

/** JetStream's refusal of a publish to a stream at its limits with discard-new (err_code 10077, "maximum … exceeded"). */
export function isStreamFull(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = error instanceof JetStreamApiError ? error.code : undefined;
  return code === 10077 || /maximum (messages|bytes)/i.test(error.message);
}

async function ensureStream(bus: Bus, name: string, config: ReturnType<typeof asyncInvocationStreamConfig>): Promise<void> {
  try {
    const info = await bus.jsm.streams.info(name);
    if (info.config.retention !== RetentionPolicy.Workqueue) {
      throw new Error(`stream ${name} exists with retention ${info.config.retention}; the asynchronous invocation queue needs workqueue (delete the stream to recreate it)`);
    }
    await bus.jsm.streams.update(name, config.updatable);
    return;
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== JetStreamApiCodes.StreamNotFound) throw error;
  }
  try {
    await bus.jsm.streams.add(config.create);
  } catch (error) {
    // Another api created it between our look and our add.
    if (!(error instanceof JetStreamApiError)) throw error;
    await bus.jsm.streams.update(name, config.updatable);
  }
}
