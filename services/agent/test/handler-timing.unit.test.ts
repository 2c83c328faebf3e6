/**
 * The handler span's times: the runtime's report (`Hearth-Handler-Timing`)
 * when it is well formed and lies within the window the agent saw, else that window.
 */
import { describe, expect, it } from 'vitest';
import { handlerTiming } from '../src/invocation-broker.js';
import { handlerTimingHeader, parseHandlerTiming } from '../src/runtime-api-server.js';

describe('parseHandlerTiming', () => {
  it('reads epoch microseconds as fractional epoch milliseconds', () => {
    expect(parseHandlerTiming('start=1764280000123456;end=1764280000125000')).toEqual({ startMs: 1764280000123.456, endMs: 1764280000125 });
    expect(parseHandlerTiming([' start=1000;end=2000 '])).toEqual({ startMs: 1, endMs: 2 });
  });

  it('ignores a missing or malformed header', () => {
    expect(parseHandlerTiming(undefined)).toBeUndefined();
    for (const bad of ['', 'start=1;end=', 'end=2;start=1', 'start=-1;end=2', 'start=1.5;end=2', 'start=1;end=2;x=3', `start=${'9'.repeat(18)};end=1`]) {
      expect(parseHandlerTiming(bad)).toBeUndefined();
    }
  });

  it('is the lower-case header Node hands over', () => {
    expect(handlerTimingHeader).toBe('hearth-handler-timing');
  });
});

describe('handlerTiming', () => {
  const dispatchedAt = 1_000_000;
  const answeredAt = 1_000_050;

  it('believes a report inside the hand-over to answer window', () => {
    expect(handlerTiming(dispatchedAt, answeredAt, { startMs: 1_000_000.4, endMs: 1_000_049.2 })).toEqual({
      startMs: 1_000_000.4,
      endMs: 1_000_049.2,
      source: 'runtime',
    });
  });

  it('allows the two clocks a few milliseconds of difference, clamping the report into the window', () => {
    expect(handlerTiming(dispatchedAt, answeredAt, { startMs: 999_999.5, endMs: 1_000_050.9 })).toEqual({ startMs: dispatchedAt, endMs: answeredAt, source: 'runtime' });
    expect(handlerTiming(dispatchedAt, answeredAt, { startMs: 999_996, endMs: 1_000_040 })).toEqual({ startMs: dispatchedAt, endMs: 1_000_040, source: 'runtime' });
  });

  it('falls back to the agent window without a report, or with one outside it or reversed', () => {
    const fallback = { startMs: dispatchedAt, endMs: answeredAt, source: 'agent' };
    expect(handlerTiming(dispatchedAt, answeredAt, undefined)).toEqual(fallback);
    expect(handlerTiming(dispatchedAt, answeredAt, { startMs: 999_990, endMs: 1_000_010 })).toEqual(fallback);
    expect(handlerTiming(dispatchedAt, answeredAt, { startMs: 1_000_010, endMs: 1_000_070 })).toEqual(fallback);
    expect(handlerTiming(dispatchedAt, answeredAt, { startMs: 1_000_030, endMs: 1_000_020 })).toEqual(fallback);
  });
});
