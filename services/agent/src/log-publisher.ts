import { functionLogSubject, type LogEvent } from '@hearth/bus';
import type { Logger } from '@hearth/telemetry';
import type { CapturedLine } from './output-capture.js';

/** Sends one log line to JetStream; resolves on the stream's ack. */
export type LogPublishFn = (subject: string, payload: Uint8Array, requestId: string | undefined) => Promise<unknown>;

/** Options of createLogPublisher. */
export interface LogPublisherOptions {
  /** The JetStream publish (the agent's: `js.publish` with the request id header). */
  publish: LogPublishFn;
  /** NATS subject prefix (`bus.prefix`). */
  prefix: string;
  /** Put on every line as `instanceId`. */
  instanceId: string;
  logger: Logger;
  /** Lines waiting to be published at most; more are dropped and counted. Default 10000. */
  maxBacklogLines?: number;
  /** Bytes of lines waiting to be published at most; more are dropped and counted. Default 16 MiB. */
  maxBacklogBytes?: number;
  /** Publishes awaiting their ack at once (one batch). Default 256. */
  batchSize?: number;
  /** Deadline of each publish's ack, ms; a line not acked by then is dropped and counted. Default 5000. */
  publishTimeoutMs?: number;
  /** How often drops, when there were any, are logged (one line per interval), ms. Default 30000. */
  dropLogIntervalMs?: number;
}

/** Why lines were dropped instead of published. */
export type LogDropReason = 'backlogFull' | 'publishFailed' | 'shutdown';

/** Counters of a log publisher. */
export interface LogPublisherStats {
  published: number;
  dropped: Record<LogDropReason, number>;
  backlogLines: number;
  backlogBytes: number;
}

/** Publishes captured EE output to the function log stream. */
export interface LogPublisher {
  /** Queues one line; never blocks and never throws (a full backlog drops the line, counted). */
  offer(line: CapturedLine): void;
  stats(): LogPublisherStats;
  /** Stops taking lines, publishes what is queued within `deadlineMs` (default 2000), drops the rest (counted). Idempotent. */
  close(deadlineMs?: number): Promise<void>;
}

/** The LogEvent of a captured line: the contract's field names, plus the instance. */
export function toLogEvent(line: CapturedLine, instanceId: string): LogEvent {
  const { time, environmentId, function: functionName, version, stream, requestId, level, message, ...extra } = line;
  const event: LogEvent = { timestamp: time, functionName, version, environmentId, instanceId, stream, message };
  if (requestId !== undefined) event.requestId = requestId;
  if (level !== undefined) event.level = level;
  return Object.assign(event, extra);
}

interface Queued {
  subject: string;
  payload: Uint8Array;
  requestId: string | undefined;
}

/**
 * The agent's side of function logs: every captured line becomes a LogEvent
 * published on `${prefix}.logs.<function>.<version>.<environmentId>`. An EE
 * never waits for it: lines queue in a backlog bounded by lines and bytes,
 * go out in batches of concurrent publishes each with an ack deadline, and when
 * NATS is slow or down the backlog fills and new lines are dropped, counted by
 * reason, and reported in one log line per interval.
 */
export function createLogPublisher(options: LogPublisherOptions): LogPublisher {
  const maxLines = options.maxBacklogLines ?? 10_000;
  const maxBytes = options.maxBacklogBytes ?? 16 * 1024 * 1024;
  const batchSize = options.batchSize ?? 256;
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  const log = options.logger.child({ component: 'log-publisher' });
  const encoder = new TextEncoder();
  let queue: Queued[] = [];
  let queuedBytes = 0;
  let published = 0;
  const dropped: Record<LogDropReason, number> = { backlogFull: 0, publishFailed: 0, shutdown: 0 };
  let pumping: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  let stopped = false;

  let reported = 0;
  const dropTimer = setInterval(() => reportDrops(), options.dropLogIntervalMs ?? 30_000);
  dropTimer.unref();

  function totalDropped(): number {
    return dropped.backlogFull + dropped.publishFailed + dropped.shutdown;
  }

  function reportDrops(): void {
    const total = totalDropped();
    if (total === reported) return;
    log.warn(
      { event: 'logs.dropped', droppedSinceLastReport: total - reported, dropped: { ...dropped }, backlogLines: queue.length },
      'function log lines were dropped: NATS is slow or unreachable',
    );
    reported = total;
  }

  async function publishOne(item: Queued): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ack within ${publishTimeoutMs} ms`)), publishTimeoutMs);
    });
    try {
      await Promise.race([options.publish(item.subject, item.payload, item.requestId), deadline]);
      published += 1;
    } catch {
      dropped.publishFailed += 1;
    } finally {
      clearTimeout(timer);
    }
  }

  async function pump(): Promise<void> {
    while (queue.length > 0 && !stopped) {
      const batch = queue.splice(0, batchSize);
      for (const item of batch) queuedBytes -= item.payload.byteLength;
      await Promise.all(batch.map(publishOne));
    }
  }

  function kick(): void {
    // Lines printed in one tick go out together: the pump starts on the next turn of the event loop.
    pumping ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(pump)
      .finally(() => {
        pumping = undefined;
        if (queue.length > 0 && !stopped) kick();
      });
  }

  return {
    offer(line) {
      if (closing) return;
      let payload: Uint8Array;
      let subject: string;
      try {
        subject = functionLogSubject(options.prefix, line.function, line.version, line.environmentId);
        payload = encoder.encode(JSON.stringify(toLogEvent(line, options.instanceId)));
      } catch {
        dropped.publishFailed += 1;
        return;
      }
      if (queue.length >= maxLines || queuedBytes + payload.byteLength > maxBytes) {
        dropped.backlogFull += 1;
        return;
      }
      queue.push({ subject, payload, requestId: line.requestId });
      queuedBytes += payload.byteLength;
      kick();
    },
    stats() {
      return { published, dropped: { ...dropped }, backlogLines: queue.length, backlogBytes: queuedBytes };
    },
    close(deadlineMs = 2_000) {
      closing ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const flushed = (async () => {
          while (pumping) await pumping;
        })();
        await Promise.race([flushed, new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
        clearTimeout(timer);
        stopped = true;
        dropped.shutdown += queue.length;
        queue = [];
        queuedBytes = 0;
        clearInterval(dropTimer);
        reportDrops();
      })();
      return closing;
    },
  };
}
