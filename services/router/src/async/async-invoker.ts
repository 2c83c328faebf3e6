/**
 * The consumer of the asynchronous invocation queue: a durable pull consumer
 * on `${PREFIX}_INVOCATIONS` that runs each event through the same in-process
 * invoke path as synchronous invocations, then decides with the retry policy
 * (retry-policy.ts) and records the outcome before acknowledging:
 *
 * - retry: the event is re-enqueued with its counters advanced and a
 *   not-before time (a new message, deduplicated by `<requestId>#<generation>`),
 *   then the delivered message is acknowledged;
 * - done: the invocation record goes to the OnSuccess / OnFailure destination
 *   (best effort, never re-running the function), then the message is acknowledged.
 *
 * A message is acknowledged only after its outcome is recorded, so a router or
 * agent that dies mid-attempt loses nothing: JetStream hands the message out
 * again after `ack_wait` and the attempt runs again (at least once). Messages
 * that arrive before their not-before time are handed back with that delay.
 */
import type { Bus } from '@hearth/bus';
import {
  asyncInvokeSettings,
  decodeAsyncInvocation,
  MalformedAsyncInvocationError,
  parseFunctionName,
  resolveInvocationQualifier,
  type AsyncInvocation,
  type AsyncInvokeSettings,
  type InvocationTarget,
} from '@hearth/domain';
import { router } from '@hearth/proto';
import { SpanKind, SpanStatusCode, trace as otelTrace } from '@opentelemetry/api';
import { extractTraceContext, injectTraceContext, spanAttributes, tracer, type Logger } from '@hearth/telemetry';
import { JetStreamApiCodes, JetStreamApiError, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { createDestinationSink, type DestinationSink } from './destinations.js';
import { startFunctionDirectory, type FunctionDirectory } from './function-directory.js';
import { encodeRecord, invocationRecord, type RecordResponse } from './invocation-record.js';
import { publishInvocation, queueConsumerConfig, queueStreamName } from './queue.js';
import { classifyAttempt, decideAfterAttempt, decideBeforeAttempt, lambdaRetryDelays, type AsyncDecision, type AttemptOutcome, type RetryDelays } from './retry-policy.js';

/** The router's in-process invoke: what InvokeStream does for one RouteRequest. */
export type InvokeFn = (request: router.RouteRequest, options?: { signal?: AbortSignal; spanKind?: SpanKind }) => Promise<router.RouteResponse | undefined>;

/** Finds a version's asynchronous settings; undefined when the function no longer exists. */
export type LookupConfig = (functionName: string, version: string, options: { minStreamVersion?: number }) => Promise<AsyncInvokeSettings | undefined>;

/** Resolves a destination function ARN to the version an Event invoke of it runs; throws the Lambda error when none can. */
export type ResolveDestination = (functionArn: string) => Promise<InvocationTarget>;

/** Options of startAsyncInvoker. Every default is documented; env defaults let a test cluster shorten the waits. */
export interface AsyncInvokerOptions {
  bus: Bus;
  logger: Logger;
  /** The same invoke path as InvokeStream's. */
  invoke: InvokeFn;
  /** Default: a function directory folded from the event stream (function-directory.ts). */
  lookupConfig?: LookupConfig;
  /** Default: the same directory, with the domain's qualifier rules. */
  resolveDestination?: ResolveDestination;
  /** Durable consumer name; routers using the same one share the queue. Default `async-invoker`. */
  durableName?: string;
  /** Events attempted at once. Default `HEARTH_ASYNC_CONCURRENCY`, else 64. */
  concurrency?: number;
  /**
   * Events that may wait for their retry time at once (handed back to
   * JetStream with a delay, they count against its max_ack_pending, which is
   * this plus `concurrency`). Beyond it, new events wait until some retries
   * come due. Default `HEARTH_ASYNC_MAX_DEFERRED`, else 10000.
   */
  maxDeferred?: number;
  /** How long one pull waits for events before asking again. Default 5000 ms. */
  fetchExpiresMs?: number;
  /** JetStream ack_wait (see QueueConsumerSettings). Default `HEARTH_ASYNC_ACK_WAIT_MS`, else 30000 ms. */
  ackWaitMs?: number;
  /** JetStream max_deliver (see QueueConsumerSettings). Default 10. */
  maxDeliver?: number;
  /**
   * Policy delays. Default Lambda's (60 s first function-error retry, doubling;
   * throttles 1 s doubling to 5 min), overridable with
   * `HEARTH_ASYNC_RETRY_DELAY_MS`, `HEARTH_ASYNC_THROTTLE_DELAY_MS`, `HEARTH_ASYNC_THROTTLE_MAX_DELAY_MS`.
   */
  delays?: Partial<RetryDelays>;
  /**
   * How long past an attempt's deadline (now + the function's Timeout, when the
   * agent answers with Lambda's timeout error) the invoker waits for the router
   * before counting a system error. Default 2000 ms.
   */
  answerGraceMs?: number;
  /** Wait before a message is handed back after a failure to record its outcome. Default 5000 ms. */
  recordRetryDelayMs?: number;
  /**
   * How long stop() waits for attempts in progress; then they are abandoned
   * and their messages handed back at once, for another router. Default 10000 ms.
   */
  stopTimeoutMs?: number;
  /** Largest record sent to a destination, bytes. Default 1 MiB, or less when the NATS server's max_payload is smaller. */
  maxRecordBytes?: number;
  /** Epoch ms. Default Date.now. */
  now?: () => number;
  /** Uniform in [0, 1). Default Math.random. */
  random?: () => number;
  /** Environment the env defaults are read from. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Counters of the invoker. */
export interface AsyncInvokerStats {
  /** Whether the consumer is pulling now. */
  consuming: boolean;
  inFlight: number;
  received: number;
  /** Handed back because they came before their not-before time. */
  deferred: number;
  attempts: number;
  outcomes: Record<AttemptOutcome['kind'], number>;
  retried: number;
  records: { Success: number; RetriesExhausted: number; EventAgeExceeded: number };
  /** Records sent to a destination / that could not be (Lambda's DestinationDeliveryFailures). */
  destinationDeliveries: number;
  destinationDeliveryFailures: number;
  /** Records cut down to fit their destination. */
  recordsTrimmed: number;
  dropped: { malformed: number; functionGone: number; poison: number };
  /** Events re-enqueued for later because their settings could not be read yet. */
  lookupDeferred: number;
  /** Messages handed back because the outcome could not be recorded. */
  handedBack: number;
}

/** A running invoker. */
export interface AsyncInvoker {
  stats(): AsyncInvokerStats;
  /** Stops pulling, waits for attempts in progress (up to stopTimeoutMs), closes what it started. Idempotent. */
  stop(): Promise<void>;
}

function envNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name}=${raw} is not a non-negative number`);
  return value;
}

/** A counting semaphore: at most `limit` holders. */
function slots(limit: number) {
  let held = 0;
  const queue: Array<() => void> = [];
  let freeWaiters: Array<() => void> = [];
  return {
    get held() {
      return held;
    },
    /** Resolves once at least one slot is free (without taking it). */
    whenFree(): Promise<void> {
      if (held < limit) return Promise.resolve();
      return new Promise((resolve) => freeWaiters.push(resolve));
    },
    /** Wakes whenFree() waiters, e.g. at shutdown. */
    wakeAll(): void {
      for (const wake of freeWaiters) wake();
      freeWaiters = [];
    },
    acquire(): Promise<void> {
      if (held < limit) {
        held += 1;
        return Promise.resolve();
      }
      return new Promise((resolve) => queue.push(resolve));
    },
    release(): void {
      const next = queue.shift();
      if (next) {
        next();
        return;
      }
      held -= 1;
      const waiters = freeWaiters;
      freeWaiters = [];
      for (const wake of waiters) wake();
    },
  };
}

/**
 * Starts the invoker. Resolves at once: the consumer is created in the
 * background, retrying until the queue's stream exists (the api creates it).
 */
export async function startAsyncInvoker(options: AsyncInvokerOptions): Promise<AsyncInvoker> {
  const { bus, invoke } = options;
  const env = options.env ?? process.env;
  const log = options.logger.child({ component: 'async-invoker' });
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const concurrency = options.concurrency ?? envNumber(env, 'HEARTH_ASYNC_CONCURRENCY') ?? 64;
  const maxDeferred = options.maxDeferred ?? envNumber(env, 'HEARTH_ASYNC_MAX_DEFERRED') ?? 10_000;
  const fetchExpiresMs = options.fetchExpiresMs ?? 5_000;
  const ackWaitMs = options.ackWaitMs ?? envNumber(env, 'HEARTH_ASYNC_ACK_WAIT_MS') ?? 30_000;
  const maxDeliver = options.maxDeliver ?? 10;
  const delays: RetryDelays = {
    functionErrorDelayMs: options.delays?.functionErrorDelayMs ?? envNumber(env, 'HEARTH_ASYNC_RETRY_DELAY_MS') ?? lambdaRetryDelays.functionErrorDelayMs,
    throttleDelayMs: options.delays?.throttleDelayMs ?? envNumber(env, 'HEARTH_ASYNC_THROTTLE_DELAY_MS') ?? lambdaRetryDelays.throttleDelayMs,
    throttleMaxDelayMs: options.delays?.throttleMaxDelayMs ?? envNumber(env, 'HEARTH_ASYNC_THROTTLE_MAX_DELAY_MS') ?? lambdaRetryDelays.throttleMaxDelayMs,
    jitter: options.delays?.jitter ?? lambdaRetryDelays.jitter ?? 0.2,
  };
  const answerGraceMs = options.answerGraceMs ?? 2_000;
  const recordRetryDelayMs = options.recordRetryDelayMs ?? 5_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const busLimit = bus.nc.info?.max_payload;
  const maxRecordBytes = options.maxRecordBytes ?? Math.min(1024 * 1024, busLimit === undefined ? Number.POSITIVE_INFINITY : busLimit - 4096);
  const durableName = options.durableName ?? 'async-invoker';
  const stream = queueStreamName(bus);

  let directory: FunctionDirectory | undefined;
  const ownDirectory = async (): Promise<FunctionDirectory> => (directory ??= await startFunctionDirectory({ bus, logger: options.logger }));
  const lookupConfig: LookupConfig =
    options.lookupConfig ??
    (async (functionName, version, { minStreamVersion }) => {
      const { state } = await (await ownDirectory()).get(functionName, minStreamVersion);
      return state.status === 'Absent' ? undefined : asyncInvokeSettings(state, version);
    });
  const resolveDestination: ResolveDestination =
    options.resolveDestination ??
    (async (arn) => {
      const parts = parseFunctionName(arn);
      const { state } = await (await ownDirectory()).get(parts.name);
      return resolveInvocationQualifier(state, arn, undefined, { region: parts.region ?? '', accountId: parts.accountId ?? '' });
    });
  if (options.lookupConfig === undefined || options.resolveDestination === undefined) await ownDirectory();
  const sink: DestinationSink = createDestinationSink({ bus, resolveFunction: resolveDestination, enqueue: (inv, payload) => publishInvocation(bus, inv, payload), now });

  const stats: Omit<AsyncInvokerStats, 'consuming' | 'inFlight'> = {
    received: 0,
    deferred: 0,
    attempts: 0,
    outcomes: { success: 0, functionError: 0, throttled: 0, systemError: 0, gone: 0, rejected: 0 },
    retried: 0,
    records: { Success: 0, RetriesExhausted: 0, EventAgeExceeded: 0 },
    destinationDeliveries: 0,
    destinationDeliveryFailures: 0,
    recordsTrimmed: 0,
    dropped: { malformed: 0, functionGone: 0, poison: 0 },
    lookupDeferred: 0,
    handedBack: 0,
  };
  const running = slots(concurrency);
  const inFlight = new Set<Promise<void>>();
  let messages: ConsumerMessages | undefined;
  let consuming = false;
  let stopping = false;
  let wakeSleep: (() => void) | undefined;
  // Fired when stop() gives up waiting: attempts still running stop holding their messages.
  const abandon = new AbortController();
  const abandoned = new Promise<Error>((resolve) => abandon.signal.addEventListener('abort', () => resolve(new Error('abandoned at shutdown')), { once: true }));

  /** Runs one attempt through the router, bounded by the function's timeout plus margins. */
  const attempt = async (invocation: AsyncInvocation, payload: Uint8Array): Promise<router.RouteResponse | Error | undefined> => {
    // A CONSUMER span per attempt, continuing the accepting request's trace from the message headers;
    // the routing span below it continues this one.
    const carried = { traceparent: invocation.traceparent, tracestate: invocation.tracestate } as Record<string, string | undefined>;
    const parent = extractTraceContext((key) => carried[key]);
    const span = tracer.startSpan(
      'hearth.router.AsyncInvoke',
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [spanAttributes.function]: invocation.functionName,
          [spanAttributes.version]: invocation.version,
          [spanAttributes.requestId]: invocation.requestId,
          [spanAttributes.faasTrigger]: 'pubsub',
          [spanAttributes.messagingSystem]: 'nats',
          [spanAttributes.messagingOperation]: 'process',
          [spanAttributes.messagingMessageId]: invocation.requestId,
          'hearth.async.retries': invocation.retries,
          'hearth.async.invocations': invocation.invocations,
        },
      },
      parent,
    );
    const traceContext: Record<string, string> = {};
    injectTraceContext((key, value) => (traceContext[key] = value), otelTrace.setSpan(parent, span));
    try {
      const answer = await attemptIn(invocation, payload, traceContext);
      if (answer instanceof Error) span.setStatus({ code: SpanStatusCode.ERROR, message: answer.message });
      else if (answer?.outcome?.$case === 'throttled') span.setAttribute(spanAttributes.throttleReason, answer.outcome.value.reason);
      return answer;
    } finally {
      span.end();
    }
  };

  const attemptIn = async (invocation: AsyncInvocation, payload: Uint8Array, traceContext: Record<string, string>): Promise<router.RouteResponse | Error | undefined> => {
    const deadlineUnixMs = now() + invocation.timeoutSeconds * 1000;
    const request = router.RouteRequest.fromPartial({
      requestId: invocation.requestId,
      functionName: invocation.functionName,
      version: invocation.version,
      payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
      deadlineUnixMs,
      ...(invocation.clientContext === undefined ? {} : { clientContext: invocation.clientContext }),
      traceContext,
    });
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<Error>((resolve) => {
      timer = setTimeout(() => {
        abort.abort();
        resolve(new Error(`the router did not answer within ${deadlineUnixMs - now() + answerGraceMs} ms of the deadline`));
      }, Math.max(0, deadlineUnixMs - now() + answerGraceMs));
    });
    stats.attempts += 1;
    const onAbandon = () => abort.abort();
    abandon.signal.addEventListener('abort', onAbandon, { once: true });
    try {
      return await Promise.race([invoke(request, { signal: abort.signal, spanKind: SpanKind.INTERNAL }), expired, abandoned]);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      clearTimeout(timer);
      abandon.signal.removeEventListener('abort', onAbandon);
    }
  };

  const responseOf = (outcome: AttemptOutcome): RecordResponse | undefined => {
    switch (outcome.kind) {
      case 'success':
      case 'functionError':
        return {
          kind: 'result',
          executedVersion: outcome.result.executedVersion,
          ...(outcome.result.functionError ? { functionError: outcome.result.functionError } : {}),
          payload: outcome.result.payload,
        };
      case 'rejected':
      case 'systemError':
        return { kind: 'error', exception: outcome.exception, message: outcome.message };
      default:
        return undefined;
    }
  };

  /** Carries out a decision; resolves once its outcome is recorded (the message may then be acknowledged). */
  const carryOut = async (decision: AsyncDecision, invocation: AsyncInvocation, payload: Uint8Array, outcome?: AttemptOutcome): Promise<void> => {
    switch (decision.kind) {
      case 'retry':
        await publishInvocation(bus, decision.next, payload);
        stats.retried += 1;
        log.debug({ requestId: invocation.requestId, delayMs: decision.delayMs, outcome: outcome?.kind }, 'asynchronous invocation will be retried');
        return;
      case 'drop':
        stats.dropped[decision.why] += 1;
        log.info({ requestId: invocation.requestId, function: invocation.functionName, version: invocation.version }, 'event dropped: the function or version no longer exists');
        return;
      case 'record': {
        stats.records[decision.condition] += 1;
        if (decision.condition !== 'Success') {
          log.info({ requestId: invocation.requestId, condition: decision.condition, invocations: decision.invocations }, 'asynchronous invocation failed for good');
        }
        if (decision.destination === undefined) return;
        const record = invocationRecord({
          invocation,
          condition: decision.condition,
          approximateInvokeCount: decision.invocations,
          requestPayload: payload,
          ...(outcome && responseOf(outcome) ? { response: responseOf(outcome)! } : {}),
          now: new Date(now()),
        });
        const encoded = encodeRecord(record, maxRecordBytes);
        if (encoded.trimmed !== 'none') stats.recordsTrimmed += 1;
        try {
          await sink.deliver(decision.destination, encoded.bytes, { invocation, condition: decision.condition });
          stats.destinationDeliveries += 1;
        } catch (error) {
          // Best effort, as Lambda's: a destination that cannot take the record loses it, counted; the function does not run again.
          stats.destinationDeliveryFailures += 1;
          log.warn({ err: error, requestId: invocation.requestId, destination: decision.destination }, 'invocation record not delivered');
        }
        return;
      }
    }
  };

  const handle = async (msg: JsMsg): Promise<void> => {
    stats.received += 1;
    let invocation: AsyncInvocation;
    try {
      invocation = decodeAsyncInvocation((name) => msg.headers?.get(name) || undefined);
    } catch (error) {
      if (!(error instanceof MalformedAsyncInvocationError)) throw error;
      stats.dropped.malformed += 1;
      log.error({ err: error, seq: msg.seq }, 'malformed asynchronous invocation; its delivery ends');
      msg.term(error.message);
      return;
    }
    const early = (invocation.notBeforeMs ?? 0) - now();
    if (early > 0) {
      stats.deferred += 1;
      msg.nak(early);
      return;
    }
    // Tell JetStream the message is in hand while the attempt runs, so only a dead router lets ack_wait lapse.
    const heartbeat = setInterval(() => msg.working(), Math.max(100, Math.floor(ackWaitMs / 3)));
    const stopHeartbeat = () => clearInterval(heartbeat);
    abandon.signal.addEventListener('abort', stopHeartbeat, { once: true });
    try {
      let settings: AsyncInvokeSettings | undefined;
      try {
        settings = await lookupConfig(invocation.functionName, invocation.version, {
          ...(invocation.functionStreamVersion === undefined ? {} : { minStreamVersion: invocation.functionStreamVersion }),
        });
      } catch (error) {
        // The settings are not readable yet (the directory lags): come back later as a fresh
        // message, so waiting does not use up this one's deliveries.
        stats.lookupDeferred += 1;
        log.warn({ err: error, requestId: invocation.requestId }, 'asynchronous settings not readable; the event is deferred');
        const later = { ...invocation, generation: invocation.generation + 1, notBeforeMs: now() + recordRetryDelayMs };
        await publishInvocation(bus, later, msg.data);
        await msg.ackAck({ timeout: bus.requestTimeoutMs }).catch(() => {});
        return;
      }
      if (settings === undefined) {
        await carryOut({ kind: 'drop', why: 'functionGone' }, invocation, msg.data);
      } else {
        const before = decideBeforeAttempt(invocation, settings, now());
        if (before !== undefined) {
          await carryOut(before, invocation, msg.data);
        } else {
          const answer = await attempt(invocation, msg.data);
          if (abandon.signal.aborted) {
            // Shutting down: hand the event straight back rather than record an outcome nobody waited for.
            msg.nak();
            return;
          }
          const outcome = classifyAttempt(answer);
          stats.outcomes[outcome.kind] += 1;
          await carryOut(decideAfterAttempt(invocation, outcome, settings, now(), delays, random), invocation, msg.data, outcome);
        }
      }
      await msg.ackAck({ timeout: bus.requestTimeoutMs }).catch((error: unknown) => {
        // The outcome is recorded; a lost ack means one more attempt later, which at-least-once allows.
        log.warn({ err: error, requestId: invocation.requestId }, 'ack not confirmed');
      });
    } catch (error) {
      if (msg.info.deliveryCount >= maxDeliver) {
        // Only persistent trouble recording outcomes (NATS refusing publishes) gets here, after
        // max_deliver tries several seconds apart: end it loudly rather than leave it undeliverable.
        stats.dropped.poison += 1;
        log.error({ err: error, requestId: invocation.requestId, deliveries: msg.info.deliveryCount }, 'asynchronous invocation dropped after its last delivery');
        msg.term('outcome could not be recorded');
        return;
      }
      stats.handedBack += 1;
      log.warn({ err: error, requestId: invocation.requestId }, 'outcome not recorded; the event is handed back');
      msg.nak(recordRetryDelayMs);
    } finally {
      stopHeartbeat();
      abandon.signal.removeEventListener('abort', stopHeartbeat);
    }
  };

  const ensureConsumer = async (): Promise<void> => {
    const config = queueConsumerConfig(bus.prefix, { durableName, ackWaitMs, maxDeliver, maxAckPending: concurrency + maxDeferred });
    try {
      await bus.jsm.consumers.info(stream, durableName);
      await bus.jsm.consumers.update(stream, durableName, { ack_wait: config.ack_wait, max_deliver: config.max_deliver, max_ack_pending: config.max_ack_pending });
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.code !== JetStreamApiCodes.ConsumerNotFound) throw error;
      await bus.jsm.consumers.add(stream, config);
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /**
   * Pulls only as many events as there are free slots (a fetch per batch),
   * so an event never waits in a client-side buffer while its ack_wait runs.
   */
  const consumeLoop = async (): Promise<void> => {
    let delay = 500;
    let announced = false;
    while (!stopping) {
      try {
        await ensureConsumer();
        const consumer = await bus.js.consumers.get(stream, durableName);
        if (!consuming) log.info({ stream, durableName, concurrency, maxDeferred }, 'consuming asynchronous invocations');
        consuming = true;
        delay = 500;
        while (!stopping) {
          await running.whenFree();
          if (stopping) break;
          messages = await consumer.fetch({ max_messages: concurrency - running.held, expires: fetchExpiresMs });
          for await (const msg of messages) {
            if (stopping) {
              msg.nak();
              continue;
            }
            await running.acquire();
            const task = handle(msg)
              .catch((error: unknown) => log.error({ err: error, seq: msg.seq }, 'asynchronous invocation handler failed'))
              .finally(() => {
                running.release();
                inFlight.delete(task);
              });
            inFlight.add(task);
          }
        }
      } catch (error) {
        const missing = error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
        if (!stopping && (!missing || !announced)) log.warn({ err: error, stream }, missing ? 'queue stream does not exist yet (the api creates it); waiting' : 'queue consumer failed; restarting');
        announced ||= missing;
        consuming = false;
      }
      if (stopping) break;
      await sleep(delay);
      delay = Math.min(delay * 2, 10_000);
    }
    consuming = false;
  };
  const loop = consumeLoop();

  let stopped: Promise<void> | undefined;
  return {
    stats: () => ({ consuming, inFlight: inFlight.size, ...stats, outcomes: { ...stats.outcomes }, records: { ...stats.records }, dropped: { ...stats.dropped } }),
    stop() {
      stopped ??= (async () => {
        stopping = true;
        messages?.stop();
        running.wakeAll();
        wakeSleep?.();
        await loop;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => (timer = setTimeout(resolve, stopTimeoutMs)))]);
        clearTimeout(timer);
        if (inFlight.size > 0) {
          log.warn({ inFlight: inFlight.size }, 'abandoning attempts still running; their events are handed back');
          abandon.abort();
          await Promise.allSettled([...inFlight]);
        }
        await bus.nc.flush().catch(() => {});
        await directory?.close();
      })();
      return stopped;
    },
  };
}
