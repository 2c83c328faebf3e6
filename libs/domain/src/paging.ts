/**
 * Marker paging as Lambda's List operations do it. A marker is opaque to the
 * caller: here the base64url text of the last key returned, so the next page
 * starts strictly after that key and survives inserts and deletes between calls.
 */
import { checkInteger, reject, show, type Range } from './validation.js';

/** Bounds and default of `MaxItems` for one List operation. */
export interface MaxItemsRange extends Range {
  /** Page size when the caller gives none. */
  readonly default: number;
}

/** `MaxItems` bounds per operation, from botocore (`MaxFiftyListItems`, `MaxListItems`). */
export const maxItemsRanges = Object.freeze({
  /** 1–50, default 50. */
  ListCapacityProviders: { min: 1, max: 50, default: 50 },
  /** 1–10000, default 50 (Lambda returns at most 50 functions per call). */
  ListFunctions: { min: 1, max: 10000, default: 50 },
  /** 1–50, default 50. */
  ListFunctionVersionsByCapacityProvider: { min: 1, max: 50, default: 50 },
  /** 1–10000, default 50 (botocore `MaxListItems`, as ListFunctions). */
  ListVersionsByFunction: { min: 1, max: 10000, default: 50 },
  /** 1–50, default 50 (botocore `MaxFunctionEventInvokeConfigListItems`). */
  ListFunctionEventInvokeConfigs: { min: 1, max: 50, default: 50 },
} satisfies Record<string, MaxItemsRange>);

/** Checks `MaxItems` against the operation's range; returns the range's default when it is missing. */
export function resolveMaxItems(maxItems: unknown, range: MaxItemsRange): number {
  if (maxItems === undefined || maxItems === null) return range.default;
  return checkInteger(maxItems, 'MaxItems', range);
}

/** The marker that resumes a listing after `key`. */
export function encodeMarker(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

const base64url = /^[A-Za-z0-9_-]+$/;

/**
 * The key a marker resumes after. A marker that this module did not produce
 * (bad characters, not canonical base64url, not UTF-8) is rejected with
 * InvalidParameterValueException rather than silently restarting the listing.
 */
export function decodeMarker(marker: string): string {
  const key = base64url.test(marker) ? Buffer.from(marker, 'base64url').toString('utf8') : '';
  // Re-encoding catches truncated input and invalid UTF-8, which decode to something else.
  if (key === '' || encodeMarker(key) !== marker) {
    reject(`Marker ${show(marker)} is invalid (allowed: a NextMarker returned by the previous call)`);
  }
  return key;
}

/**
 * Orders keys by UTF-16 code units, the order {@link page} assumes. Use it to
 * sort items before paging so that markers and order agree.
 */
export function compareKeys(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

/** One page and the marker of the next, absent on the last page. */
export interface Page<T> {
  readonly items: T[];
  readonly nextMarker?: string;
}

/** Where to start and how much to return. */
export interface PageRequest {
  /** `Marker` from the caller; absent means the first page. */
  readonly marker?: string | null;
  /** `MaxItems` from the caller; absent means the range's default. */
  readonly maxItems?: unknown;
  /** The operation's `MaxItems` bounds, one of {@link maxItemsRanges}. */
  readonly range: MaxItemsRange;
}

/**
 * Cuts one page out of items sorted by `keyOf` with {@link compareKeys}. The
 * page holds the items after the marker's key, at most `MaxItems` of them.
 */
export function page<T>(sortedItems: readonly T[], keyOf: (item: T) => string, request: PageRequest): Page<T> {
  const maxItems = resolveMaxItems(request.maxItems, request.range);
  const after = request.marker === undefined || request.marker === null || request.marker === '' ? undefined : decodeMarker(request.marker);
  const rest = after === undefined ? sortedItems : sortedItems.filter((item) => compareKeys(keyOf(item), after) > 0);
  const items = rest.slice(0, maxItems);
  const last = items[items.length - 1];
  if (rest.length <= maxItems || last === undefined) return { items };
  return { items, nextMarker: encodeMarker(keyOf(last)) };
}
