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
  /** Publishes awaiting their ack at once; as each is acked the next line goes out. Default 256. */
  maxInFlight?: number;
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
 * go out as a window of up to maxInFlight concurrent publishes, each with an
 * ack deadline (lines printed in one tick are handed over together), and when
 * NATS is slow or down the backlog fills and new lines are dropped, counted by
 * reason, and reported in one log line per interval.
 */
export function createLogPublisher(options: LogPublisherOptions): LogPublisher {
  const maxLines = options.maxBacklogLines ?? 10_000;
  const maxBytes = options.maxBacklogBytes ?? 16 * 1024 * 1024;
  const maxInFlight = options.maxInFlight ?? 256;
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  const log = options.logger.child({ component: 'log-publisher' });
  const encoder = new TextEncoder();
  // A FIFO with a moving head: dequeuing is O(1), the array is compacted now and then.
  let queue: Queued[] = [];
  let head = 0;
  let queuedBytes = 0;
  let inFlight = 0;
  let published = 0;
  const dropped: Record<LogDropReason, number> = { backlogFull: 0, publishFailed: 0, shutdown: 0 };
  let scheduled = false;
  let closing: Promise<void> | undefined;
  let stopped = false;
  let wakeIdle: (() => void) | undefined;
  // Subjects of the EEs seen lately: encoding a subject per line would cost more than the publish call.
  const subjects = new Map<string, string>();

  let reported = 0;
  const dropTimer = setInterval(() => reportDrops(), options.dropLogIntervalMs ?? 30_000);
  dropTimer.unref();

  const backlog = () => queue.length - head;

  function totalDropped(): number {
    return dropped.backlogFull + dropped.publishFailed + dropped.shutdown;
  }

  function reportDrops(): void {
    const total = totalDropped();
    if (total === reported) return;
    log.warn(
      { event: 'logs.dropped', droppedSinceLastReport: total - reported, dropped: { ...dropped }, backlogLines: backlog() },
      'function log lines were dropped: NATS is slow or unreachable',
    );
    reported = total;
  }

  function subjectOf(line: CapturedLine): string {
    const key = `${line.function}\u0000${line.version}\u0000${line.environmentId}`;
    let subject = subjects.get(key);
    if (subject === undefined) {
      if (subjects.size >= 1_024) subjects.clear();
      subject = functionLogSubject(options.prefix, line.function, line.version, line.environmentId);
      subjects.set(key, subject);
    }
    return subject;
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

  /** Keeps up to maxInFlight publishes awaiting acks: a sliding window, not stop-and-wait batches. */
  function pump(): void {
    while (!stopped && inFlight < maxInFlight && head < queue.length) {
      const item = queue[head] as Queued;
      queue[head] = undefined as unknown as Queued;
      head += 1;
      queuedBytes -= item.payload.byteLength;
      inFlight += 1;
      void publishOne(item).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
    if (head > 1_024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    if (inFlight === 0 && (head >= queue.length || stopped)) wakeIdle?.();
  }

  function schedule(): void {
    // Lines printed in one tick go out together, after the EE's output handler has returned.
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      pump();
    });
  }

  return {
    offer(line) {
      if (closing) return;
      let payload: Uint8Array;
      let subject: string;
      try {
        subject = subjectOf(line);
        payload = encoder.encode(JSON.stringify(toLogEvent(line, options.instanceId)));
      } catch {
        dropped.publishFailed += 1;
        return;
      }
      if (backlog() >= maxLines || queuedBytes + payload.byteLength > maxBytes) {
        dropped.backlogFull += 1;
        return;
      }
      queue.push({ subject, payload, requestId: line.requestId });
      queuedBytes += payload.byteLength;
      schedule();
    },
    stats() {
      return { published, dropped: { ...dropped }, backlogLines: backlog(), backlogBytes: queuedBytes };
    },
    close(deadlineMs = 2_000) {
      closing ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wakeIdle = resolve;
          timer = setTimeout(resolve, deadlineMs);
          pump();
        });
        clearTimeout(timer);
        stopped = true;
        dropped.shutdown += backlog();
        queue = [];
        head = 0;
        queuedBytes = 0;
        clearInterval(dropTimer);
        reportDrops();
      })();
      return closing;
    },
  };
}
