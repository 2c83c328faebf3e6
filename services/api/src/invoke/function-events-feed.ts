/**
 * Feeds the function events of every writer, as the outbox relay publishes
 * them to JetStream, into the api's function-state cache: an ephemeral
 * ordered consumer from "now" on `${prefix}.events.function.*`. Events before
 * the feed started are irrelevant (the cache is empty then and reads the read
 * model on a miss). If the consumer ever stops, the cache is cleared before the
 * feed resumes, since events may have passed unseen meanwhile.
 */
import { eventFilterSubject, fromEventPayload, type Bus } from '@hearth/bus';
import type { FunctionEvent } from '@hearth/domain';
import { parseStreamId } from '@hearth/event-store';
import type { Logger } from '@hearth/telemetry';
import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import type { FunctionStates } from './function-states.js';

/** Options of startFunctionEventsFeed. */
export interface FunctionEventsFeedOptions {
  bus: Bus;
  states: Pick<FunctionStates, 'observe' | 'clear'>;
  logger: Logger;
  /** Wait before resuming a feed that stopped; doubles up to 30 s. Default 500 ms. */
  restartDelayMs?: number;
}

/** A running feed. */
export interface FunctionEventsFeed {
  /** Events handed to the cache. */
  readonly observed: number;
  /** Stops the consumer; idempotent. */
  stop(): Promise<void>;
}

/** Starts the feed; resolves once the consumer exists, so appends made after it are seen. */
export async function startFunctionEventsFeed(options: FunctionEventsFeedOptions): Promise<FunctionEventsFeed> {
  const { bus, states } = options;
  const log = options.logger.child({ component: 'function-events-feed' });
  const baseDelay = options.restartDelayMs ?? 500;
  let messages: ConsumerMessages | undefined;
  let stopped = false;
  let observed = 0;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const open = async (): Promise<ConsumerMessages> => {
    await bus.ensureEventStream();
    const consumer = await bus.js.consumers.get(bus.eventStreamName, {
      // One subject as a string: a list needs nats-server 2.10, and 2.9 is supported.
      filter_subjects: eventFilterSubject(bus.prefix, { category: 'function' }),
      deliver_policy: DeliverPolicy.New,
    });
    return consumer.consume();
  };

  const drain = async (iterator: ConsumerMessages): Promise<void> => {
    for await (const msg of iterator) {
      try {
        const event = fromEventPayload(msg.data);
        states.observe(parseStreamId(event.streamId).id, event as unknown as FunctionEvent, event.streamVersion);
        observed += 1;
      } catch (error) {
        log.warn({ err: error, seq: msg.seq }, 'not a function event; skipped');
      }
    }
  };

  const run = async (first: ConsumerMessages): Promise<void> => {
    let iterator: ConsumerMessages | undefined = first;
    let delay = baseDelay;
    while (!stopped) {
      try {
        iterator ??= await open();
        messages = iterator;
        await drain(iterator);
      } catch (error) {
        if (!stopped) log.warn({ err: error }, 'function event feed failed');
      }
      iterator = undefined;
      if (stopped) return;
      // Events may have passed unseen: forget everything rather than answer from a stale state.
      states.clear();
      log.warn({ retryInMs: delay }, 'function event feed stopped; cache cleared, resuming');
      await sleep(delay);
      delay = Math.min(delay * 2, 30_000);
    }
  };

  const first = await open();
  const loop = run(first);
  return {
    get observed() {
      return observed;
    },
    async stop() {
      stopped = true;
      messages?.stop();
      wake?.();
      await loop;
    },
  };
}
