import { functionLogFilterSubject, functionLogStreamName, logRequestIdHeader, type Bus } from '@hearth/bus';
import { ServiceException } from '@hearth/errors';
import { JetStreamApiCodes, JetStreamApiError, type Consumer, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { LogQuery } from './log-query.js';

/** Limits of a log read. */
export interface LogReadLimits {
  /** How long reading the stored lines may take, ms; past it the request fails with ServiceException. Default 30000. */
  readTimeoutMs?: number;
  /** Most bytes of events one answer without `follow` holds; older events beyond it are left out. Default 16 MiB. */
  maxResponseBytes?: number;
}

/** Messages an ordered consumer pulls at once: the most a reader holds in memory besides its answer. */
const pullBatch = 256;
/** A consumer left behind by a crashed api is removed by the server after this long idle. */
const inactiveThresholdMs = 60_000;

/** Creates the ordered consumer of a query, or undefined when the stream does not exist (nothing was ever logged). */
async function openConsumer(bus: Bus, query: LogQuery): Promise<Consumer | undefined> {
  try {
    return await bus.js.consumers.get(functionLogStreamName(bus.prefix), {
      filter_subjects: functionLogFilterSubject(bus.prefix, query.functionName, query.qualifier),
      opt_start_time: new Date(query.sinceMs).toISOString(),
      inactive_threshold: inactiveThresholdMs,
    });
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined;
    if (error instanceof Error && /stream not found/i.test(error.message)) return undefined;
    throw error;
  }
}

/** The LogEvent JSON of a message, or undefined when it is not one of this query's (another request id, or not JSON). */
function selectEvent(message: JsMsg, requestId: string | undefined): string | undefined {
  if (requestId !== undefined && message.headers?.get(logRequestIdHeader) !== requestId) return undefined;
  const text = message.string();
  return text.startsWith('{') && text.endsWith('}') ? text : undefined;
}

/** The newest events seen, bounded by count and bytes; the oldest make room. */
class NewestWindow {
  private items: string[] = [];
  private head = 0;
  private bytes = 0;

  constructor(
    private readonly maxItems: number,
    private readonly maxBytes: number,
  ) {}

  push(item: string): void {
    this.items.push(item);
    this.bytes += item.length;
    while (this.items.length - this.head > this.maxItems || (this.bytes > this.maxBytes && this.items.length - this.head > 1)) {
      this.bytes -= (this.items[this.head] as string).length;
      this.head += 1;
    }
    // Compact now and then so dropped items do not pile up.
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  toArray(): string[] {
    return this.items.slice(this.head);
  }
}

/**
 * The stored events of a query, oldest first: the newest `limit` of those
 * since `sinceMs` (fewer when they pass `maxResponseBytes`). Reads the stream
 * with an ordered consumer up to what it held when the read began, within a
 * deadline; the consumer is deleted afterwards. Each element is one LogEvent's JSON.
 */
export async function readLogEvents(bus: Bus, query: LogQuery, limits: LogReadLimits = {}, signal?: AbortSignal): Promise<string[]> {
  const readTimeoutMs = limits.readTimeoutMs ?? 30_000;
  const consumer = await openConsumer(bus, query);
  if (!consumer) return [];
  const window = new NewestWindow(query.limit, limits.maxResponseBytes ?? 16 * 1024 * 1024);
  let messages: ConsumerMessages | undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void messages?.close();
  }, readTimeoutMs);
  const onAbort = () => void messages?.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // What matched when the consumer was created is the answer; lines logged while reading are not chased.
    const stored = (await consumer.info(true)).num_pending;
    if (stored === 0) return [];
    messages = await consumer.consume({ max_messages: pullBatch });
    if (timedOut || signal?.aborted) await messages.close();
    let delivered = 0;
    for await (const message of messages) {
      delivered += 1;
      const event = selectEvent(message, query.requestId);
      if (event !== undefined) window.push(event);
      if (delivered >= stored || message.info.pending === 0) break;
    }
    if (signal?.aborted) throw signal.reason;
    if (timedOut) {
      throw new ServiceException(
        `Reading the logs of ${query.functionName} took longer than ${readTimeoutMs} ms; narrow the request with a later since, a qualifier or a requestId.`,
      );
    }
    return window.toArray();
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    await messages?.close().catch(() => undefined);
    await consumer.delete().catch(() => undefined);
  }
}

/**
 * Every event of a query from `sinceMs` on, stored first and then live, until
 * `signal` aborts. Resolves once the consumer exists (so a failure can still
 * be answered as an error). Flow control is the caller's: the consumer pulls
 * at most `pullBatch` messages ahead of what the caller has taken, so a caller
 * that stops taking (a slow HTTP client) makes this stop reading, never
 * buffer. The consumer is deleted when the iteration ends.
 */
export async function followLogEvents(bus: Bus, query: LogQuery, signal: AbortSignal): Promise<AsyncGenerator<string>> {
  const consumer = await openConsumer(bus, query);
  if (!consumer) throw new ServiceException('The function log stream does not exist yet; retry in a moment.');
  let messages: ConsumerMessages;
  try {
    messages = await consumer.consume({ max_messages: pullBatch });
  } catch (error) {
    await consumer.delete().catch(() => undefined);
    throw error;
  }
  const onAbort = () => void messages.close();
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  return (async function* () {
    try {
      for await (const message of messages) {
        const event = selectEvent(message, query.requestId);
        if (event !== undefined) yield event;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      await messages.close().catch(() => undefined);
      await consumer.delete().catch(() => undefined);
    }
  })();
}
