import { describe, expect, it } from 'vitest';
import { createLogger } from '@hearth/telemetry';
import { createLogPublisher, toLogEvent, type LogPublishFn } from '../src/log-publisher.js';
import type { CapturedLine } from '../src/output-capture.js';

const logger = createLogger('log-publisher-test');
logger.level = 'silent';

function line(message: string, extra: Partial<CapturedLine> = {}): CapturedLine {
  return { time: '2026-11-27T22:01:02.345Z', environmentId: 'ee-1', function: 'hello', version: '1', stream: 'stdout', message, ...extra };
}

/** A publisher that holds every publish until released (NATS slow), or fails them (NATS down). */
function fakePublisher(mode: 'ack' | 'hold' | 'fail' = 'ack') {
  const sent: Array<{ subject: string; event: Record<string, unknown>; requestId: string | undefined }> = [];
  const held: Array<() => void> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const publish: LogPublishFn = (subject, payload, requestId) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const record = () => {
      inFlight -= 1;
      sent.push({ subject, event: JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>, requestId });
    };
    if (mode === 'fail') {
      inFlight -= 1;
      return Promise.reject(new Error('no responders'));
    }
    if (mode === 'hold') return new Promise<void>((resolve) => held.push(() => (record(), resolve())));
    record();
    return Promise.resolve();
  };
  return { publish, sent, release: () => held.splice(0).forEach((go) => go()), maxInFlight: () => maxInFlight };
}

const until = async (condition: () => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('toLogEvent', () => {
  it('turns a captured line into the contract LogEvent with the instance id', () => {
    expect(toLogEvent(line('hi', { requestId: 'r-1', level: 'INFO' }), 'i-1')).toEqual({
      timestamp: '2026-11-27T22:01:02.345Z',
      functionName: 'hello',
      version: '1',
      environmentId: 'ee-1',
      instanceId: 'i-1',
      stream: 'stdout',
      requestId: 'r-1',
      level: 'INFO',
      message: 'hi',
    });
  });

  it('leaves requestId and level out when the runtime did not know them, and keeps extra fields', () => {
    const event = toLogEvent(line('cut', { stream: 'stderr', truncated: true, errorType: 'TypeError' }), 'i-2');
    expect(event).not.toHaveProperty('requestId');
    expect(event).not.toHaveProperty('level');
    expect(event).toMatchObject({ stream: 'stderr', message: 'cut', truncated: true, errorType: 'TypeError', instanceId: 'i-2' });
  });
});

describe('log publisher', () => {
  it('publishes each line on its EE subject with the request id, at most maxInFlight awaiting acks', async () => {
    const fake = fakePublisher();
    const publisher = createLogPublisher({ publish: fake.publish, prefix: 'hearth', instanceId: 'i-1', logger, maxInFlight: 4 });
    for (let i = 0; i < 10; i += 1) publisher.offer(line(`line ${i}`, { version: '$LATEST.PUBLISHED', requestId: i % 2 ? `r-${i}` : undefined }));
    await until(() => fake.sent.length === 10);
    expect(fake.sent.map((s) => s.event.message)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i}`));
    expect(fake.sent[0]?.subject).toBe('hearth.logs.hello.~24LATEST~2EPUBLISHED.ee-1');
    expect(fake.sent[1]).toMatchObject({ requestId: 'r-1', event: { requestId: 'r-1', instanceId: 'i-1' } });
    expect(fake.sent[0]?.requestId).toBeUndefined();
    expect(fake.maxInFlight()).toBeLessThanOrEqual(4);
    expect(publisher.stats()).toMatchObject({ published: 10, backlogLines: 0, dropped: { backlogFull: 0, publishFailed: 0 } });
    await publisher.close();
  });

  it('never blocks the caller: when NATS is slow the backlog fills to its bound and further lines are dropped and counted', async () => {
    const fake = fakePublisher('hold');
    const publisher = createLogPublisher({ publish: fake.publish, prefix: 'hearth', instanceId: 'i-1', logger, maxInFlight: 2, maxBacklogLines: 5 });
    for (let i = 0; i < 3; i += 1) publisher.offer(line(`early ${i}`));
    // Two lines are in flight (maxInFlight), one waits.
    await until(() => publisher.stats().backlogLines === 1);
    for (let i = 0; i < 10; i += 1) publisher.offer(line(`late ${i}`));
    expect(publisher.stats()).toMatchObject({ backlogLines: 5, dropped: { backlogFull: 6 } });
    // NATS catches up: every held publish is acked, batch after batch.
    await until(() => {
      fake.release();
      return publisher.stats().published === 7;
    });
    expect(publisher.stats()).toMatchObject({ published: 7, backlogLines: 0, dropped: { backlogFull: 6, publishFailed: 0 } });
    await publisher.close();
  });

  it('bounds the backlog by bytes as well as lines', () => {
    const fake = fakePublisher('hold');
    const publisher = createLogPublisher({ publish: fake.publish, prefix: 'hearth', instanceId: 'i-1', logger, maxBacklogBytes: 1_000 });
    for (let i = 0; i < 10; i += 1) publisher.offer(line('x'.repeat(200)));
    const stats = publisher.stats();
    expect(stats.backlogBytes).toBeLessThanOrEqual(1_000);
    expect(stats.backlogLines + stats.dropped.backlogFull).toBe(10);
    expect(stats.dropped.backlogFull).toBeGreaterThan(0);
    fake.release();
    void publisher.close(0);
  });

  it('counts lines whose publish failed or was not acked in time', async () => {
    const failing = fakePublisher('fail');
    const publisher = createLogPublisher({ publish: failing.publish, prefix: 'hearth', instanceId: 'i-1', logger });
    for (let i = 0; i < 3; i += 1) publisher.offer(line(`l${i}`));
    await until(() => publisher.stats().dropped.publishFailed === 3);
    await publisher.close();

    const silent = fakePublisher('hold');
    const slow = createLogPublisher({ publish: silent.publish, prefix: 'hearth', instanceId: 'i-1', logger, publishTimeoutMs: 20 });
    slow.offer(line('never acked'));
    await until(() => slow.stats().dropped.publishFailed === 1);
    await slow.close();
  });

  it('logs drops once per interval, only when there were new ones', async () => {
    const records: Array<Record<string, unknown>> = [];
    const capturing = {
      child: () => capturing,
      warn: (fields: Record<string, unknown>) => records.push(fields),
    } as unknown as typeof logger;
    const fake = fakePublisher('hold');
    const publisher = createLogPublisher({ publish: fake.publish, prefix: 'hearth', instanceId: 'i-1', logger: capturing, maxBacklogLines: 1, dropLogIntervalMs: 30 });
    for (let i = 0; i < 50; i += 1) publisher.offer(line(`l${i}`));
    await until(() => records.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ event: 'logs.dropped', droppedSinceLastReport: publisher.stats().dropped.backlogFull });
    fake.release();
    await publisher.close(50);
  });

  it('flushes the backlog at close within its deadline, then drops (counted) what is left and takes no more', async () => {
    const fake = fakePublisher();
    const publisher = createLogPublisher({ publish: fake.publish, prefix: 'hearth', instanceId: 'i-1', logger });
    for (let i = 0; i < 5; i += 1) publisher.offer(line(`l${i}`));
    await publisher.close();
    expect(fake.sent).toHaveLength(5);
    publisher.offer(line('after close'));
    expect(publisher.stats()).toMatchObject({ published: 5, backlogLines: 0 });

    const stuck = fakePublisher('hold');
    const held = createLogPublisher({ publish: stuck.publish, prefix: 'hearth', instanceId: 'i-1', logger, maxInFlight: 1 });
    for (let i = 0; i < 4; i += 1) held.offer(line(`l${i}`));
    await held.close(30);
    expect(held.stats().dropped.shutdown).toBe(3);
    stuck.release();
  });
});
