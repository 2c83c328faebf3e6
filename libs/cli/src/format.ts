/**
 * Human output: aligned tables and key-value blocks. Columns are separated by
 * two spaces; the last column is not padded so lines carry no trailing blanks.
 */

/** A cell: anything printable; null and undefined print as `-`. */
export type Cell = string | number | boolean | null | undefined;

function cellText(cell: Cell): string {
  return cell === null || cell === undefined || cell === '' ? '-' : String(cell);
}

/** Formats rows under headers as an aligned table; returns the text with a trailing newline. */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const texts = [headers.map((header) => header), ...rows.map((row) => headers.map((_, index) => cellText(row[index])))];
  const widths = headers.map((_, column) => Math.max(...texts.map((row) => row[column]!.length)));
  return texts
    .map((row) =>
      row
        .map((text, column) => (column === row.length - 1 ? text : text.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** Formats `[key, value]` pairs as `key  value` lines with the values aligned. */
export function formatKeyValues(pairs: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(0, ...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${key.padEnd(width)}  ${cellText(value)}`.trimEnd() + '\n').join('');
}

/**
 * Flattens an API object into dotted `[key, value]` pairs for {@link formatKeyValues}:
 * nested objects become `Parent.Child`, arrays of scalars are joined by `, `,
 * other arrays are printed as JSON. `$metadata` (the SDK's) is left out.
 */
export function flatten(value: unknown, prefix = ''): [string, Cell][] {
  if (value === null || value === undefined) return prefix ? [[prefix, undefined]] : [];
  if (Array.isArray(value)) {
    const scalars = value.every((item) => item === null || typeof item !== 'object');
    return [[prefix, value.length === 0 ? '' : scalars ? value.join(', ') : JSON.stringify(value)]];
  }
  if (value instanceof Uint8Array) return [[prefix, `<${value.byteLength} bytes>`]];
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([key]) => key !== '$metadata');
    if (entries.length === 0) return prefix ? [[prefix, '']] : [];
    return entries.flatMap(([key, child]) => flatten(child, prefix ? `${prefix}.${key}` : key));
  }
  return [[prefix, value as Cell]];
}

/** An API response without the SDK's `$metadata`, for `--output json`. */
export function withoutMetadata<T extends object>(response: T): Omit<T, '$metadata'> {
  const { $metadata: _metadata, ...rest } = response as T & { $metadata?: unknown };
  return rest;
}

/** `1234` ms as `1.2s`, `75_000` as `1m15s`. */
export function formatElapsed(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** How long ago an ISO time was, coarse (`3s ago`, `5m ago`); `-` for null. */
export function formatAgo(iso: string | null | undefined, now: number): string {
  if (!iso) return '-';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m ago`;
  return `${Math.round(seconds / 3600)}h ago`;
}
