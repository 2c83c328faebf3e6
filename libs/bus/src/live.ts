import { extractTraceContext, injectTraceContext, type Logger } from '@hearth/telemetry';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { context } from '@opentelemetry/api';
import { liveSubject } from './naming.js';

/** Handles one live message; may be async. */
export type LiveHandler<T> = (data: T, message: { subject: string }) => void | Promise<void>;

/** Options of subscribeLive. */
export interface LiveSubscriptionOptions {
  /**
   * Most async handler calls in flight at once; a message arriving beyond
   * that is dropped and counted (live data is superseded by the next report
   * anyway). Default 64.
   */
  maxInFlight?: number;
  /** NATS queue group, to share the messages among subscribers. Default none (each gets all). */
  queue?: string;
}

/** A live subscription. */
export interface LiveSubscription {
  /** Messages dropped because `maxInFlight` handlers were running. */
  readonly dropped: number;
  /** Messages whose payload was not JSON or whose handler threw. */
  readonly failed: number;
  unsubscribe(): void;
}

/** Publishes JSON `data` on `${prefix}.live.<subject>` with the active trace context in headers. */
export function publishLive(nc: NatsConnection, prefix: string, subject: string, data: unknown): void {
  const headers = natsHeaders();
  injectTraceContext((key, value) => headers.set(key, value));
  nc.publish(liveSubject(prefix, subject), JSON.stringify(data), { headers });
}

/** Subscribes to `${prefix}.live.<subject>`; each handler runs in the trace context of the message. */
export function subscribeLive<T>(
  nc: NatsConnection,
  prefix: string,
  logger: Logger,
  subject: string,
  handler: LiveHandler<T>,
  options: LiveSubscriptionOptions = {},
): LiveSubscription {
  const maxInFlight = options.maxInFlight ?? 64;
  const fullPrefix = liveSubject(prefix, '');
  let inFlight = 0;
  const counters = { dropped: 0, failed: 0 };
  const fail = (error: unknown, on: string): void => {
    counters.failed += 1;
    logger.warn({ err: error, subject: on }, 'live message handler failed');
  };
  const subscription = nc.subscribe(liveSubject(prefix, subject), {
    ...(options.queue === undefined ? {} : { queue: options.queue }),
    callback: (error, msg) => {
      if (error) {
        fail(error, subject);
        return;
      }
      if (inFlight >= maxInFlight) {
        counters.dropped += 1;
        return;
      }
      let data: T;
      try {
        data = msg.json<T>();
      } catch (parseError) {
        fail(parseError, msg.subject);
        return;
      }
      const traceContext = extractTraceContext((key) => msg.headers?.get(key) || undefined);
      const shortSubject = msg.subject.startsWith(fullPrefix) ? msg.subject.slice(fullPrefix.length) : msg.subject;
      try {
        const result = context.with(traceContext, () => handler(data, { subject: shortSubject }));
        if (result instanceof Promise) {
          inFlight += 1;
          result.catch((handlerError: unknown) => fail(handlerError, msg.subject)).finally(() => (inFlight -= 1));
        }
      } catch (handlerError) {
        fail(handlerError, msg.subject);
      }
    },
  });
  return {
    get dropped() {
      return counters.dropped;
    },
    get failed() {
      return counters.failed;
    },
    unsubscribe: () => subscription.unsubscribe(),
  };
}
