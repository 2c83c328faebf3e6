/**
 * Formats a time the way Lambda writes `LastModified`:
 * `2025-12-01T12:34:56.789+0000` (UTC, milliseconds, offset without a colon).
 * SDKs parse this exact form, so it is not ISO's `Z` suffix.
 */
export function formatLambdaTimestamp(time: Date): string {
  return `${time.toISOString().slice(0, 23)}+0000`;
}
