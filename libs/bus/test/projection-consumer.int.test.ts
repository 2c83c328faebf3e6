import { eventFilterSubject, inMemoryCheckpoint, runProjection, startOutboxRelay, type OutboxRelay, type Projection, type ProjectionOptions } from '@hearth/bus';
import type { RecordedEvent } from '@hearth/event-store';
import { startTelemetry, withSpan } from '@hearth/telemetry';
import { context, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendMany, loggedPositions, openFixture, testLogger, type Fixture } from './support.js';

let fixture: Fixture;
let relay: OutboxRelay;
const projections: Projection[] = [];

beforeAll(async () => {
  fixture = await openFixture('proj');
  relay = await startOutboxRelay({ store: fixture.store, bus: fixture.bus, logger: testLogger, pollIntervalMs: 200 });
});
afterAll(async () => {
  await Promise.all(projections.map((p) => p.stop()));
  await relay?.stop();
  await fixture?.close();
});

async function project(options: Omit<ProjectionOptions, 'bus' | 'logger'>): Promise<Projection> {
  const projection = await runProjection({ bus: fixture.bus, logger: testLogger, ackWaitMs: 2_000, ...options });
  projections.push(projection);
  return projection;
}

/** Waits until the relay has published the whole log. */
async function relayed(): Promise<number> {
  const head = await fixture.store.headPosition();
  await expect.poll(() => relay.stats().publishedPosition, { timeout: 10_000 }).toBe(head);
  return head;
}

describe('durable projection consumer', () => {
  it('hands each event to the handler once, in position order, and resumes after a restart', async () => {
    await appendMany(fixture.store, { count: 60, streams: 4 });
    const seen: number[] = [];
    const checkpoint = inMemoryCheckpoint();
    const handle = (event: RecordedEvent) => {
      seen.push(event.position);
    };
    const first = await project({ durableName: 'restartable', handle, checkpoint });
    await expect.poll(() => first.position, { timeout: 10_000 }).toBe(await relayed());
    await first.stop();
    await first.stop();
    expect(await first.closed).toBeUndefined();

    await appendMany(fixture.store, { count: 20, streams: 4 });
    const second = await project({ durableName: 'restartable', handle, checkpoint });
    await expect.poll(() => second.position, { timeout: 10_000 }).toBe(await relayed());
    expect(seen).toEqual(await loggedPositions(fixture.store));
    expect(second.skipped).toBe(0);
    expect(checkpoint.position).toBe(await fixture.store.headPosition());
  });

  it('skips what the checkpoint covers when the durable consumer was lost', async () => {
    const checkpoint = fixture.store.checkpoint('lost-consumer');
    const seen: number[] = [];
    const first = await project({ durableName: 'lost', checkpoint, handle: (e) => void seen.push(e.position) });
    const head = await relayed();
    await expect.poll(() => first.position, { timeout: 10_000 }).toBe(head);
    await first.stop();
    await fixture.bus.jsm.consumers.delete(fixture.bus.eventStreamName, 'lost');

    await appendMany(fixture.store, { count: 5, streams: 2 });
    const second = await project({ durableName: 'lost', checkpoint, handle: (e) => void seen.push(e.position) });
    await expect.poll(() => second.position, { timeout: 10_000 }).toBe(await relayed());
    expect(second.skipped).toBe((await loggedPositions(fixture.store)).filter((p) => p <= head).length);
    expect(seen).toEqual(await loggedPositions(fixture.store));
    expect(await checkpoint.load()).toBe(await fixture.store.headPosition());
  });

  it('replays everything on start when the checkpoint is behind the consumer (an in-memory read model)', async () => {
    const seenFirst: number[] = [];
    const first = await project({ durableName: 'in-memory', handle: (e) => void seenFirst.push(e.position) });
    const head = await relayed();
    await expect.poll(() => first.position, { timeout: 10_000 }).toBe(head);
    await first.stop();

    const seenSecond: number[] = [];
    const second = await project({ durableName: 'in-memory', handle: (e) => void seenSecond.push(e.position) });
    await expect.poll(() => second.position, { timeout: 10_000 }).toBe(head);
    expect(seenSecond).toEqual(seenFirst);
  });

  it('rebuilds: resets the read model and handles every event again exactly once', async () => {
    const model = new Map<string, number>();
    let resets = 0;
    const projection = await project({
      durableName: 'rebuildable',
      handle: (e) => void model.set(e.eventId, (model.get(e.eventId) ?? 0) + 1),
      reset: () => {
        resets += 1;
        model.clear();
      },
    });
    const head = await relayed();
    await expect.poll(() => projection.position, { timeout: 10_000 }).toBe(head);
    const before = new Map(model);

    await projection.rebuild();
    await expect.poll(() => projection.position, { timeout: 10_000 }).toBe(head);
    expect(resets).toBe(1);
    expect(model).toEqual(before);
    expect([...model.values()].every((count) => count === 1)).toBe(true);
  });

  it('receives only the filtered category', async () => {
    await fixture.store.append('function:only', [{ type: 'FunctionCreated', data: {} }], { expectedVersion: 'no-stream' });
    const types = new Set<string>();
    const projection = await project({
      durableName: 'functions-only',
      filterSubject: eventFilterSubject(fixture.bus.prefix, { category: 'function' }),
      handle: (e) => void types.add(e.streamId.split(':')[0] ?? ''),
    });
    await relayed();
    await expect.poll(() => projection.handled, { timeout: 10_000 }).toBeGreaterThan(0);
    expect([...types]).toEqual(['function']);
  });

  it('rebuilds from zero when started with another filter', async () => {
    const checkpoint = inMemoryCheckpoint();
    const functionsOnly = await project({
      durableName: 'refiltered',
      checkpoint,
      filterSubject: eventFilterSubject(fixture.bus.prefix, { category: 'function' }),
      handle: () => {},
    });
    const head = await relayed();
    await expect.poll(() => functionsOnly.handled, { timeout: 10_000 }).toBeGreaterThan(0);
    await functionsOnly.stop();

    const seen: number[] = [];
    let resets = 0;
    const everything = await project({
      durableName: 'refiltered',
      checkpoint,
      reset: () => void (resets += 1),
      handle: (e) => void seen.push(e.position),
    });
    await expect.poll(() => everything.position, { timeout: 10_000 }).toBe(head);
    expect(resets).toBe(1);
    expect(seen).toEqual(await loggedPositions(fixture.store));
  });

  it('retries a failing handler in order, and halts without acknowledging when it keeps failing', async () => {
    await fixture.store.append('function:flaky', [{ type: 'FunctionCreated', data: {} }], { expectedVersion: 'no-stream' });
    const head = await relayed();
    const seen: number[] = [];
    let failures = 0;
    const flaky = await project({
      durableName: 'flaky',
      handle: (e) => {
        if (e.position === head && failures < 2) {
          failures += 1;
          throw new Error('transient');
        }
        seen.push(e.position);
      },
    });
    await expect.poll(() => flaky.position, { timeout: 10_000 }).toBe(head);
    expect(failures).toBe(2);
    expect(seen).toEqual(await loggedPositions(fixture.store));

    const kept = inMemoryCheckpoint();
    const broken = await project({
      durableName: 'broken',
      checkpoint: kept,
      maxHandlerAttempts: 2,
      handle: (e) => {
        if (e.position === head) throw new Error('permanent');
      },
    });
    const error = await broken.closed;
    expect(error?.message).toBe('permanent');
    expect(broken.position).toBeLessThan(head);
    await expect(broken.rebuild()).rejects.toThrow(/halted/);

    // Not acknowledged: the same durable hands it to the next run (within ack_wait, 2 s here).
    const healed: number[] = [];
    const healthy = await project({ durableName: 'broken', checkpoint: kept, handle: (e) => void healed.push(e.position) });
    await expect.poll(() => healthy.position, { timeout: 10_000 }).toBe(head);
    expect(healed).toEqual([head]);
  });

  it("runs the handler in the appender's trace context and request id", async () => {
    const telemetry = startTelemetry({ serviceName: 'bus-test', spanProcessors: [] });
    try {
      let appenderTraceId = '';
      const appended = await withSpan('CreateFunction', {}, async () => {
        appenderTraceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
        return fixture.store.append('function:traced', [{ type: 'FunctionCreated', data: {} }], { expectedVersion: 'no-stream' });
      });
      let handlerTraceId = '';
      const projection = await project({
        durableName: 'traced',
        filterSubject: eventFilterSubject(fixture.bus.prefix, { category: 'function' }),
        handle: (e) => {
          if (e.eventId === appended.events[0]?.eventId) {
            handlerTraceId = trace.getSpanContext(context.active())?.traceId ?? '';
          }
        },
      });
      await expect.poll(() => projection.position, { timeout: 10_000 }).toBe(appended.lastPosition);
      expect(handlerTraceId).toBe(appenderTraceId);
      expect(handlerTraceId).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      await telemetry.shutdown();
    }
  });
});
