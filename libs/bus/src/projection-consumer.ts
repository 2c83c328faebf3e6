import type { RecordedEvent } from '@hearth/event-store';
import { extractTraceContext, runWithRequest, type Logger } from '@hearth/telemetry';
import {
  AckPolicy,
  DeliverPolicy,
  ReplayPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { context } from '@opentelemetry/api';
import type { Bus } from './connect-bus.js';
import { consumerInfo, deleteConsumer, positionAtAckFloor } from './consumer-admin.js';
import { fromEventPayload } from './event-message.js';
import { allEventsSubject } from './naming.js';
import { inMemoryCheckpoint, type ProjectionCheckpoint } from './projection-checkpoint.js';

/** Options of runProjection. */
export interface ProjectionOptions {
  bus: Bus;
  /**
   * Name of the JetStream durable consumer. One per read model per process:
   * two processes sharing a durable would split the events between them.
   */
  durableName: string;
  /** Which events to receive. Default every event (`${prefix}.events.>`); see eventFilterSubject(). */
  filterSubject?: string;
  /** Applies one event to the read model. Runs in the appender's trace context and request id. */
  handle(event: RecordedEvent): Promise<void> | void;
  /** Where the last handled position is kept. Default inMemoryCheckpoint(): replay everything on each start. */
  checkpoint?: ProjectionCheckpoint;
  /** Empties the read model; called by rebuild() before the replay. Default none. */
  reset?(): Promise<void> | void;
  logger: Logger;
  /** JetStream `ack_wait`: how long a delivered event may stay unacknowledged before redelivery. Default 10000 ms. */
  ackWaitMs?: number;
  /** Tries of a failing handler, with doubling backoff from 100 ms (at most 5 s), before the projection halts. Default 5. */
  maxHandlerAttempts?: number;
  /** Most time stop() waits for the handler in progress. Default 10000 ms. */
  stopTimeoutMs?: number;
}

/** A running projection. */
export interface Projection {
  /** Position of the last event handled (or skipped as already handled). */
  readonly position: number;
  /** Events handed to the handler. */
  readonly handled: number;
  /** Events acknowledged without handling because their position was at or below the checkpoint. */
  readonly skipped: number;
  /**
   * Resolves when the projection stops: undefined after stop(), or the error
   * that halted it (a handler that kept failing, a lost consumer). Never rejects.
   */
  readonly closed: Promise<Error | undefined>;
  /**
   * Resets the read model and the checkpoint, recreates the consumer from the
   * start of the stream, and resumes. Rejects on a stopped or halted projection.
   */
  rebuild(): Promise<void>;
  /** Stops after the event in progress, acknowledging it; idempotent. */
  stop(): Promise<void>;
}

/**
 * Builds a read model from the event stream with a durable pull consumer.
 * Events are handled strictly one at a time in stream (= position) order,
 * idempotently by position: an event at or below the checkpoint is
 * acknowledged and skipped.
 *
 * The consumer allows one unacknowledged event (`max_ack_pending` 1): with
 * more, an event redelivered after a crash could arrive after later ones had
 * moved the checkpoint past it, and be skipped. `max_deliver` is unlimited
 * because dropping an event would silently corrupt the read model; a handler
 * that keeps failing halts the projection instead (see `closed`). While a
 * handler runs, the event's ack deadline is extended, so a slow handler is
 * not raced by a redelivery.
 */
export async function runProjection(options: ProjectionOptions): Promise<Projection> {
  const { bus, durableName } = options;
  const checkpoint = options.checkpoint ?? inMemoryCheckpoint();
  const filterSubject = options.filterSubject ?? allEventsSubject(bus.prefix);
  const ackWaitMs = options.ackWaitMs ?? 10_000;
  const maxHandlerAttempts = options.maxHandlerAttempts ?? 5;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const log = options.logger.child({ component: 'projection', durableName });
  const stream = bus.eventStreamName;
  const desired: Partial<ConsumerConfig> = {
    durable_name: durableName,
    filter_subject: filterSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    ack_wait: nanos(ackWaitMs),
    max_deliver: -1,
    max_ack_pending: 1,
  };

  const state = { position: await checkpoint.load(), handled: 0, skipped: 0 };
  let messages: ConsumerMessages | undefined;
  let loop: Promise<Error | undefined> = Promise.resolve(undefined);
  let stopping = false;
  let settle!: (result: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((resolve) => (settle = resolve));

  const recreateConsumer = async (): Promise<void> => {
    await deleteConsumer(bus, stream, durableName);
    await bus.jsm.consumers.add(stream, desired);
  };

  const prepareConsumer = async (): Promise<void> => {
    await bus.ensureEventStream();
    const existing = await consumerInfo(bus, stream, durableName);
    if (existing === undefined) {
      await bus.jsm.consumers.add(stream, desired);
      return;
    }
    if (existing.config.filter_subject !== filterSubject) {
      // Another filter means another read model: events the old filter left out
      // lie below the checkpoint, so only a rebuild from zero is right.
      log.info({ was: existing.config.filter_subject, now: filterSubject }, 'filter changed: rebuilding the read model');
      await options.reset?.();
      await checkpoint.save(0);
      state.position = 0;
      await recreateConsumer();
      return;
    }
    const ackedPosition = await positionAtAckFloor(bus, stream, existing);
    if (ackedPosition > state.position) {
      // The consumer has acknowledged events the checkpoint does not cover (a
      // lost or in-memory checkpoint): start over; events at or below the
      // checkpoint are skipped on the way.
      log.info({ ackedPosition, checkpoint: state.position }, 'recreating the consumer from the start of the stream');
      await recreateConsumer();
      return;
    }
    await bus.jsm.consumers.update(stream, durableName, {
      ack_wait: desired.ack_wait,
      max_deliver: desired.max_deliver,
      max_ack_pending: desired.max_ack_pending,
    });
  };

  const handleWithRetries = async (event: RecordedEvent, msg: JsMsg): Promise<void> => {
    const traceContext = extractTraceContext((key) => msg.headers?.get(key) || undefined);
    const requestId = typeof event.metadata.requestId === 'string' ? event.metadata.requestId : undefined;
    const invoke = () => context.with(traceContext, () => options.handle(event));
    const heartbeat = setInterval(() => msg.working(), Math.max(100, Math.floor(ackWaitMs / 3)));
    try {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await (requestId === undefined ? invoke() : runWithRequest(requestId, invoke));
          return;
        } catch (error) {
          if (attempt >= maxHandlerAttempts || stopping) throw error;
          log.warn({ err: error, position: event.position, attempt }, 'projection handler failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** (attempt - 1), 5_000)));
        }
      }
    } finally {
      clearInterval(heartbeat);
    }
  };

  const consume = async (): Promise<Error | undefined> => {
    const consumer = await bus.js.consumers.get(stream, durableName);
    // With max_ack_pending 1 the server sends one event at a time whatever we
    // ask; 64 only sizes each pull request.
    const iterator = await consumer.consume({ max_messages: 64 });
    messages = iterator;
    if (stopping) {
      // stop() came while the consumer was being set up, before it could stop us.
      iterator.stop();
      return undefined;
    }
    // Whatever ends the loop, stop pulling (stop(), not close(): close() waits
    // for this very loop to finish); an event still in hand is nak'ed after
    // that, so it is not redelivered into our own buffer. A pull request
    // already sent may still catch it; then it returns after ack_wait.
    const giveBack = (msg: JsMsg): void => {
      iterator.stop();
      msg.nak();
    };
    try {
      for await (const msg of iterator) {
        if (stopping) {
          giveBack(msg);
          break;
        }
        let event: RecordedEvent;
        try {
          event = fromEventPayload(msg.data);
        } catch (error) {
          log.error({ err: error, seq: msg.seq }, 'not an event message; terminating its delivery');
          msg.term();
          continue;
        }
        if (event.position <= state.position) {
          state.skipped += 1;
          msg.ack();
          continue;
        }
        try {
          await handleWithRetries(event, msg);
        } catch (error) {
          giveBack(msg);
          if (!stopping) {
            log.error({ err: error, position: event.position, type: event.type }, 'projection halted: handler keeps failing');
          }
          return error instanceof Error ? error : new Error(String(error));
        }
        await checkpoint.save(event.position);
        state.position = event.position;
        state.handled += 1;
        msg.ack();
      }
      return undefined;
    } finally {
      iterator.stop();
    }
  };

  let halted: Error | undefined;
  const start = (): void => {
    const current = consume().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    loop = current;
    void current.then((result) => {
      // stop() and rebuild() end the loop on purpose and settle `closed` themselves.
      if (stopping) return;
      halted = result ?? new Error(`Projection ${durableName}: the consumer stopped delivering`);
      settle(halted);
    });
  };

  const halt = async (): Promise<void> => {
    stopping = true;
    messages?.stop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([loop, new Promise((resolve) => (timer = setTimeout(resolve, stopTimeoutMs)))]);
    clearTimeout(timer);
    // Acks are fire-and-forget; make sure the last ones left before we go.
    await bus.nc.flush().catch(() => {});
  };

  await prepareConsumer();
  start();

  let stopped: Promise<void> | undefined;
  let rebuilding: Promise<void> | undefined;
  return {
    get position() {
      return state.position;
    },
    get handled() {
      return state.handled;
    },
    get skipped() {
      return state.skipped;
    },
    closed,
    rebuild() {
      if (stopped || halted) {
        return Promise.reject(new Error(`Projection ${durableName} is ${stopped ? 'stopped' : 'halted'}; run a new one`));
      }
      rebuilding ??= (async () => {
        try {
          await halt();
          await options.reset?.();
          await checkpoint.save(0);
          state.position = 0;
          await recreateConsumer();
          stopping = false;
          start();
          log.info('projection rebuilding from the start of the stream');
        } finally {
          rebuilding = undefined;
        }
      })();
      return rebuilding;
    },
    stop() {
      stopped ??= (async () => {
        await rebuilding?.catch(() => {});
        await halt();
        settle(undefined);
      })();
      return stopped;
    },
  };
}
