import { ServiceUnavailableException } from '@hearth/errors';
import { withDeadline } from '@hearth/event-store';
import type { Logger } from '@hearth/telemetry';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StreamInfo,
} from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { publishLive, subscribeLive, type LiveHandler, type LiveSubscription, type LiveSubscriptionOptions } from './live.js';
import { allEventsSubject, assertPrefix, defaultPrefix, eventStreamName } from './naming.js';

/** Options of connectBus. */
export interface BusOptions {
  /** NATS server URL(s), comma-separated. */
  url: string;
  /** Connection name shown by the server (e.g. the service name). */
  name: string;
  /**
   * Prefix of every subject, stream and bucket this bus uses; distinct
   * prefixes let several Hearth installations (or test files) share a server.
   * Default `HEARTH_NATS_PREFIX`, else `hearth`.
   */
  prefix?: string;
  logger: Logger;
  /** How long the first connection may take, retrying, before connectBus fails. Default 30000 ms. */
  connectTimeoutMs?: number;
  /** Deadline of JetStream API calls and publish acks. Default 5000 ms. */
  requestTimeoutMs?: number;
}

/** A NATS connection with JetStream, named after Hearth's conventions. */
export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly prefix: string;
  readonly logger: Logger;
  /** The JetStream stream holding events (`${PREFIX}_EVENTS`). */
  readonly eventStreamName: string;
  /** Deadline of JetStream API calls and publish acks, in ms. */
  readonly requestTimeoutMs: number;
  /**
   * Creates the event stream, or updates it to the expected configuration:
   * subjects `${prefix}.events.>`, file storage, limits retention, a 2-minute
   * duplicate window (the relay's msg-id dedup). Idempotent.
   */
  ensureEventStream(): Promise<StreamInfo>;
  /** Publishes JSON `data` on `${prefix}.live.<subject>` with the active trace context. Fire and forget. */
  publishLive(subject: string, data: unknown): void;
  /** Subscribes to `${prefix}.live.<subject>` (wildcards allowed); handlers run in the publisher's trace context. */
  subscribeLive<T = unknown>(subject: string, handler: LiveHandler<T>, options?: LiveSubscriptionOptions): LiveSubscription;
  /** Drains subscriptions and closes the connection (closing outright after 5 s). Idempotent. */
  close(): Promise<void>;
}

/** Most time close() lets a drain take before closing outright. */
const closeTimeoutMs = 5_000;

/** How long the event stream deduplicates by message id: 2 minutes. */
export const eventStreamDuplicateWindowMs = 120_000;

/**
 * Connects to NATS: reconnects forever once connected, but gives the first
 * connection a bounded deadline (retrying within it, so a service may start
 * a little before its NATS server does).
 */
export async function connectBus(options: BusOptions): Promise<Bus> {
  const prefix = options.prefix ?? process.env.HEARTH_NATS_PREFIX ?? defaultPrefix;
  assertPrefix(prefix);
  const { logger } = options;
  const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  const nc = await connectWithin(options, options.connectTimeoutMs ?? 30_000);
  void logStatus(nc, logger);
  const js = jetstream(nc, { timeout: requestTimeoutMs });
  const jsm = await jetstreamManager(nc, { timeout: requestTimeoutMs });
  const streamName = eventStreamName(prefix);
  let closing: Promise<void> | undefined;

  return {
    nc,
    js,
    jsm,
    prefix,
    logger,
    eventStreamName: streamName,
    requestTimeoutMs,
    ensureEventStream: () => ensureEventStream(jsm, streamName, prefix),
    publishLive: (subject, data) => publishLive(nc, prefix, subject, data),
    subscribeLive: (subject, handler, subscriptionOptions) =>
      subscribeLive(nc, prefix, logger, subject, handler, subscriptionOptions),
    close() {
      closing ??= nc.isClosed()
        ? Promise.resolve()
        : withDeadline(nc.drain(), closeTimeoutMs, 'drain the NATS connection').catch(() => nc.close());
      return closing;
    },
  };
}

async function connectWithin(options: BusOptions, deadlineMs: number): Promise<NatsConnection> {
  const giveUpAt = Date.now() + deadlineMs;
  for (let attempt = 1; ; attempt += 1) {
    const remaining = giveUpAt - Date.now();
    try {
      return await connect({
        servers: options.url.split(','),
        name: options.name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1_000,
        timeout: Math.max(500, Math.min(remaining, 5_000)),
      });
    } catch (error) {
      if (Date.now() + 250 >= giveUpAt) {
        throw new ServiceUnavailableException(
          `Could not connect to NATS at ${options.url} within ${deadlineMs} ms (${attempt} attempts)`,
          { cause: error },
        );
      }
      options.logger.warn({ err: error, attempt }, 'NATS not reachable yet, retrying');
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * attempt, 2_000, giveUpAt - Date.now())));
    }
  }
}

async function logStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'disconnect' || status.type === 'error') logger.warn({ status: status.type }, 'NATS connection trouble');
    else if (status.type === 'reconnect') logger.info({ status: status.type }, 'NATS reconnected');
  }
}

async function ensureEventStream(jsm: JetStreamManager, name: string, prefix: string): Promise<StreamInfo> {
  // What an update may change; storage and retention are fixed at creation.
  const updatable = {
    subjects: [allEventsSubject(prefix)],
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(eventStreamDuplicateWindowMs),
  };
  try {
    await jsm.streams.info(name);
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== JetStreamApiCodes.StreamNotFound) throw error;
    try {
      return await jsm.streams.add({
        name,
        ...updatable,
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        num_replicas: 1,
      });
    } catch (addError) {
      // Another process created it between our info and add: fall through to update.
      if (!(addError instanceof JetStreamApiError)) throw addError;
    }
  }
  return jsm.streams.update(name, updatable);
}
