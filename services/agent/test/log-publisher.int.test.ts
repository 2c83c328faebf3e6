/**
 * The agent's log publisher against a real NATS JetStream: lines land in the
 * function log stream on their EE's subject with the request id header, and
 * lines that cannot be stored are dropped and counted, never retried forever.
 */
import { randomBytes } from 'node:crypto';
import {
  connectBus,
  ensureFunctionLogStream,
  functionLogStreamName,
  logRequestIdHeader,
  publishFunctionLog,
  type Bus,
  type LogEvent,
} from '@hearth/bus';
import { createLogger } from '@hearth/telemetry';
import { testInfra } from '@hearth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogPublisher } from '../src/log-publisher.js';

const logger = createLogger('log-publisher-int');
logger.level = process.env.HEARTH_LOG_LEVEL ?? 'silent';
let bus: Bus;

const until = async (condition: () => boolean, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

beforeAll(async () => {
  bus = await connectBus({ url: testInfra().natsUrl, name: 'log-publisher-int', prefix: `tlogp${randomBytes(4).toString('hex')}`, logger });
});

afterAll(async () => {
  await bus?.jsm.streams.delete(functionLogStreamName(bus.prefix)).catch(() => undefined);
  await bus?.close();
});

describe('log publisher on JetStream', () => {
  it('counts lines as failed while the stream does not exist, then stores every line once it does', async () => {
    const publisher = createLogPublisher({
      publish: (subject, payload, requestId) => publishFunctionLog(bus, subject, payload, requestId),
      prefix: bus.prefix,
      instanceId: 'i-int',
      logger,
    });
    const line = (i: number) => ({
      time: new Date().toISOString(),
      environmentId: 'ee-7',
      function: 'fn',
      version: '$LATEST.PUBLISHED',
      stream: 'stdout' as const,
      message: `line ${i}`,
      ...(i % 2 === 0 ? { requestId: `r-${i}`, level: 'INFO' } : {}),
    });

    publisher.offer(line(-1));
    await until(() => publisher.stats().dropped.publishFailed === 1);

    await ensureFunctionLogStream(bus);
    for (let i = 0; i < 500; i += 1) publisher.offer(line(i));
    await until(() => publisher.stats().published === 500);
    await publisher.close();

    const stream = functionLogStreamName(bus.prefix);
    const info = await bus.jsm.streams.info(stream);
    expect(info.state.messages).toBe(500);
    const first = await bus.jsm.streams.getMessage(stream, { seq: info.state.first_seq });
    expect(first?.subject).toBe(`${bus.prefix}.logs.fn.~24LATEST~2EPUBLISHED.ee-7`);
    expect(first?.header.get(logRequestIdHeader)).toBe('r-0');
    expect(first?.json<LogEvent>()).toMatchObject({ message: 'line 0', requestId: 'r-0', instanceId: 'i-int', version: '$LATEST.PUBLISHED' });
    const second = await bus.jsm.streams.getMessage(stream, { seq: info.state.first_seq + 1 });
    expect(second?.header?.get(logRequestIdHeader) ?? '').toBe('');
    expect(publisher.stats().dropped).toEqual({ backlogFull: 0, publishFailed: 1, shutdown: 0 });
  });

  it('stores a line whose printed requestId cannot be a header, without the header', async () => {
    await ensureFunctionLogStream(bus);
    const stream = functionLogStreamName(bus.prefix);
    const before = (await bus.jsm.streams.info(stream)).state.last_seq;
    await publishFunctionLog(bus, `${bus.prefix}.logs.fn.1.ee-8`, Buffer.from('{"message":"m"}'), 'bad\r\nX-Injected: 1');
    const message = await bus.jsm.streams.getMessage(stream, { seq: before + 1 });
    expect(message?.json()).toEqual({ message: 'm' });
    expect(message?.header?.get(logRequestIdHeader) ?? '').toBe('');
    expect(message?.header?.get('X-Injected') ?? '').toBe('');
  });
});
