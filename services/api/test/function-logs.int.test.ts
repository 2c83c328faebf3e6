/**
 * Function logs against a real NATS JetStream: the stream's retention, the
 * reads of `GET /hearth/v1/functions/{FunctionName}/logs` (since, limit,
 * requestId, qualifier), and `follow` over HTTP, with lines published the
 * way agents publish them.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  connectBus,
  ensureFunctionLogStream,
  functionLogStreamName,
  functionLogSubject,
  publishFunctionLog,
  type Bus,
  type LogEvent,
} from '@hearth/bus';
import { createLambdaHttpServer, type LambdaHttpServer } from '@hearth/lambda-http';
import { createLogger } from '@hearth/telemetry';
import { testInfra } from '@hearth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionLogsRoute, parseLogQuery, readLogEvents } from '../src/logs/index.js';

const logger = createLogger('function-logs-test');
logger.level = process.env.HEARTH_LOG_LEVEL ?? 'silent';

let bus: Bus;
let http: LambdaHttpServer;
let baseUrl: string;
const known = new Set(['alpha', 'alphabet', 'quiet', 'bulk']);

async function publish(functionName: string, version: string, message: string, requestId?: string, environmentId = 'ee-1'): Promise<void> {
  const event: LogEvent = {
    timestamp: new Date().toISOString(),
    functionName,
    version,
    environmentId,
    instanceId: 'i-test',
    stream: 'stdout',
    message,
    ...(requestId ? { requestId, level: 'INFO' } : {}),
  };
  await publishFunctionLog(bus, functionLogSubject(bus.prefix, functionName, version, environmentId), Buffer.from(JSON.stringify(event)), requestId);
}

const messages = (events: string[]) => events.map((event) => (JSON.parse(event) as LogEvent).message);
const read = (functionName: string, query: string) => readLogEvents(bus, parseLogQuery(functionName, query));

async function consumerCount(): Promise<number> {
  return (await bus.jsm.streams.info(functionLogStreamName(bus.prefix))).state.consumer_count;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let firstBatchEnd = 0;

beforeAll(async () => {
  bus = await connectBus({ url: testInfra().natsUrl, name: 'function-logs-test', prefix: `tlogs${randomBytes(4).toString('hex')}`, logger });
  await ensureFunctionLogStream(bus, { maxAgeMs: 3_600_000, maxBytes: 64 * 1024 * 1024 }, { update: true });
  await publish('alpha', '1', 'a1', 'r-1');
  await publish('alpha', '1', 'a2', 'r-1');
  await publish('alpha', '1', 'a3', 'r-2');
  await publish('alpha', '2', 'b1', 'r-3', 'ee-2');
  await publish('alphabet', '1', 'other function');
  firstBatchEnd = Date.now();
  // JetStream stamps messages with the server's clock in ns; a gap keeps the two batches apart.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await publish('alpha', '2', 'b2', 'r-4', 'ee-2');
  await publish('alpha', '$LATEST.PUBLISHED', 'p1');

  http = createLambdaHttpServer({
    handlers: {},
    logger,
    extraRoutes: [functionLogsRoute({ bus, functionExists: async (name) => known.has(name), keepAliveMs: 300 })],
  });
  const address: AddressInfo = await http.listen(0);
  baseUrl = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await http?.close(1_000);
  await bus?.jsm.streams.delete(functionLogStreamName(bus.prefix)).catch(() => undefined);
  await bus?.close();
});

describe('the function log stream', () => {
  it('is created with the retention asked for, and only the api (update) changes an existing one', async () => {
    const name = functionLogStreamName(bus.prefix);
    let info = await bus.jsm.streams.info(name);
    expect(info.config).toMatchObject({ subjects: [`${bus.prefix}.logs.>`], max_age: 3_600_000 * 1_000_000, max_bytes: 64 * 1024 * 1024, discard: 'old' });

    // An agent configured differently leaves it alone.
    await ensureFunctionLogStream(bus, { maxAgeMs: 60_000, maxBytes: 2 * 1024 * 1024 });
    info = await bus.jsm.streams.info(name);
    expect(info.config).toMatchObject({ max_age: 3_600_000 * 1_000_000, max_bytes: 64 * 1024 * 1024 });

    // Concurrent api starts agree; the settings apply to the stream that holds lines already.
    await Promise.all([1, 2, 3].map(() => ensureFunctionLogStream(bus, { maxAgeMs: 7_200_000, maxBytes: 32 * 1024 * 1024 }, { update: true })));
    info = await bus.jsm.streams.info(name);
    expect(info.config).toMatchObject({ max_age: 7_200_000 * 1_000_000, max_bytes: 32 * 1024 * 1024 });
    expect(info.state.messages).toBeGreaterThanOrEqual(7);
  });

  it('creates the stream race-free when agents and the api start together on a fresh installation', async () => {
    const fresh = await connectBus({ url: testInfra().natsUrl, name: 'function-logs-fresh', prefix: `tlogf${randomBytes(4).toString('hex')}`, logger });
    try {
      const infos = await Promise.all([
        ensureFunctionLogStream(fresh, { maxAgeMs: 60_000 }),
        ensureFunctionLogStream(fresh, { maxAgeMs: 60_000 }),
        ensureFunctionLogStream(fresh, { maxAgeMs: 120_000 }, { update: true }),
      ]);
      expect(new Set(infos.map((info) => info.config.name))).toEqual(new Set([functionLogStreamName(fresh.prefix)]));
    } finally {
      await fresh.jsm.streams.delete(functionLogStreamName(fresh.prefix)).catch(() => undefined);
      await fresh.close();
    }
  });
});

describe('reading logs', () => {
  it('returns every line of the function since `since`, oldest first, and none of a function whose name it prefixes', async () => {
    expect(messages(await read('alpha', ''))).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'p1']);
    expect(messages(await read('alphabet', ''))).toEqual(['other function']);
    expect(await read('quiet', '')).toEqual([]);
  });

  it('keeps the newest `limit` lines', async () => {
    expect(messages(await read('alpha', 'limit=2'))).toEqual(['b2', 'p1']);
    expect(messages(await read('alpha', 'limit=1&requestId=r-1'))).toEqual(['a2']);
  });

  it('filters by qualifier (numbered and $LATEST.PUBLISHED) and by requestId', async () => {
    expect(messages(await read('alpha', 'qualifier=2'))).toEqual(['b1', 'b2']);
    expect(messages(await read('alpha', 'qualifier=%24LATEST.PUBLISHED'))).toEqual(['p1']);
    expect(messages(await read('alpha', 'requestId=r-1'))).toEqual(['a1', 'a2']);
    expect(messages(await read('alpha', 'qualifier=1&requestId=r-3'))).toEqual([]);
  });

  it('starts at `since`', async () => {
    expect(messages(await read('alpha', `since=${firstBatchEnd + 10}`))).toEqual(['b2', 'p1']);
    expect(messages(await read('alpha', `since=${new Date(Date.now() + 60_000).toISOString()}`))).toEqual([]);
  });

  it('leaves no consumer behind', async () => {
    await until(async () => (await consumerCount()) === 0);
  });
});

/** A GET: status, content type and body. */
async function get(path: string): Promise<{ status: number; type: string; errorType: string; body: string }> {
  const response = await fetch(`${baseUrl}${path}`);
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    errorType: response.headers.get('x-amzn-errortype') ?? '',
    body: await response.text(),
  };
}

/** An NDJSON follow stream: the lines received so far (keep-alives as ''), and a way to hang up. */
function follow(path: string) {
  const lines: string[] = [];
  let partial = '';
  let status = 0;
  let type = '';
  const req = request(`${baseUrl}${path}`, (res) => {
    status = res.statusCode ?? 0;
    type = String(res.headers['content-type']);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
    });
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  return {
    lines,
    events: () => lines.filter((line) => line !== '').map((line) => JSON.parse(line) as LogEvent),
    status: () => status,
    type: () => type,
    close: () => req.destroy(),
  };
}

describe('GET /hearth/v1/functions/{FunctionName}/logs', () => {
  it('answers {"events":[…]} with the contract LogEvent fields', async () => {
    const answer = await get('/hearth/v1/functions/alpha/logs?requestId=r-2');
    expect(answer).toMatchObject({ status: 200, type: 'application/json' });
    expect(JSON.parse(answer.body)).toEqual({
      events: [
        {
          timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
          functionName: 'alpha',
          version: '1',
          environmentId: 'ee-1',
          instanceId: 'i-test',
          stream: 'stdout',
          requestId: 'r-2',
          level: 'INFO',
          message: 'a3',
        },
      ],
    });
  });

  it('answers ResourceNotFoundException for an unknown function and InvalidParameterValueException naming a bad parameter', async () => {
    const missing = await get('/hearth/v1/functions/nope/logs');
    expect(missing).toMatchObject({ status: 404, errorType: 'ResourceNotFoundException' });
    expect(JSON.parse(missing.body)).toMatchObject({ Type: 'User' });
    const bad = await get('/hearth/v1/functions/alpha/logs?limit=0');
    expect(bad).toMatchObject({ status: 400, errorType: 'InvalidParameterValueException' });
    expect(bad.body).toMatch(/limit/);
    expect((await get('/hearth/v1/functions/alpha/logs?follow=maybe')).body).toMatch(/follow/);
  });

  it('follows: stored lines, then new ones as they arrive, with keep-alive lines; hanging up removes the consumer', async () => {
    const stream = follow(`/hearth/v1/functions/alpha/logs?follow=true&qualifier=2&since=${firstBatchEnd - 60_000}`);
    await until(() => stream.events().length === 2);
    expect(stream.status()).toBe(200);
    expect(stream.type()).toBe('application/x-ndjson');
    expect(stream.events().map((event) => event.message)).toEqual(['b1', 'b2']);

    await publish('alpha', '2', 'b3 live', 'r-5', 'ee-3');
    await publish('alpha', '1', 'not version 2');
    await until(() => stream.events().length === 3);
    expect(stream.events()[2]).toMatchObject({ message: 'b3 live', requestId: 'r-5', environmentId: 'ee-3' });

    await until(() => stream.lines.includes(''));
    expect(stream.events().map((event) => event.message)).toEqual(['b1', 'b2', 'b3 live']);

    stream.close();
    await until(async () => (await consumerCount()) === 0);
  });

  it('follows one invocation by requestId', async () => {
    const stream = follow('/hearth/v1/functions/alpha/logs?follow=true&requestId=r-6');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await publish('alpha', '1', 'other invocation', 'r-7');
    await publish('alpha', '1', 'mine', 'r-6');
    await until(() => stream.events().length === 1);
    expect(stream.events()[0]).toMatchObject({ message: 'mine', requestId: 'r-6' });
    stream.close();
    await until(async () => (await consumerCount()) === 0);
  });
});

describe('a follower that stops reading', () => {
  it('is served at its pace: the api stops reading the stream, and lets go of a client that takes nothing for stalledClientMs', async () => {
    const strict = createLambdaHttpServer({
      handlers: {},
      logger,
      extraRoutes: [functionLogsRoute({ bus, functionExists: async (name) => known.has(name), stalledClientMs: 1_000 })],
    });
    const { port } = await strict.listen(0);
    try {
      const line = 'x'.repeat(60 * 1024);
      for (let i = 0; i < 300; i += 1) await publish('bulk', '1', `${i} ${line}`);
      let closed = false;
      let received = 0;
      let response: import('node:http').IncomingMessage | undefined;
      const req = request(`http://127.0.0.1:${port}/hearth/v1/functions/bulk/logs?follow=true&since=0`, (res) => {
        response = res;
        // Read one chunk, then nothing more for now.
        res.once('data', (chunk: Buffer) => {
          received += chunk.length;
          res.pause();
        });
        res.on('error', () => undefined);
      });
      req.on('error', () => undefined);
      req.on('close', () => (closed = true));
      req.end();
      await until(() => response !== undefined && received > 0);
      expect(await consumerCount()).toBe(1);
      // The api gives up on the stalled client and deletes its consumer, though the client has not hung up.
      await until(async () => (await consumerCount()) === 0, 30_000);
      expect(closed).toBe(false);
      // What the client finds when it reads again is what the socket buffers held, then the end: not the 18 MB published.
      response?.on('data', (chunk: Buffer) => (received += chunk.length));
      response?.resume();
      await until(() => closed, 30_000);
      expect(received).toBeLessThan(300 * line.length);
    } finally {
      await strict.close(1_000);
    }
  });
});
