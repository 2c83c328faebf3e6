import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException } from '@hearth/errors';
import {
  capacityProviderStreamId,
  formatLambdaTimestamp,
  functionStreamId,
  maxTagsPerResource,
  sameValue,
  show,
  validateTags,
} from '@hearth/domain';
import { expectError } from './fixtures.js';

describe('formatLambdaTimestamp', () => {
  it.each([
    ['2025-12-01T12:34:56.789Z', '2025-12-01T12:34:56.789+0000'],
    ['2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05.000+0000'],
    ['2025-12-31T23:59:59.999-01:00', '2026-01-01T00:59:59.999+0000'],
  ])('formats %s as %s', (iso, lambda) => {
    expect(formatLambdaTimestamp(new Date(iso))).toBe(lambda);
  });
});

describe('stream ids', () => {
  it('names the capacity provider and function streams', () => {
    expect(capacityProviderStreamId('cp1')).toBe('capacityProvider:cp1');
    expect(functionStreamId('fn1')).toBe('function:fn1');
  });
});

describe('show', () => {
  it.each([
    ['abc', '"abc"'],
    [12, '12'],
    [true, 'true'],
    [null, 'null'],
    [undefined, 'undefined'],
    [['x'], '["x"]'],
    ['x'.repeat(70), `"${'x'.repeat(64)}…"`],
  ])('shows %j as %s', (value, text) => {
    expect(show(value)).toBe(text);
  });
});

describe('sameValue', () => {
  it('ignores key order and undefined members', () => {
    expect(sameValue({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1, d: undefined })).toBe(true);
  });
  it('sees differences in values and list order', () => {
    expect(sameValue({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameValue({ a: 1 }, { a: 2 })).toBe(false);
  });
});

describe('validateTags', () => {
  it('accepts Unicode letters, digits, spaces and the allowed punctuation', () => {
    const tags = { 'team name': 'Ünïcode 42', 'a_b.c:d/e=f+g-h@i': '' };
    expect(validateTags(tags, 'Tags')).toEqual(tags);
  });

  it(`accepts exactly ${maxTagsPerResource} tags`, () => {
    const tags = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    expect(Object.keys(validateTags(tags, 'Tags'))).toHaveLength(50);
  });

  it.each([
    [Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])), 'Tags has 51 tags (allowed: 0–50 tags)'],
    [{ 'aws:owner': 'x' }, 'Tags key "aws:owner" is reserved (allowed: keys not starting with aws:)'],
    [{ 'AWS:owner': 'x' }, 'Tags key "AWS:owner" is reserved (allowed: keys not starting with aws:)'],
    [{ '': 'x' }, 'Tags key "" has 0 characters (allowed: 1–128 characters)'],
    [{ ['k'.repeat(129)]: 'x' }, `Tags key "${'k'.repeat(64)}…" has 129 characters (allowed: 1–128 characters)`],
    [{ 'bad!': 'x' }, 'Tags key "bad!" is invalid (allowed: letters, digits, spaces and _ . : / = + - @)'],
    [{ k: 'v'.repeat(257) }, `Tags.k "${'v'.repeat(64)}…" has 257 characters (allowed: 0–256 characters)`],
    [{ k: 'v#' }, 'Tags.k "v#" is invalid (allowed: letters, digits, spaces and _ . : / = + - @)'],
    [{ k: 3 }, 'Tags.k must be a string (got 3)'],
    [['k'], 'Tags must be an object (got ["k"])'],
  ])('rejects %j', (tags, message) => {
    expectError(() => validateTags(tags, 'Tags'), InvalidParameterValueException, message);
  });
});
