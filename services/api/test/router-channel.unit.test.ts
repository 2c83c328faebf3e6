/**
 * The api's router channel against a tiny fake RouterService (a real grpc-js
 * server on a free port whose InvokeStream answers as each test says).
 */
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceException, ServiceUnavailableException, TooManyRequestsException } from '@hearth/errors';
import { router } from '@hearth/proto';
import { createRouterChannel, type RouterChannel, type RouteRequestInit } from '../src/invoke/router-channel.js';
import { testLogger } from './invoke-support.js';

type Call = ServerDuplexStream<router.RouteRequest, router.RouteResponse>;

/** A RouterService whose InvokeStream hands every request to `onRequest`. */
async function fakeRouter(onRequest: (request: router.RouteRequest, call: Call) => void, port = 0) {
  const server = new Server();
  const calls = new Set<Call>();
  const unimplemented = (_call: unknown, callback: (error: Error) => void) => callback(new Error('not in this fake'));
  server.addService(router.RouterServiceService, {
    invokeStream: (call: Call) => {
      calls.add(call);
      call.on('data', (request: router.RouteRequest) => onRequest(request, call));
      call.on('end', () => call.end());
      call.on('error', () => calls.delete(call));
    },
    invoke: unimplemented,
    describeRoutes: unimplemented,
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${bound}`,
    port: bound,
    calls,
    // Graceful, but bounded: a client still holding its stream open must not hang the test's cleanup.
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
    kill: () => server.forceShutdown(),
  };
}

const ok = (request: router.RouteRequest) =>
  router.RouteResponse.fromPartial({
    requestId: request.requestId,
    outcome: { $case: 'result', value: router.InvocationResult.fromPartial({ payload: request.payload, executedVersion: request.version }) },
  } as never);

const request = (requestId: string, overrides: Partial<RouteRequestInit> = {}): RouteRequestInit => ({
  requestId,
  functionName: 'fn1',
  version: '1',
  payload: Buffer.from(JSON.stringify({ id: requestId })),
  deadlineUnixMs: Date.now() + 5_000,
  traceContext: {},
  ...overrides,
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function channel(address: string, options: Partial<Parameters<typeof createRouterChannel>[0]> = {}): RouterChannel {
  const created = createRouterChannel({ address, logger: testLogger, backoffMinMs: 20, backoffMaxMs: 100, ...options });
  cleanups.push(() => created.close());
  return created;
}

describe('router channel', () => {
  it('multiplexes invocations on one stream and matches answers by request id, in any order', async () => {
    const held: Array<[router.RouteRequest, Call]> = [];
    const fake = await fakeRouter((req, call) => {
      held.push([req, call]);
      // Answer in reverse order once all three arrived.
      if (held.length === 3) for (const [r, c] of held.reverse()) c.write(ok(r));
    });
    cleanups.push(() => fake.stop());
    const subject = channel(fake.address);
    const answers = await Promise.all(['a', 'b', 'c'].map((id) => subject.invoke(request(id))));
    expect(answers.map((answer) => answer.requestId)).toEqual(['a', 'b', 'c']);
    expect(subject.stats()).toMatchObject({ sent: 3, answered: 3, inFlight: 0, inFlightBytes: 0, streamsOpened: 1 });
    expect(fake.calls.size).toBe(1);
  });

  it('sends a cancel for the request id when the caller goes away', async () => {
    const seen: router.RouteRequest[] = [];
    const fake = await fakeRouter((req) => seen.push(req));
    cleanups.push(() => fake.stop());
    const subject = channel(fake.address);
    const abort = new AbortController();
    const pending = subject.invoke(request('gone'), abort.signal);
    await expect.poll(() => seen.length).toBe(1);
    abort.abort(new Error('client disconnected'));
    await expect(pending).rejects.toThrow('client disconnected');
    await expect.poll(() => seen.map((r) => [r.requestId, r.cancel])).toEqual([
      ['gone', false],
      ['gone', true],
    ]);
    expect(subject.stats().dropped.cancelled).toBe(1);
  });

  it('gives up at the deadline plus grace with ServiceException, and cancels at the router', async () => {
    const seen: router.RouteRequest[] = [];
    const fake = await fakeRouter((req) => seen.push(req));
    cleanups.push(() => fake.stop());
    const subject = channel(fake.address, { answerGraceMs: 50 });
    const started = Date.now();
    await expect(subject.invoke(request('slow', { deadlineUnixMs: Date.now() + 100 }))).rejects.toBeInstanceOf(ServiceException);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await expect.poll(() => seen.some((r) => r.cancel)).toBe(true);
    expect(subject.stats().dropped.deadline).toBe(1);
  });

  it('sheds beyond its in-flight bounds at once with 429 and a reason', async () => {
    const fake = await fakeRouter(() => {});
    cleanups.push(() => fake.stop());
    const subject = channel(fake.address, { maxInFlight: 2, maxInFlightBytes: 1_000 });
    const abort = new AbortController();
    const first = subject.invoke(request('1'), abort.signal).catch(() => undefined);
    const second = subject.invoke(request('2'), abort.signal).catch(() => undefined);
    const third = await subject.invoke(request('3')).catch((error: unknown) => error);
    expect(third).toBeInstanceOf(TooManyRequestsException);
    expect(third).toMatchObject({ reason: 'ConcurrentInvocationLimitExceeded', retryAfterSeconds: 1 });
    abort.abort();
    await Promise.all([first, second]);
    const big = await subject.invoke(request('4', { payload: Buffer.alloc(1_001) })).catch((error: unknown) => error);
    expect(big).toBeInstanceOf(TooManyRequestsException);
    expect(subject.stats().dropped).toMatchObject({ inFlightLimit: 1, inFlightBytes: 1 });
  });

  it('fails fast and unsent while the router is down, then reconnects when it comes up', async () => {
    const placeholder = await fakeRouter(() => {});
    const port = placeholder.port;
    await placeholder.stop();
    const subject = channel(`127.0.0.1:${port}`, { connectWaitMs: 100, connectTimeoutMs: 200 });
    const started = Date.now();
    await expect(subject.invoke(request('early'))).rejects.toBeInstanceOf(ServiceUnavailableException);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(subject.stats().dropped.routerUnavailable).toBe(1);

    const fake = await fakeRouter((req, call) => call.write(ok(req)), port);
    cleanups.push(() => fake.stop());
    await expect.poll(() => subject.stats().open, { timeout: 5_000 }).toBe(true);
    expect((await subject.invoke(request('late'))).requestId).toBe('late');
  });

  it('fails in-flight invocations when the router dies, and carries on over a new stream once it is back', async () => {
    const first = await fakeRouter(() => {});
    const subject = channel(first.address);
    const inFlight = subject.invoke(request('lost'));
    await expect.poll(() => first.calls.size).toBe(1);
    first.kill();
    await expect(inFlight).rejects.toBeInstanceOf(ServiceException);
    expect(subject.stats().dropped.streamLost).toBe(1);
    const second = await fakeRouter((req, call) => call.write(ok(req)), first.port);
    cleanups.push(() => second.stop());
    await expect.poll(() => subject.stats().open, { timeout: 5_000 }).toBe(true);
    expect((await subject.invoke(request('next'))).requestId).toBe('next');
    expect(subject.stats().streamsOpened).toBe(2);
  });
});
