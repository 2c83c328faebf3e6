import { withDeadline, type Checkpoint, type EventStore, type RecordedEvent } from '@hearth/event-store';
import type { Logger } from '@hearth/telemetry';
import type { Bus } from './connect-bus.js';
import { toEventMessage } from './event-message.js';
import { lastPublishedPosition } from './last-published-position.js';
import { Wakeup } from './wakeup.js';

/** Options of startOutboxRelay. */
export interface OutboxRelayOptions {
  /** The event store to relay; its pool also serves the relay's LISTEN and leader connections. */
  store: EventStore;
  bus: Bus;
  logger: Logger;
  /** Events read from Postgres per batch; the checkpoint is saved after each batch. Default 256. */
  batchSize?: number;
  /** How often to look for new events when no NOTIFY arrives (a missed notification costs at most this). Default 1000 ms. */
  pollIntervalMs?: number;
  /** How often a relay that is not the leader tries to become it. Default 3000 ms. */
  leaderRetryIntervalMs?: number;
  /** Wait after a failed publish or query before trying again. Default 1000 ms. */
  errorBackoffMs?: number;
  /** Deadline of each Postgres read; an overdue one counts as a failure and is retried. Default 10000 ms. */
  queryTimeoutMs?: number;
  /** Most time `stop()` waits for the batch in progress before closing anyway. Default 10000 ms. */
  stopTimeoutMs?: number;
  /** Names the leader lock and the Postgres checkpoint; one relay role per store. Default `outbox-relay`. */
  name?: string;
  /** Called after each event's ack with the ack time (epoch ms); for metrics. Must not throw. Default none. */
  onPublished?: (event: RecordedEvent, ackedAtMs: number) => void;
}

/** How far the relay has got. */
export interface OutboxRelayStats {
  /** Whether this relay is the active one. */
  leader: boolean;
  /** Highest position acknowledged by JetStream (as far as this relay knows). */
  publishedPosition: number;
  /** Highest committed position seen (from NOTIFY and polling). */
  headPosition: number;
  /** headPosition − publishedPosition, in positions (an upper bound on unpublished events). */
  lagPositions: number;
  /** Commit → JetStream ack of the last published event, in ms (from its `recordedAt`). */
  lastPublishLatencyMs: number | undefined;
  /** Events this relay published and JetStream stored. */
  published: number;
  /** Publishes JetStream dropped as duplicates (same event id within the dedup window). */
  duplicates: number;
  /** Failed publishes or queries (each followed by a backoff and a retry). */
  errors: number;
}

/** A running outbox relay. */
export interface OutboxRelay {
  /** Whether this relay currently holds the leader lock. */
  isLeader(): boolean;
  stats(): OutboxRelayStats;
  /** Stops relaying, releases the leader lock and the connections. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the outbox relay: competes for the leader lock; while leader, reads
 * committed events after its checkpoint in position order and publishes each
 * to JetStream with the event id as message id, waiting for each ack before
 * the next — so the stream's order is position order even across a leader
 * change — and saves the checkpoint after each batch. On becoming leader it
 * resumes from max(Postgres checkpoint, position of the stream's last message).
 * Wakes on NOTIFY `<schema>_events` and polls as a fallback.
 */
export async function startOutboxRelay(options: OutboxRelayOptions): Promise<OutboxRelay> {
  const { store, bus, logger } = options;
  const name = options.name ?? 'outbox-relay';
  const batchSize = options.batchSize ?? 256;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const leaderRetryIntervalMs = options.leaderRetryIntervalMs ?? 3_000;
  const errorBackoffMs = options.errorBackoffMs ?? 1_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const queryTimeoutMs = options.queryTimeoutMs ?? 10_000;
  const log = logger.child({ component: name });

  const wakeup = new Wakeup();
  const stats: OutboxRelayStats = {
    leader: false,
    publishedPosition: 0,
    headPosition: 0,
    lagPositions: 0,
    lastPublishLatencyMs: undefined,
    published: 0,
    duplicates: 0,
    errors: 0,
  };
  const noteHead = (position: number): void => {
    if (position > stats.headPosition) stats.headPosition = position;
  };

  const listener = await store.sql.listen(store.notifyChannel, (payload) => {
    noteHead(Number(payload) || 0);
    wakeup.signal();
  });
  const session = await store.openLeaderSession(name);
  const checkpoint = session.checkpoint(name);

  const publish = async (event: RecordedEvent): Promise<void> => {
    const message = toEventMessage(bus.prefix, event);
    const ack = await bus.js.publish(message.subject, message.payload, {
      msgID: message.msgID,
      headers: message.headers,
      timeout: bus.requestTimeoutMs,
      expect: { streamName: bus.eventStreamName },
    });
    const ackedAt = Date.now();
    if (ack.duplicate) stats.duplicates += 1;
    else stats.published += 1;
    stats.publishedPosition = event.position;
    stats.lastPublishLatencyMs = ackedAt - Date.parse(event.recordedAt);
    options.onPublished?.(event, ackedAt);
  };

  const becomeLeader = async (): Promise<boolean> => {
    if (!(await session.tryAcquire())) return false;
    await bus.ensureEventStream();
    const [saved, inStream] = await Promise.all([
      withDeadline(checkpoint.load(), queryTimeoutMs, 'load the relay checkpoint'),
      lastPublishedPosition(bus),
    ]);
    stats.publishedPosition = Math.max(saved, inStream);
    stats.leader = true;
    log.info({ checkpoint: saved, lastInStream: inStream, resumeAfter: stats.publishedPosition }, 'outbox relay is the leader');
    return true;
  };

  const relayBatch = async (): Promise<number> => {
    const batch = await withDeadline(
      store.readAll({ fromPosition: stats.publishedPosition + 1, limit: batchSize }),
      queryTimeoutMs,
      'read events to relay',
    );
    try {
      for (const event of batch) {
        if (wakeup.stopped) break;
        await publish(event);
      }
    } finally {
      // Persist what was acknowledged even when a publish failed part-way.
      if (batch.length > 0) await saveCheckpoint(checkpoint, stats, log);
    }
    const last = batch.at(-1);
    if (last) noteHead(last.position);
    return batch.length;
  };

  const run = async (): Promise<void> => {
    while (!wakeup.stopped) {
      try {
        if (!stats.leader) {
          if (!(await becomeLeader())) {
            await wakeup.wait(leaderRetryIntervalMs);
            continue;
          }
        } else if (!(await session.isHeld())) {
          demote(stats, log, 'lost the leader lock');
          continue;
        }
        const relayed = await relayBatch();
        if (!stats.leader) continue;
        if (relayed < batchSize) {
          // Everything committed when the batch was read is published now.
          noteHead(stats.publishedPosition);
          await wakeup.wait(pollIntervalMs);
        }
      } catch (error) {
        stats.errors += 1;
        log.warn({ err: error, publishedPosition: stats.publishedPosition }, 'outbox relay failed; retrying');
        await wakeup.wait(errorBackoffMs);
      }
    }
  };
  const running = run();

  let stopping: Promise<void> | undefined;
  return {
    isLeader: () => stats.leader,
    stats: () => ({ ...stats, lagPositions: Math.max(0, stats.headPosition - stats.publishedPosition) }),
    stop() {
      stopping ??= (async () => {
        wakeup.stop();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([running, new Promise((resolve) => (timer = setTimeout(resolve, stopTimeoutMs)))]);
        clearTimeout(timer);
        stats.leader = false;
        await Promise.allSettled([session.close(), listener.unlisten()]);
        log.info({ publishedPosition: stats.publishedPosition }, 'outbox relay stopped');
      })();
      return stopping;
    },
  };
}

async function saveCheckpoint(checkpoint: Checkpoint, stats: OutboxRelayStats, log: Logger): Promise<void> {
  if (await checkpoint.save(stats.publishedPosition)) return;
  demote(stats, log, 'checkpoint refused: the leader lock is held elsewhere');
}

function demote(stats: OutboxRelayStats, log: Logger, why: string): void {
  stats.leader = false;
  log.warn({ publishedPosition: stats.publishedPosition }, `outbox relay stepped down: ${why}`);
}

