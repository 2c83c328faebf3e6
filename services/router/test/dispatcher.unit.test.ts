import { describe, expect, it } from 'vitest';
import type { router as proto } from '@hearth/proto';
import { dispatcherFixture, ee, hang, ok, realClock, refuse, reportOf, request } from './support.js';

function throttledOf(response: proto.RouteResponse | undefined): proto.Throttled {
  if (response?.outcome?.$case !== 'throttled') throw new Error(`expected throttled, got ${JSON.stringify(response?.outcome)}`);
  return response.outcome.value;
}

function resultOf(response: proto.RouteResponse | undefined): proto.InvocationResult {
  if (response?.outcome?.$case !== 'result') throw new Error(`expected a result, got ${JSON.stringify(response?.outcome)}`);
  return response.outcome.value;
}

function errorOf(response: proto.RouteResponse | undefined): proto.RouteError {
  if (response?.outcome?.$case !== 'error') throw new Error(`expected an error, got ${JSON.stringify(response?.outcome)}`);
  return response.outcome.value;
}

describe('Dispatcher', () => {
  it('sends to a Ready EE with a slot reserved while in flight, and returns its result', async () => {
    const { table, agents, dispatcher, clock } = dispatcherFixture();
    table.applyReport(reportOf('i-1', [ee('a')]));
    const deadlineUnixMs = clock.now() + 1_000;
    let loadWhileRunning = -1;
    agents.on('a', () => {
      loadWhileRunning = table.environment('a')!.own;
      return ok('{"answer":42}');
    });
    const response = await dispatcher.route(request('r1', { payload: Buffer.from('{"q":1}'), deadlineUnixMs, clientContext: 'cc' }));
    const result = resultOf(response);
    expect(response?.requestId).toBe('r1');
    expect(result).toMatchObject({ environmentId: 'a', executedVersion: '1', attempts: 0 });
    expect(result.payload.toString()).toBe('{"answer":42}');
    expect(loadWhileRunning).toBe(1);
    expect(table.environment('a')!.own).toBe(0);
    expect(agents.sent[0]).toMatchObject({ requestId: 'r1', environmentId: 'a', deadlineUnixMs, clientContext: 'cc', cancel: false });
    expect(agents.sent[0]!.payload.toString()).toBe('{"q":1}');
  });

  it('returns a function error as a result, without trying another EE', async () => {
    const { table, agents, dispatcher, metrics } = dispatcherFixture();
    table.applyReport(reportOf('i-1', [ee('a'), ee('b')]));
    agents.on('a', () => ({ kind: 'result', result: { payload: Buffer.from('{}'), functionError: 'Unhandled', durationMs: 2 } }));
    agents.on('b', () => ({ kind: 'result', result: { payload: Buffer.from('{}'), functionError: 'Unhandled', durationMs: 2 } }));
    const result = resultOf(await dispatcher.route(request('r1')));
    expect(result.functionError).toBe('Unhandled');
    expect(agents.sent).toHaveLength(1);
    expect(metrics.invocations.function_error).toBe(1);
  });

  it('retries a refused invocation on another EE, never on one that refused it', async () => {
    const { table, agents, dispatcher, metrics } = dispatcherFixture();
    table.applyReport(reportOf('i-1', [ee('a'), ee('b'), ee('c')]));
    const refusing = new Set(['a', 'b', 'c']);
    for (const id of refusing) {
      agents.on(id, () => {
        // Whichever EE is tried first and second refuses; the third takes it.
        if (agents.sent.length < 3) return refuse(id === 'a' ? 'CPUPressure' : 'ConcurrencyLimit');
        return ok();
      });
    }
    const result = resultOf(await dispatcher.route(request('r1')));
    const targets = agents.targets();
    expect(new Set(targets).size).toBe(3);
    expect(result.environmentId).toBe(targets[2]);
    expect(result.attempts).toBe(2);
    expect(metrics.retries).toBe(2);
    expect(table.route('fn', '1')!.entries.every((entry) => entry.own === 0)).toBe(true);
  });

  it('throttles with the refusals’ reason when every EE refuses, within min(3, EEs) attempts', async () => {
    const { table, agents, dispatcher, metrics } = dispatcherFixture();
    table.applyReport(reportOf('i-1', ['a', 'b', 'c', 'd', 'e'].map((id) => ee(id))));
    for (const id of ['a', 'b', 'c', 'd', 'e']) agents.on(id, () => refuse('ConcurrencyLimit'));
    const started = performance.now();
    const throttle = throttledOf(await dispatcher.route(request('r1')));
    expect(performance.now() - started).toBeLessThan(50);
    expect(agents.sent).toHaveLength(3);
    expect(throttle.reason).toBe('ConcurrentInvocationLimitExceeded');
    expect(throttle.retryAfterMs).toBeGreaterThan(0);
    expect(metrics.throttles.ConcurrentInvocationLimitExceeded).toBe(1);
    // The refusers are now full by the router's accounting: the next call is throttled without asking them again.
    const refusedFirst = agents.targets();
    agents.sent.length = 0;
    throttledOf(await dispatcher.route(request('r2')));
    expect(agents.targets()).toHaveLength(2);
    expect(agents.targets().some((id) => refusedFirst.includes(id))).toBe(false);
  });

  it('budgets one attempt per EE when the version has fewer than three', async () => {
    const { table, agents, dispatcher } = dispatcherFixture();
    table.applyReport(reportOf('i-1', [ee('a'), ee('b')]));
    agents.on('a', () => refuse('MemoryPressure'));
    agents.on('b', () => refuse('MemoryPressure'));
    const throttle = throttledOf(await dispatcher.route(request('r1')));
    expect(agents.sent).toHaveLength(2);
    expect(throttle.reason).toBe('MemoryThrottle');
    // Pressured EEs are backed off: the next invocation is throttled at once, for the same reason.
    expect(throttledOf(await dispatcher.route(request('r2'))).reason).toBe('MemoryThrottle');
    expect(agents.sent).toHaveLength(2);
  });

  it('honours a smaller configured budget', async () => {
    const { table, agents, dispatcher } = dispatcherFixture({ maxAttempts: 1 });
    table.applyReport(reportOf('i-1', [ee('a'), ee('b')]));
    agents.on('a', () => refuse('CPUPressure'));
    agents.on('b', () => refuse('CPUPressure'));
    expect(throttledOf(await dispatcher.route(request('r1'))).reason).toBe('CPUThrottle');
    expect(agents.sent).toHaveLength(1);
  });

  it('throttles NoReadyEnvironment at once for a version with no Ready EE', async () => {
    const { table, agents, dispatcher, config } = dispatcherFixture({ slotWaitMs: 5 });
    table.applyReport(reportOf('i-1', [ee('a', { state: 'Starting' })]));
    const started = performance.now();
    const throttle = throttledOf(await dispatcher.route(request('r1')));
    expect(performance.now() - started).toBeLessThan(5);
    expect(throttle).toMatchObject({ reason: 'NoReadyEnvironment', retryAfterMs: config.noReadyRetryAfterMs });
    expect(agents.sent).toHaveLength(0);
  });

  it('offers the next EE when the agent of the first cannot be reached (nothing was sent)', async () => {
    const { table, agents, dispatcher } = dispatcherFixture({ firstAvailableMaxConcurrency: 0 });
    table.applyReport(reportOf('i-1', [ee('a')]));
    table.applyReport(reportOf('i-2', [ee('b')]));
    agents.down.add('agent-i-1');
    for (let i = 0; i < 10; i += 1) expect(resultOf(await dispatcher.route(request(`r${i}`))).environmentId).toBe('b');
  });

  it('answers ServiceException, and does not retry, when the agent stream breaks mid-invocation', async () => {
    const { table, agents, dispatcher, metrics } = dispatcherFixture();
    table.applyReport(reportOf('i-1', [ee('a'), ee('b')]));
    agents.on('a', () => ({ kind: 'broken', message: 'stream reset' }));
    agents.on('b', () => ({ kind: 'broken', message: 'stream reset' }));
    const error = errorOf(await dispatcher.route(request('r1')));
    expect(error.exception).toBe('ServiceException');
    expect(error.message).toMatch(/may have run/);
    expect(agents.sent).toHaveLength(1);
    expect(metrics.brokenInFlight).toBe(1);
  });

  it('cancels an invocation in flight at the agent when the caller cancels, and answers nothing', async () => {
    const { table, agents, dispatcher, metrics } = dispatcherFixture();
    table.applyReport(reportOf('i-1', [ee('a')]));
    agents.on('a', () => hang);
    const abort = new AbortController();
    const pending = dispatcher.route(request('r1'), { signal: abort.signal });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(table.environment('a')!.own).toBe(1);
    abort.abort();
    expect(await pending).toBeUndefined();
    expect(agents.cancelled).toEqual(['r1']);
    expect(table.environment('a')!.own).toBe(0);
    expect(metrics.invocations.cancelled).toBe(1);
  });

  it('gives up on an agent that does not answer by the deadline plus grace, and cancels it there', async () => {
    // Real time here: the backstop is a timer.
    const { table, agents, dispatcher } = dispatcherFixture({ deadlineGraceMs: 10 }, realClock);
    table.applyReport(reportOf('i-1', [ee('a')], Date.now()));
    agents.on('a', () => hang);
    const deadlineUnixMs = Date.now() + 30;
    const started = Date.now();
    const error = errorOf(await dispatcher.route(request('r1', { deadlineUnixMs })));
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    expect(error).toMatchObject({ exception: 'ServiceException' });
    expect(agents.cancelled).toEqual(['r1']);
    // The agent got the caller's deadline, so it can end the invocation with Lambda's timeout result first.
    expect(agents.sent[0]!.deadlineUnixMs).toBe(deadlineUnixMs);
  });

  it('refuses a request without id, function or version, and one whose deadline has passed', async () => {
    const { dispatcher } = dispatcherFixture();
    expect(errorOf(await dispatcher.route(request('')))).toMatchObject({ exception: 'InvalidParameterValueException' });
    expect(errorOf(await dispatcher.route(request('r1', { deadlineUnixMs: 1 })))).toMatchObject({ exception: 'ServiceUnavailableException' });
  });
});

describe('Dispatcher: bounded waits', () => {
  it('waits up to slotWaitMs for a slot to free, and takes it before any newcomer', async () => {
    const { table, agents, dispatcher, metrics } = dispatcherFixture({ slotWaitMs: 200 }, realClock);
    table.applyReport(reportOf('i-1', [ee('a', { maxConcurrency: 1 })], Date.now()));
    let finishFirst: (() => void) | undefined;
    agents.on('a', (invocation) =>
      invocation.requestId === 'r1' ? new Promise((resolve) => (finishFirst = () => resolve(ok()))) : ok(),
    );
    const first = dispatcher.route(request('r1'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = dispatcher.route(request('r2'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(dispatcher.waits.waiting).toBe(1);
    finishFirst!();
    resultOf(await first);
    expect(resultOf(await second).environmentId).toBe('a');
    expect(metrics.shed.wait_expired).toBeUndefined();
  });

  it('throttles when the wait expires, and at once when the wait queue is full', async () => {
    const { table, agents, dispatcher, metrics } = dispatcherFixture({ slotWaitMs: 20, maxWaitersPerRoute: 1 }, realClock);
    table.applyReport(reportOf('i-1', [ee('a', { maxConcurrency: 1 })], Date.now()));
    agents.on('a', () => hang);
    const abort = new AbortController();
    void dispatcher.route(request('r1'), { signal: abort.signal });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    const waiting = dispatcher.route(request('r2'));
    const overflow = throttledOf(await dispatcher.route(request('r3')));
    expect(Date.now() - started).toBeLessThan(10);
    expect(overflow.reason).toBe('ConcurrentInvocationLimitExceeded');
    expect(metrics.shed.wait_queue_full).toBe(1);
    expect(throttledOf(await waiting).reason).toBe('ConcurrentInvocationLimitExceeded');
    expect(Date.now() - started).toBeGreaterThanOrEqual(19);
    expect(metrics.shed.wait_expired).toBe(1);
    abort.abort();
  });

  it('right after start, waits for the first report of a version instead of throttling', async () => {
    const { table, dispatcher } = dispatcherFixture({ warmupMs: 500 }, realClock);
    const pending = dispatcher.route(request('r1'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    table.applyReport(reportOf('i-1', [ee('a')], Date.now()));
    expect(resultOf(await pending).environmentId).toBe('a');
  });
});
