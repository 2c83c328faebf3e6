import { connectBus, type Bus } from '@hearth/bus';
import { ServiceUnavailableException } from '@hearth/errors';
import { startTelemetry, withSpan } from '@hearth/telemetry';
import { context, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBus, testLogger, uniquePrefix } from './support.js';

let bus: Bus;
let other: Bus;

beforeAll(async () => {
  bus = await openBus(uniquePrefix('live'));
  other = await openBus(uniquePrefix('live'));
});
afterAll(async () => {
  await bus?.close();
  await other?.close();
  await bus?.close();
});

describe('live subjects', () => {
  it('carry JSON and the publisher trace context under the prefix only', async () => {
    const telemetry = startTelemetry({ serviceName: 'bus-test', spanProcessors: [] });
    try {
      const received: { data: unknown; subject: string; traceId: string | undefined }[] = [];
      const subscription = bus.subscribeLive('load.*', (data, { subject }) => {
        received.push({ data, subject, traceId: trace.getSpanContext(context.active())?.traceId });
      });
      const strangers: unknown[] = [];
      const otherSubscription = other.subscribeLive('load.*', (data) => void strangers.push(data));
      let traceId = '';
      await withSpan('report', {}, async () => {
        traceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
        bus.publishLive('load.agent-1', { inFlight: 3, limit: 8 });
      });
      await expect.poll(() => received.length, { timeout: 5_000 }).toBe(1);
      expect(received[0]).toEqual({ data: { inFlight: 3, limit: 8 }, subject: 'load.agent-1', traceId });
      await bus.nc.flush();
      await other.nc.flush();
      expect(strangers).toEqual([]);
      subscription.unsubscribe();
      otherSubscription.unsubscribe();
    } finally {
      await telemetry.shutdown();
    }
  });

  it('counts payloads that are not JSON and handlers that throw, and keeps going', async () => {
    const seen: unknown[] = [];
    const subscription = bus.subscribeLive<{ n: number }>('counted', (data) => {
      if (data.n === 2) throw new Error('handler failed');
      seen.push(data.n);
    });
    bus.nc.publish(`${bus.prefix}.live.counted`, 'not json');
    for (const n of [1, 2, 3]) bus.publishLive('counted', { n });
    await expect.poll(() => seen, { timeout: 5_000 }).toEqual([1, 3]);
    expect(subscription.failed).toBe(2);
    expect(subscription.dropped).toBe(0);
    subscription.unsubscribe();
  });

  it('drops and counts messages beyond maxInFlight async handlers', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const subscription = bus.subscribeLive(
      'slow',
      async () => {
        started += 1;
        await gate;
      },
      { maxInFlight: 2 },
    );
    for (let i = 0; i < 5; i += 1) bus.publishLive('slow', { i });
    await expect.poll(() => subscription.dropped + started, { timeout: 5_000 }).toBe(5);
    expect(started).toBe(2);
    expect(subscription.dropped).toBe(3);
    release();
    subscription.unsubscribe();
  });
});

describe('connectBus', () => {
  it('gives up on an unreachable server after its connect deadline', async () => {
    const startedAt = Date.now();
    await expect(
      connectBus({ url: 'nats://127.0.0.1:1', name: 'unreachable', prefix: 'nowhere', logger: testLogger, connectTimeoutMs: 1_000 }),
    ).rejects.toBeInstanceOf(ServiceUnavailableException);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('names the event stream after the prefix and creates it idempotently', async () => {
    const first = await bus.ensureEventStream();
    const second = await bus.ensureEventStream();
    expect(first.config.name).toBe(bus.eventStreamName);
    expect(second.config.subjects).toEqual([`${bus.prefix}.events.>`]);
    expect(second.config.duplicate_window).toBe(120_000_000_000);
    expect(second.config.storage).toBe('file');
    expect(second.config.retention).toBe('limits');
    await bus.jsm.streams.delete(bus.eventStreamName);
  });
});
