import { UsageError } from './cli-error.js';

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const durationPattern = /^(?:\d+(?:ms|s|m|h|d))+$/;
const allowed = 'allowed: a duration ago such as 30s, 10m, 1h30m, 2d, or an ISO-8601 time such as 2026-11-27T22:00:00Z';

/** Parses `10m`, `1h30m`, `500ms` into milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!durationPattern.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(amount) * unitMs[unit!]!;
  return total;
}

/**
 * Converts `--since` to the logs route's `since` (epoch milliseconds): a
 * duration counts back from `now`; an ISO-8601 time is taken as written.
 * Anything else is a usage error naming what is allowed.
 */
export function parseSince(text: string, now: number): number {
  const trimmed = text.trim();
  const duration = parseDuration(trimmed);
  if (duration !== undefined) return now - duration;
  // Only date-shaped text goes to Date.parse, which would otherwise accept "1" or "May".
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const at = Date.parse(trimmed);
    if (!Number.isNaN(at)) return at;
  }
  throw new UsageError(`--since ${JSON.stringify(text)} is not a duration or a time (${allowed})`);
}
