/**
 * The api's one long-lived `RouterService.InvokeStream` to the router:
 * invocations are multiplexed on it and matched to answers by request id
 * (a unary call per invocation costs several times more, ARCHITECTURE.md).
 *
 * - The stream opens at start and reopens after any failure, with jittered
 *   exponential backoff; an invocation arriving while it is down waits a
 *   bounded time for it, then fails ServiceUnavailableException (it was never sent).
 * - Every invocation has a deadline: its own `deadline_unix_ms` plus a grace.
 *   Past it the caller gets ServiceException and the router a cancel.
 * - The caller going away (its AbortSignal) sends a cancel for that request id.
 * - In-flight work is bounded by count and by payload bytes; beyond either the
 *   invocation is shed at once with TooManyRequestsException, each shed counted by reason.
 * - Invocations in flight when the stream breaks fail ServiceException: they
 *   may or may not have run, so they are not resent.
 */
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { ServiceException, ServiceUnavailableException, TooManyRequestsException } from '@hearth/errors';
import { createClient } from '@hearth/grpc';
import { router } from '@hearth/proto';
import type { Logger } from '@hearth/telemetry';

/** What an invocation sends: a RouteRequest without `cancel`. */
export type RouteRequestInit = Omit<router.RouteRequest, 'cancel'>;

/** Options of createRouterChannel. */
export interface RouterChannelOptions {
  /** `host:port` of the router's gRPC server (`HEARTH_ROUTER_GRPC_ADDRESS`). */
  address: string;
  logger: Logger;
  /** Invocations awaiting an answer at once; more are shed. Default 4096. */
  maxInFlight?: number;
  /** Payload bytes of the invocations awaiting an answer; more are shed. Default 268435456 (256 MiB). */
  maxInFlightBytes?: number;
  /** How long an invocation waits for a stream that is down before failing unsent. Default 2000 ms. */
  connectWaitMs?: number;
  /** How long one connection attempt may take. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** First reconnect delay; doubles per failed attempt, with jitter. Default 100 ms. */
  backoffMinMs?: number;
  /** Longest reconnect delay. Default 5000 ms. */
  backoffMaxMs?: number;
  /** Time after an invocation's deadline before the api stops waiting for the router. Default 1000 ms. */
  answerGraceMs?: number;
  /** Largest message accepted from the router: a 6 MiB result and its envelope. Default 8 MiB. */
  maxReceiveMessageBytes?: number;
  /** Epoch ms. Default Date.now. */
  now?: () => number;
  /** Uniform in [0, 1), for jitter. Default Math.random. */
  random?: () => number;
}

/** Why an invocation was shed or failed without an answer. */
export type RouterChannelDrop = 'inFlightLimit' | 'inFlightBytes' | 'routerUnavailable' | 'deadline' | 'cancelled' | 'streamLost' | 'closed';

/** Counters of the channel. */
export interface RouterChannelStats {
  /** Whether the stream is open now. */
  open: boolean;
  inFlight: number;
  inFlightBytes: number;
  sent: number;
  answered: number;
  /** Answers for request ids no longer awaited (after a cancel or deadline). */
  unmatched: number;
  /** Streams opened since start (1 + reconnects). */
  streamsOpened: number;
  dropped: Record<RouterChannelDrop, number>;
}

/** The channel. */
export interface RouterChannel {
  /**
   * Sends one invocation and resolves with the router's answer. Rejects with
   * TooManyRequestsException (shed), ServiceUnavailableException (router
   * unreachable, not sent), ServiceException (no answer by the deadline, or the
   * stream broke), or `signal.reason` when the caller went away.
   */
  invoke(request: RouteRequestInit, signal?: AbortSignal): Promise<router.RouteResponse>;
  stats(): RouterChannelStats;
  /** Ends the stream; awaiting invocations fail ServiceUnavailableException. Idempotent. */
  close(): Promise<void>;
}

interface Pending {
  readonly bytes: number;
  readonly stream: ClientDuplexStream<router.RouteRequest, router.RouteResponse>;
  settle(outcome: { response: router.RouteResponse } | { error: unknown }): void;
}

/** Throttle reason of a shed invocation: the api's own concurrency bound, in Lambda's ThrottleReason terms. */
export const shedReason = 'ConcurrentInvocationLimitExceeded';

/** Opens the channel (connecting in the background) and returns it. */
export function createRouterChannel(options: RouterChannelOptions): RouterChannel {
  const log = options.logger.child({ component: 'router-channel', router: options.address });
  const maxInFlight = options.maxInFlight ?? 4096;
  const maxInFlightBytes = options.maxInFlightBytes ?? 256 * 1024 * 1024;
  const connectWaitMs = options.connectWaitMs ?? 2_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const backoffMinMs = options.backoffMinMs ?? 100;
  const backoffMaxMs = options.backoffMaxMs ?? 5_000;
  const answerGraceMs = options.answerGraceMs ?? 1_000;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;

  const client = createClient(router.RouterServiceClient, options.address, {
    maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? 8 * 1024 * 1024,
  });
  const pending = new Map<string, Pending>();
  const openWaiters = new Set<() => void>();
  const counts = { sent: 0, answered: 0, unmatched: 0, streamsOpened: 0 };
  const dropped: Record<RouterChannelDrop, number> = {
    inFlightLimit: 0,
    inFlightBytes: 0,
    routerUnavailable: 0,
    deadline: 0,
    cancelled: 0,
    streamLost: 0,
    closed: 0,
  };
  let stream: ClientDuplexStream<router.RouteRequest, router.RouteResponse> | undefined;
  // Counted from admission, so invocations waiting for a stream are bounded too.
  let inFlight = 0;
  let inFlightBytes = 0;
  let failedAttempts = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let closed = false;
  let outageLogged = false;

  const sendCancel = (target: Pending['stream'], requestId: string): void => {
    if (target === stream && !target.writableEnded) target.write(router.RouteRequest.fromPartial({ requestId, cancel: true }));
  };

  const scheduleReconnect = (): void => {
    if (closed || reconnectTimer) return;
    const ceiling = Math.min(backoffMaxMs, backoffMinMs * 2 ** Math.min(failedAttempts, 20));
    failedAttempts += 1;
    // Full jitter on the upper half keeps many apis from reconnecting in step.
    const delay = ceiling / 2 + (random() * ceiling) / 2;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      connect();
    }, delay);
    reconnectTimer.unref();
  };

  const onStreamGone = (gone: Pending['stream'], error?: ServiceError): void => {
    if (gone !== stream) return;
    stream = undefined;
    for (const [requestId, entry] of pending) {
      if (entry.stream !== gone) continue;
      dropped.streamLost += 1;
      entry.settle({
        error: new ServiceException('The connection to the router broke while the invocation was in flight; it may or may not have run.', {
          cause: error,
        }),
      });
      pending.delete(requestId);
    }
    if (!closed) {
      log.warn({ err: error, code: error?.code }, 'router stream ended; reconnecting');
      scheduleReconnect();
    }
  };

  const onResponse = (response: router.RouteResponse): void => {
    const entry = pending.get(response.requestId);
    if (entry === undefined) {
      counts.unmatched += 1;
      return;
    }
    pending.delete(response.requestId);
    counts.answered += 1;
    entry.settle({ response });
  };

  function connect(): void {
    if (closed) return;
    client.waitForReady(new Date(now() + connectTimeoutMs), (error) => {
      if (closed) return;
      if (error) {
        if (!outageLogged) log.warn({ err: error }, 'router unreachable; retrying with backoff');
        outageLogged = true;
        scheduleReconnect();
        return;
      }
      const opened = client.invokeStream();
      opened.on('data', onResponse);
      opened.on('error', (streamError: ServiceError) => onStreamGone(opened, streamError));
      opened.on('end', () => onStreamGone(opened));
      stream = opened;
      failedAttempts = 0;
      counts.streamsOpened += 1;
      if (outageLogged || counts.streamsOpened > 1) log.info('router stream open');
      outageLogged = false;
      for (const wake of openWaiters) wake();
      openWaiters.clear();
    });
  }

  /** Resolves when the stream is open, false when `waitMs` passes or the caller leaves first. */
  const whenOpen = (waitMs: number, signal?: AbortSignal): Promise<boolean> => {
    if (stream) return Promise.resolve(true);
    if (waitMs <= 0 || closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (open: boolean) => {
        clearTimeout(timer);
        openWaiters.delete(wake);
        signal?.removeEventListener('abort', onAbort);
        resolve(open);
      };
      const wake = () => done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), waitMs);
      openWaiters.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  };

  const shed = (reason: 'inFlightLimit' | 'inFlightBytes', message: string): never => {
    dropped[reason] += 1;
    throw new TooManyRequestsException(message, { reason: shedReason, retryAfterSeconds: 1 });
  };

  connect();

  return {
    async invoke(request, signal) {
      if (closed) {
        dropped.closed += 1;
        throw new ServiceUnavailableException('The api is shutting down; the invocation was not sent.');
      }
      signal?.throwIfAborted();
      if (pending.has(request.requestId)) throw new Error(`request id ${request.requestId} is already in flight to the router`);
      if (inFlight >= maxInFlight) shed('inFlightLimit', `Rate Exceeded. The api has ${maxInFlight} invocations in flight, its limit.`);
      const bytes = request.payload.byteLength;
      if (inFlightBytes + bytes > maxInFlightBytes) {
        shed('inFlightBytes', `Rate Exceeded. The api has ${inFlightBytes} payload bytes in flight; this invocation would pass its limit of ${maxInFlightBytes}.`);
      }
      // The slot is taken while waiting for a stream too, so waiting is bounded by the same limits.
      inFlight += 1;
      inFlightBytes += bytes;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        inFlight -= 1;
        inFlightBytes -= bytes;
      };
      try {
        const untilDeadline = request.deadlineUnixMs - now();
        if (!(await whenOpen(Math.min(connectWaitMs, untilDeadline), signal)) || stream === undefined) {
          signal?.throwIfAborted();
          dropped.routerUnavailable += 1;
          throw new ServiceUnavailableException('The router is unreachable; the invocation was not sent. Retry shortly.', { retryAfterSeconds: 1 });
        }
      } catch (error) {
        release();
        throw error;
      }
      const target = stream;
      return new Promise<router.RouteResponse>((resolve, reject) => {
        const finish = (outcome: { response: router.RouteResponse } | { error: unknown }) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          release();
          if ('response' in outcome) resolve(outcome.response);
          else reject(outcome.error);
        };
        const forget = (reason: RouterChannelDrop, error: unknown) => {
          if (pending.get(request.requestId)?.stream !== target) return;
          pending.delete(request.requestId);
          dropped[reason] += 1;
          sendCancel(target, request.requestId);
          finish({ error });
        };
        const onAbort = () => forget('cancelled', signal?.reason);
        const timer = setTimeout(
          () =>
            forget(
              'deadline',
              new ServiceException(`The router did not answer by the invocation's deadline (${new Date(request.deadlineUnixMs).toISOString()}).`),
            ),
          Math.max(0, request.deadlineUnixMs - now() + answerGraceMs),
        );
        pending.set(request.requestId, { bytes, stream: target, settle: finish });
        signal?.addEventListener('abort', onAbort, { once: true });
        counts.sent += 1;
        target.write(router.RouteRequest.fromPartial({ ...request, cancel: false }));
      });
    },

    stats: () => ({ open: stream !== undefined, inFlight, inFlightBytes, ...counts, dropped: { ...dropped } }),

    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(reconnectTimer);
      for (const wake of openWaiters) wake();
      openWaiters.clear();
      for (const entry of pending.values()) {
        dropped.closed += 1;
        entry.settle({ error: new ServiceUnavailableException('The api is shutting down; the invocation was abandoned.') });
      }
      pending.clear();
      stream?.end();
      stream = undefined;
      client.close();
    },
  };
}
