/**
 * The Runtime API on the wire, driven by a hand-written runtime (plain HTTP
 * requests): concurrent long-polls, the headers of an invocation, 202s, the
 * 400 of an unknown request id, the 413 of an oversized body, and routes that
 * do not exist.
 */
import { Agent, request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvocationBroker, type Invocation } from '../src/invocation-broker.js';
import type { LambdaErrorBody } from '../src/invocation-errors.js';
import { startRuntimeApiServer, type RuntimeApiServer } from '../src/runtime-api-server.js';
import { testLogger } from './support.js';

const arn = 'arn:aws:lambda:us-east-1:000000000000:function:fn:1';
const httpAgent = new Agent({ keepAlive: true, maxSockets: 16 });
let broker: InvocationBroker;
let server: RuntimeApiServer;
let nexts = 0;
const initErrors: LambdaErrorBody[] = [];

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<Reply> {
  const [host, port] = server.address.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), method, path, agent: httpAgent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function invocation(requestId: string, extra: Partial<Invocation> = {}): Invocation {
  return { requestId, payload: Buffer.from(`{"id":"${requestId}"}`), deadlineMs: Date.now() + 5_000, timeoutMs: 5_000, traceHeader: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1', ...extra };
}

beforeEach(async () => {
  nexts = 0;
  initErrors.length = 0;
  broker = new InvocationBroker({ environmentId: 'ee-api', maxConcurrency: 4 });
  server = await startRuntimeApiServer({
    broker,
    functionArn: arn,
    logger: testLogger,
    maxBodyBytes: 1024,
    events: {
      onNext: () => {
        nexts += 1;
        return true;
      },
      onInitError: (error) => void initErrors.push(error),
    },
  });
});
afterEach(async () => {
  await server.close();
});

describe('Runtime API server', () => {
  it('serves concurrent /next long-polls with Lambda’s headers, and takes responses and errors with 202', async () => {
    const polls = [0, 1, 2].map(() => call('GET', '/2018-06-01/runtime/invocation/next'));
    await expect.poll(() => broker.waitingPollers).toBe(3);
    expect(nexts).toBe(3);
    const outcomes = [
      broker.submit(invocation('r1', { clientContext: 'eyJhIjoxfQ==' })),
      broker.submit(invocation('r2')),
      broker.submit(invocation('r3')),
    ];
    const replies = await Promise.all(polls);
    const byId = new Map(replies.map((reply) => [reply.headers['lambda-runtime-aws-request-id'], reply]));
    const first = byId.get('r1')!;
    expect(first.status).toBe(200);
    expect(first.body).toBe('{"id":"r1"}');
    expect(first.headers).toMatchObject({
      'lambda-runtime-invoked-function-arn': arn,
      'lambda-runtime-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      'lambda-runtime-client-context': 'eyJhIjoxfQ==',
    });
    expect(Number(first.headers['lambda-runtime-deadline-ms'])).toBeGreaterThan(Date.now());
    expect(byId.get('r2')!.headers['lambda-runtime-client-context']).toBeUndefined();

    expect((await call('POST', '/2018-06-01/runtime/invocation/r1/response', '{"ok":true}')).status).toBe(202);
    const errorBody = JSON.stringify({ errorMessage: 'nope', errorType: 'Custom', stackTrace: ['at x'] });
    expect((await call('POST', '/2018-06-01/runtime/invocation/r2/error', errorBody, { 'Lambda-Runtime-Function-Error-Type': 'Custom' })).status).toBe(202);
    expect((await call('POST', '/2018-06-01/runtime/invocation/r3/error', 'plain text', { 'Lambda-Runtime-Function-Error-Type': 'Runtime.Odd' })).status).toBe(202);
    const [ok, failed, odd] = await Promise.all(outcomes);
    expect(ok!.payload.toString()).toBe('{"ok":true}');
    expect(ok!.functionError).toBeUndefined();
    expect(failed!.functionError).toBe('Unhandled');
    expect(failed!.payload.toString()).toBe(errorBody);
    expect(JSON.parse(odd!.payload.toString())).toEqual({ errorMessage: 'plain text', errorType: 'Runtime.Odd' });
  });

  it('answers an unknown or already answered request id with 400 and a JSON error', async () => {
    const unknown = await call('POST', '/2018-06-01/runtime/invocation/nope/response', '{}');
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body)).toEqual({ errorMessage: 'Invalid request ID: nope', errorType: 'InvalidRequestID' });
    const poll = call('GET', '/2018-06-01/runtime/invocation/next');
    await expect.poll(() => broker.waitingPollers).toBe(1);
    const outcome = broker.submit(invocation('once'));
    await poll;
    expect((await call('POST', '/2018-06-01/runtime/invocation/once/response', '1')).status).toBe(202);
    expect((await call('POST', '/2018-06-01/runtime/invocation/once/response', '2')).status).toBe(400);
    expect((await outcome).payload.toString()).toBe('1');
  });

  it('refuses a body over the limit with 413 and fails that invocation as Lambda does', async () => {
    const poll = call('GET', '/2018-06-01/runtime/invocation/next');
    await expect.poll(() => broker.waitingPollers).toBe(1);
    const outcome = broker.submit(invocation('big'));
    await poll;
    const reply = await call('POST', '/2018-06-01/runtime/invocation/big/response', Buffer.alloc(2048, 0x61));
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body)).toMatchObject({ errorType: 'RequestEntityTooLarge' });
    const result = await outcome;
    expect(result.functionError).toBe('Unhandled');
    expect(JSON.parse(result.payload.toString())).toEqual({
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: 'Response payload size exceeded maximum allowed payload size (1024 bytes).',
    });
  });

  it('takes an init error with 202 and passes it on', async () => {
    const body = JSON.stringify({ errorMessage: 'Handler missing', errorType: 'Runtime.HandlerNotFound', stackTrace: [] });
    expect((await call('POST', '/2018-06-01/runtime/init/error', body, { 'Lambda-Runtime-Function-Error-Type': 'Runtime.HandlerNotFound' })).status).toBe(202);
    expect(initErrors).toEqual([{ errorMessage: 'Handler missing', errorType: 'Runtime.HandlerNotFound', stackTrace: [] }]);
  });

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    expect((await call('GET', '/2018-06-01/runtime/nowhere')).status).toBe(404);
    const wrong = await call('POST', '/2018-06-01/runtime/invocation/next', '{}');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET');
  });

  it('withdraws a poll whose connection closes, so no invocation is lost to it', async () => {
    const [host, port] = server.address.split(':');
    const req = request({ host, port: Number(port), path: '/2018-06-01/runtime/invocation/next' });
    req.on('error', () => undefined);
    req.end();
    await expect.poll(() => broker.waitingPollers).toBe(1);
    req.destroy();
    await expect.poll(() => broker.waitingPollers).toBe(0);
    const outcome = broker.submit(invocation('kept'));
    expect(broker.occupied).toBe(1);
    const poll = await call('GET', '/2018-06-01/runtime/invocation/next');
    expect(poll.headers['lambda-runtime-aws-request-id']).toBe('kept');
    await call('POST', '/2018-06-01/runtime/invocation/kept/response', '"k"');
    expect((await outcome).payload.toString()).toBe('"k"');
  });
});
