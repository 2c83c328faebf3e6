/**
 * The async invoker against a real NATS JetStream: the queue stream as the api
 * creates it, real publishes and acks, destinations on real subjects. Only the
 * router's invoke path is a fake (a scripted function), so the policy is seen
 * end to end: retries, ages, destinations, restarts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, toEventMessage, type Bus } from '@hearth/bus';
import { allAsyncInvocationsSubject, asyncInvocationStreamName, type AsyncInvocation, type AsyncInvokeSettings, type InvocationTarget } from '@hearth/domain';
import type { RecordedEvent } from '@hearth/event-store';
import { router } from '@hearth/proto';
import { createLogger } from '@hearth/telemetry';
import { testInfra } from '@hearth/testing';
import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { publishInvocation, startAsyncInvoker, type AsyncInvoker, type AsyncInvokerOptions, type InvokeFn } from '../../src/async/index.js';

const logger = createLogger('async-invoker-test');
logger.level = process.env.HEARTH_LOG_LEVEL ?? 'silent';

let bus: Bus;
const invokers: AsyncInvoker[] = [];

beforeAll(async () => {
  bus = await connectBus({ url: testInfra().natsUrl, name: 'async-invoker-test', prefix: `ta${randomBytes(4).toString('hex')}`, logger });
  // The stream as the api creates it (services/api/src/invoke/async-queue.ts).
  await bus.jsm.streams.add({
    name: asyncInvocationStreamName(bus.prefix),
    subjects: [allAsyncInvocationsSubject(bus.prefix)],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_msgs: 1_000,
    duplicate_window: nanos(120_000),
  });
});

afterEach(async () => {
  await Promise.all(invokers.splice(0).map((invoker) => invoker.stop()));
});

afterAll(async () => {
  await bus.jsm.streams.delete(asyncInvocationStreamName(bus.prefix)).catch(() => {});
  await bus.jsm.streams.delete(bus.eventStreamName).catch(() => {});
  await bus.close();
});

const arn = (name: string, version = '1') => `arn:aws:lambda:us-east-1:000000000000:function:${name}:${version}`;

function event(functionName: string, overrides: Partial<AsyncInvocation> = {}): AsyncInvocation {
  return {
    requestId: randomUUID(),
    functionName,
    version: '1',
    functionArn: arn(functionName),
    timeoutSeconds: 3,
    enqueuedAtMs: Date.now(),
    retries: 0,
    invocations: 0,
    throttles: 0,
    generation: 0,
    ...overrides,
  };
}

const answer = (request: router.RouteRequest, outcome: router.RouteResponse['outcome']) => router.RouteResponse.fromPartial({ requestId: request.requestId, outcome } as never);
const ok = (request: router.RouteRequest, body: unknown) =>
  answer(request, { $case: 'result', value: router.InvocationResult.fromPartial({ payload: Buffer.from(JSON.stringify(body)), executedVersion: request.version }) });
const failed = (request: router.RouteRequest) =>
  answer(request, {
    $case: 'result',
    value: router.InvocationResult.fromPartial({
      payload: Buffer.from(JSON.stringify({ errorMessage: 'boom', errorType: 'Error' })),
      functionError: 'Unhandled',
      executedVersion: request.version,
    }),
  });
const throttled = (request: router.RouteRequest) => answer(request, { $case: 'throttled', value: { reason: 'ConcurrentInvocationLimitExceeded', message: 'Rate Exceeded.', retryAfterMs: 0 } });

/** Records published on a subject, collected by a core subscription. */
function collect(subject: string) {
  const records: Array<Record<string, any>> = [];
  const subscription = bus.nc.subscribe(subject, {
    callback: (_error, msg) => {
      records.push(msg.json());
    },
  });
  return { records, stop: () => subscription.unsubscribe() };
}

async function start(invoke: InvokeFn, settings: (name: string) => AsyncInvokeSettings | undefined, extra: Partial<AsyncInvokerOptions> = {}): Promise<AsyncInvoker> {
  const invoker = await startAsyncInvoker({
    bus,
    logger,
    invoke,
    lookupConfig: async (name) => settings(name),
    resolveDestination: async (destination): Promise<InvocationTarget> => {
      const name = destination.split(':')[6]!;
      return { FunctionName: name, Version: '1', FunctionArn: arn(name), version: { configuration: { Timeout: 3 } } as never };
    },
    delays: { functionErrorDelayMs: 50, throttleDelayMs: 20, throttleMaxDelayMs: 100, jitter: 0 },
    ackWaitMs: 1_000,
    stopTimeoutMs: 200,
    env: {},
    ...extra,
  });
  invokers.push(invoker);
  await expect.poll(() => invoker.stats().consuming, { timeout: 10_000 }).toBe(true);
  return invoker;
}

const nats = (subject: string) => ({ kind: 'nats', subject }) as const;

describe('async invoker', () => {
  it('runs an event and sends the success record to OnSuccess', async () => {
    const sink = collect(`${bus.prefix}-ok`);
    await start(async (request) => ok(request, { doubled: JSON.parse(request.payload.toString()).n * 2 }), () => ({
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 60,
      OnSuccess: nats(`${bus.prefix}-ok`),
      source: '$LATEST',
    }));
    const sent = event('succeeds');
    await publishInvocation(bus, sent, Buffer.from('{"n":21}'));
    await expect.poll(() => sink.records.length, { timeout: 10_000 }).toBe(1);
    expect(sink.records[0]).toMatchObject({
      version: '1.0',
      requestContext: { requestId: sent.requestId, functionArn: arn('succeeds'), condition: 'Success', approximateInvokeCount: 1 },
      requestPayload: { n: 21 },
      responseContext: { statusCode: 200, executedVersion: '1' },
      responsePayload: { doubled: 42 },
    });
    sink.stop();
  });

  it('retries a function error MaximumRetryAttempts times, then sends the failure record to OnFailure', async () => {
    const sink = collect(`${bus.prefix}-failed`);
    const attempts: string[] = [];
    const invoker = await start(
      async (request) => {
        attempts.push(request.requestId);
        return failed(request);
      },
      () => ({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60, OnFailure: nats(`${bus.prefix}-failed`), source: '$LATEST' }),
    );
    const sent = event('fails');
    await publishInvocation(bus, sent, Buffer.from('{}'));
    await expect.poll(() => sink.records.length, { timeout: 10_000 }).toBe(1);
    expect(attempts).toEqual([sent.requestId, sent.requestId, sent.requestId]);
    expect(sink.records[0]).toMatchObject({
      requestContext: { requestId: sent.requestId, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      responseContext: { statusCode: 200, functionError: 'Unhandled' },
      responsePayload: { errorMessage: 'boom', errorType: 'Error' },
    });
    expect(invoker.stats()).toMatchObject({ retried: 2, records: { RetriesExhausted: 1 } });
    sink.stop();
  });

  it('retries throttles without counting them against MaximumRetryAttempts', async () => {
    const sink = collect(`${bus.prefix}-after-throttles`);
    let calls = 0;
    await start(
      async (request) => (++calls <= 3 ? throttled(request) : ok(request, 'done')),
      () => ({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60, OnSuccess: nats(`${bus.prefix}-after-throttles`), source: '$LATEST' }),
    );
    await publishInvocation(bus, event('throttled'), Buffer.from('{}'));
    await expect.poll(() => sink.records.length, { timeout: 10_000 }).toBe(1);
    expect(calls).toBe(4);
    expect(sink.records[0]).toMatchObject({ requestContext: { condition: 'Success', approximateInvokeCount: 1 }, responsePayload: 'done' });
    sink.stop();
  });

  it('does not run an event older than MaximumEventAgeInSeconds; its record says EventAgeExceeded', async () => {
    const sink = collect(`${bus.prefix}-too-old`);
    let calls = 0;
    await start(
      async (request) => {
        calls += 1;
        return ok(request, 1);
      },
      () => ({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60, OnFailure: nats(`${bus.prefix}-too-old`), source: '1' }),
    );
    await publishInvocation(bus, event('old', { enqueuedAtMs: Date.now() - 61_000 }), Buffer.from('{}'));
    await expect.poll(() => sink.records.length, { timeout: 10_000 }).toBe(1);
    expect(calls).toBe(0);
    expect(sink.records[0]).toMatchObject({ requestContext: { condition: 'EventAgeExceeded', approximateInvokeCount: 0 } });
    expect(sink.records[0]).not.toHaveProperty('responsePayload');
    sink.stop();
  });

  it('invokes a destination function asynchronously with the record as its event', async () => {
    const seen: Array<{ functionName: string; payload: unknown }> = [];
    await start(
      async (request) => {
        seen.push({ functionName: request.functionName, payload: JSON.parse(request.payload.toString()) });
        return ok(request, null);
      },
      (name) =>
        name === 'source'
          ? { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60, OnSuccess: { kind: 'function', arn: arn('sink', '$LATEST.PUBLISHED'), FunctionName: 'sink' }, source: '$LATEST' }
          : { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60, source: 'default' },
    );
    const sent = event('source');
    await publishInvocation(bus, sent, Buffer.from('{"x":1}'));
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(2);
    expect(seen[1]).toMatchObject({
      functionName: 'sink',
      payload: { requestContext: { requestId: sent.requestId, condition: 'Success' }, requestPayload: { x: 1 } },
    });
  });

  it('loses nothing when its router stops mid-attempt: another one runs the event', async () => {
    const sink = collect(`${bus.prefix}-survives`);
    const settings = () => ({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60, OnSuccess: nats(`${bus.prefix}-survives`), source: '$LATEST' });
    let hung = 0;
    const first = await start(async () => {
      hung += 1;
      return new Promise<never>(() => {});
    }, settings);
    await publishInvocation(bus, event('survives'), Buffer.from('{}'));
    await expect.poll(() => hung, { timeout: 10_000 }).toBe(1);
    await first.stop();
    await start(async (request) => ok(request, 'second router'), settings);
    await expect.poll(() => sink.records.length, { timeout: 10_000 }).toBe(1);
    expect(sink.records[0]).toMatchObject({ responsePayload: 'second router' });
    sink.stop();
  });

  it("keeps running other events while throttled ones wait for their retry time", async () => {
    const sink = collect(`${bus.prefix}-unblocked`);
    await start(
      async (request) =>
        request.functionName === 'busy'
          ? answer(request, { $case: 'throttled', value: { reason: 'ConcurrentInvocationLimitExceeded', message: '', retryAfterMs: 30_000 } })
          : ok(request, 'ran'),
      () => ({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 600, OnSuccess: nats(`${bus.prefix}-unblocked`), source: '$LATEST' }),
      { concurrency: 2 },
    );
    for (let i = 0; i < 4; i += 1) await publishInvocation(bus, event('busy'), Buffer.from('{}'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await publishInvocation(bus, event('idle'), Buffer.from('{}'));
    await expect.poll(() => sink.records.length, { timeout: 5_000 }).toBe(1);
    expect(sink.records[0]).toMatchObject({ responsePayload: 'ran' });
    sink.stop();
  });

  it('ends the delivery of a malformed message instead of retrying it', async () => {
    const invoker = await start(async (request) => ok(request, 1), () => undefined);
    await bus.js.publish(`${bus.prefix}.invocations.broken`, Buffer.from('{}'), { msgID: randomUUID() });
    await expect.poll(() => invoker.stats().dropped.malformed, { timeout: 10_000 }).toBe(1);
  });
});

describe('the default function directory', () => {
  /** Publishes function events to the event stream as the outbox relay does. */
  async function append(name: string, version: number, type: string, data: unknown): Promise<void> {
    const recorded: RecordedEvent = {
      eventId: randomUUID(),
      position: version,
      streamId: `function:${name}`,
      streamVersion: version,
      type,
      data,
      metadata: {},
      recordedAt: new Date().toISOString(),
    };
    const message = toEventMessage(bus.prefix, recorded);
    await bus.js.publish(message.subject, message.payload, { msgID: message.msgID, headers: message.headers });
  }

  it("reads a version's EventInvokeConfig from the event stream, waiting for the version the api resolved against", async () => {
    await bus.ensureEventStream();
    const configuration = { FunctionName: 'dir-fn', FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:dir-fn', Timeout: 3 };
    await append('dir-fn', 1, 'FunctionCreated', { configuration, code: {}, Tags: {}, RevisionId: 'r1', LastModified: 'x' });
    await append('dir-fn', 2, 'FunctionVersionPublished', { Version: '1', configuration, code: {}, Description: '', RevisionId: 'r2', LastModified: 'x' });
    await append('dir-fn', 3, 'FunctionVersionActivated', { Version: '1', LastModified: 'x' });
    const sink = collect(`${bus.prefix}-directory`);
    const invoker = await startAsyncInvoker({ bus, logger, invoke: async (request) => failed(request), delays: { functionErrorDelayMs: 50 }, env: {}, stopTimeoutMs: 200 });
    invokers.push(invoker);
    await expect.poll(() => invoker.stats().consuming, { timeout: 10_000 }).toBe(true);
    // The event names stream version 4, which the directory has not seen yet: the config is put after the publish.
    await publishInvocation(bus, event('dir-fn', { functionStreamVersion: 4 }), Buffer.from('{}'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await append('dir-fn', 4, 'FunctionEventInvokeConfigPut', {
      Qualifier: '$LATEST',
      config: { MaximumRetryAttempts: 0, OnFailure: `nats:${bus.prefix}-directory`, LastModified: new Date().toISOString() },
    });
    await expect.poll(() => sink.records.length, { timeout: 10_000 }).toBe(1);
    expect(sink.records[0]).toMatchObject({ requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 1 } });
    sink.stop();
  });
});
