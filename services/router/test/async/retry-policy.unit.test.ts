import { describe, expect, it } from 'vitest';
import type { AsyncInvocation, AsyncInvokeSettings } from '@hearth/domain';
import { router } from '@hearth/proto';
import { classifyAttempt, decideAfterAttempt, decideBeforeAttempt, throttleDelay, type AttemptOutcome, type RetryDelays } from '../../src/async/retry-policy.js';

const now = 1_000_000_000;
const delays: RetryDelays = { functionErrorDelayMs: 60_000, throttleDelayMs: 1_000, throttleMaxDelayMs: 300_000, jitter: 0 };
const random = () => 0.5;
const onFailure = { kind: 'nats', subject: 'failed' } as const;
const onSuccess = { kind: 'nats', subject: 'ok' } as const;
const settings: AsyncInvokeSettings = { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21_600, OnSuccess: onSuccess, OnFailure: onFailure, source: '$LATEST' };

const invocation = (overrides: Partial<AsyncInvocation> = {}): AsyncInvocation => ({
  requestId: 'r1',
  functionName: 'fn1',
  version: '1',
  functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn1:1',
  timeoutSeconds: 3,
  enqueuedAtMs: now - 1_000,
  retries: 0,
  invocations: 0,
  throttles: 0,
  generation: 0,
  ...overrides,
});

const result = (functionError?: string) => router.InvocationResult.fromPartial({ payload: Buffer.from('{}'), executedVersion: '1', ...(functionError ? { functionError } : {}) });
const success: AttemptOutcome = { kind: 'success', result: result() };
const functionError: AttemptOutcome = { kind: 'functionError', result: result('Unhandled') };
const throttled: AttemptOutcome = { kind: 'throttled', reason: 'ConcurrentInvocationLimitExceeded', retryAfterMs: 0 };

describe('decideAfterAttempt', () => {
  it('sends a success record to OnSuccess, counting this invocation', () => {
    expect(decideAfterAttempt(invocation({ invocations: 1 }), success, settings, now, delays, random)).toEqual({
      kind: 'record',
      condition: 'Success',
      destination: onSuccess,
      invocations: 2,
    });
  });

  it('retries a function error after 1, then 2 minutes, then gives up to OnFailure (MaximumRetryAttempts 2)', () => {
    let current = invocation();
    const waits: number[] = [];
    for (;;) {
      const decision = decideAfterAttempt(current, functionError, settings, now, delays, random);
      if (decision.kind !== 'retry') {
        expect(decision).toEqual({ kind: 'record', condition: 'RetriesExhausted', destination: onFailure, invocations: 3 });
        break;
      }
      waits.push(decision.delayMs);
      expect(decision.next.notBeforeMs).toBe(now + decision.delayMs);
      expect(decision.next.generation).toBe(current.generation + 1);
      current = decision.next;
    }
    expect(waits).toEqual([60_000, 120_000]);
    expect(current).toMatchObject({ retries: 2, invocations: 2 });
  });

  it('gives up at once with MaximumRetryAttempts 0', () => {
    expect(decideAfterAttempt(invocation(), functionError, { ...settings, MaximumRetryAttempts: 0 }, now, delays, random)).toMatchObject({
      kind: 'record',
      condition: 'RetriesExhausted',
      invocations: 1,
    });
  });

  it('retries throttles with doubling backoff that does not count against MaximumRetryAttempts', () => {
    let current = invocation({ retries: 2 });
    const waits: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      const decision = decideAfterAttempt(current, throttled, settings, now, delays, random);
      if (decision.kind !== 'retry') throw new Error('a throttle must be retried while the event is young');
      waits.push(decision.delayMs);
      current = decision.next;
    }
    expect(waits.slice(0, 4)).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(waits.at(-1)).toBe(300_000);
    expect(current).toMatchObject({ retries: 2, invocations: 0, throttles: 12 });
  });

  it('honours a longer retry hint from the router, and treats system errors like throttles', () => {
    const hinted = decideAfterAttempt(invocation(), { ...throttled, retryAfterMs: 7_000 }, settings, now, delays, random);
    expect(hinted).toMatchObject({ kind: 'retry', delayMs: 7_000 });
    const system = decideAfterAttempt(invocation(), classifyAttempt(new Error('no answer')), settings, now, delays, random);
    expect(system).toMatchObject({ kind: 'retry', delayMs: 1_000 });
  });

  it('ends as EventAgeExceeded when the next attempt would come after MaximumEventAgeInSeconds', () => {
    const young = { ...settings, MaximumEventAgeInSeconds: 60 };
    expect(decideAfterAttempt(invocation({ enqueuedAtMs: now - 30_000 }), functionError, young, now, delays, random)).toEqual({
      kind: 'record',
      condition: 'EventAgeExceeded',
      destination: onFailure,
      invocations: 1,
    });
    expect(decideAfterAttempt(invocation({ enqueuedAtMs: now - 59_500 }), throttled, young, now, delays, random)).toMatchObject({
      kind: 'record',
      condition: 'EventAgeExceeded',
      invocations: 0,
    });
  });

  it('drops the event of a function that is gone, and ends a request the platform refuses', () => {
    const gone = classifyAttempt(router.RouteResponse.fromPartial({ requestId: 'r1', outcome: { $case: 'error', value: { exception: 'ResourceNotFoundException', message: 'x' } } } as never));
    expect(decideAfterAttempt(invocation(), gone, settings, now, delays, random)).toEqual({ kind: 'drop', why: 'functionGone' });
    const refused = classifyAttempt(router.RouteResponse.fromPartial({ requestId: 'r1', outcome: { $case: 'error', value: { exception: 'InvalidParameterValueException', message: 'x' } } } as never));
    expect(decideAfterAttempt(invocation(), refused, settings, now, delays, random)).toMatchObject({ kind: 'record', condition: 'RetriesExhausted', invocations: 0 });
  });

  it('sends no destination when none is configured', () => {
    const bare: AsyncInvokeSettings = { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60, source: 'default' };
    expect(decideAfterAttempt(invocation(), success, bare, now, delays, random)).toEqual({ kind: 'record', condition: 'Success', invocations: 1 });
  });
});

describe('decideBeforeAttempt', () => {
  it('runs a young event and ends an old one as EventAgeExceeded without running it', () => {
    expect(decideBeforeAttempt(invocation(), settings, now)).toBeUndefined();
    const old = invocation({ enqueuedAtMs: now - 61_000, invocations: 1 });
    expect(decideBeforeAttempt(old, { ...settings, MaximumEventAgeInSeconds: 60 }, now)).toEqual({
      kind: 'record',
      condition: 'EventAgeExceeded',
      destination: onFailure,
      invocations: 1,
    });
  });
});

describe('classifyAttempt and throttleDelay', () => {
  it('tells a function error from a success by function_error', () => {
    const answer = (functionError?: string) =>
      router.RouteResponse.fromPartial({ requestId: 'r', outcome: { $case: 'result', value: result(functionError) } } as never);
    expect(classifyAttempt(answer()).kind).toBe('success');
    expect(classifyAttempt(answer('Unhandled')).kind).toBe('functionError');
    expect(classifyAttempt(undefined).kind).toBe('systemError');
    const conflict = router.RouteResponse.fromPartial({ requestId: 'r', outcome: { $case: 'error', value: { exception: 'ResourceConflictException', message: 'Pending' } } } as never);
    expect(classifyAttempt(conflict).kind).toBe('systemError');
  });

  it('jitters within the configured fraction', () => {
    const spread = { ...delays, jitter: 0.2 };
    expect(throttleDelay(0, 0, spread, () => 0)).toBe(800);
    expect(throttleDelay(0, 0, spread, () => 0.999999)).toBe(1_200);
  });
});
