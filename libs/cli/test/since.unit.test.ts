import { describe, expect, it } from 'vitest';
import { parseDuration, parseSince, UsageError } from '@hearth/cli';

const now = Date.parse('2026-11-27T22:00:00.000Z');

describe('--since', () => {
  it.each([
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['500ms', 500],
  ])('%s counts back %d ms from now', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(parseSince(text, now)).toBe(now - ms);
  });

  it('takes an ISO-8601 time as written', () => {
    expect(parseSince('2026-11-27T21:00:00Z', now)).toBe(Date.parse('2026-11-27T21:00:00Z'));
    expect(parseSince('2026-11-27T21:00:00.250+01:00', now)).toBe(Date.parse('2026-11-27T20:00:00.250Z'));
  });

  it.each(['10', 'ten minutes', '10x', '-5m', 'May', '2026-13-45T99:00:00Z', ''])('refuses %j naming what is allowed', (text) => {
    expect(() => parseSince(text, now)).toThrow(UsageError);
    expect(() => parseSince(text, now)).toThrow(/allowed: a duration ago such as 30s, 10m, 1h30m, 2d, or an ISO-8601 time/);
  });
});
