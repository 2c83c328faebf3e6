import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException } from '@hearth/errors';
import { compareKeys, decodeMarker, encodeMarker, maxItemsRanges, page, resolveMaxItems } from '@hearth/domain';
import { expectError } from './fixtures.js';

const keys = Array.from({ length: 7 }, (_, i) => `key-${i}`);
const identity = (key: string) => key;

describe('markers', () => {
  it.each(['a', 'function-1', 'ünïcödé/≠', 'arn:aws:lambda:us-east-1:123456789012:function:f'])('round-trips %s', (key) => {
    const marker = encodeMarker(key);
    expect(marker).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeMarker(marker)).toBe(key);
  });

  it.each(['!!!', 'YQ==', 'abc', 'a', ' YQ'])('rejects %j', (marker) => {
    expectError(
      () => decodeMarker(marker),
      InvalidParameterValueException,
      `Marker ${JSON.stringify(marker)} is invalid (allowed: a NextMarker returned by the previous call)`,
    );
  });
});

describe('resolveMaxItems', () => {
  it('defaults per operation', () => {
    expect(resolveMaxItems(undefined, maxItemsRanges.ListFunctions)).toBe(50);
    expect(resolveMaxItems(null, maxItemsRanges.ListCapacityProviders)).toBe(50);
    expect(resolveMaxItems(10000, maxItemsRanges.ListFunctions)).toBe(10000);
  });

  it.each([
    [0, maxItemsRanges.ListCapacityProviders, 'MaxItems 0 is out of range (allowed: 1–50)'],
    [51, maxItemsRanges.ListFunctionVersionsByCapacityProvider, 'MaxItems 51 is out of range (allowed: 1–50)'],
    [10001, maxItemsRanges.ListFunctions, 'MaxItems 10001 is out of range (allowed: 1–10000)'],
    [2.5, maxItemsRanges.ListFunctions, 'MaxItems 2.5 is not a whole number (allowed: whole numbers 1–10000)'],
    ['10', maxItemsRanges.ListFunctions, 'MaxItems must be a number (got "10")'],
  ])('rejects %j', (value, range, message) => {
    expectError(() => resolveMaxItems(value, range), InvalidParameterValueException, message);
  });
});

describe('page', () => {
  const range = maxItemsRanges.ListCapacityProviders;

  it('walks all items in pages of MaxItems, then stops without a marker', () => {
    const first = page(keys, identity, { range, maxItems: 3 });
    expect(first).toEqual({ items: ['key-0', 'key-1', 'key-2'], nextMarker: encodeMarker('key-2') });
    const second = page(keys, identity, { range, maxItems: 3, marker: first.nextMarker });
    expect(second).toEqual({ items: ['key-3', 'key-4', 'key-5'], nextMarker: encodeMarker('key-5') });
    const third = page(keys, identity, { range, maxItems: 3, marker: second.nextMarker });
    expect(third).toEqual({ items: ['key-6'] });
  });

  it('gives no marker when the page ends exactly at the last item', () => {
    expect(page(keys.slice(0, 3), identity, { range, maxItems: 3 })).toEqual({ items: ['key-0', 'key-1', 'key-2'] });
  });

  it('resumes after the marker key even when items changed in between', () => {
    const first = page(keys, identity, { range, maxItems: 2 });
    const changed = ['key-0', 'key-1a', 'key-2', 'key-3'].filter((key) => key !== 'key-1');
    expect(page(changed, identity, { range, maxItems: 2, marker: first.nextMarker }).items).toEqual(['key-1a', 'key-2']);
  });

  it('treats an empty marker as the first page and uses the default size', () => {
    const many = Array.from({ length: 60 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    const result = page(many, identity, { range, marker: '' });
    expect(result.items).toHaveLength(50);
    expect(result.nextMarker).toBe(encodeMarker('k49'));
  });

  it('returns an empty page past the end', () => {
    expect(page(keys, identity, { range, marker: encodeMarker('zzz') })).toEqual({ items: [] });
  });

  it('rejects a bad marker', () => {
    expectError(
      () => page(keys, identity, { range, marker: '%%' }),
      InvalidParameterValueException,
      'Marker "%%" is invalid (allowed: a NextMarker returned by the previous call)',
    );
  });

  it('orders keys by code unit', () => {
    expect(['b', 'B', 'a', 'a-', 'a_'].sort(compareKeys)).toEqual(['B', 'a', 'a-', 'a_', 'b']);
  });
});
