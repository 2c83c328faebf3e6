import { InvalidParameterValueException } from '@hearth/errors';
import { describe, expect, it } from 'vitest';
import { parseLogQuery } from '../src/logs/log-query.js';

const now = Date.parse('2026-11-27T22:00:00Z');

function rejection(functionName: string, query: string): InvalidParameterValueException {
  try {
    parseLogQuery(functionName, query, now);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    return error as InvalidParameterValueException;
  }
  throw new Error(`${functionName}?${query} was accepted`);
}

describe('parseLogQuery', () => {
  it('defaults: every version, the last hour, 1000 events, no request filter, no follow', () => {
    expect(parseLogQuery('hello', '', now)).toEqual({
      functionName: 'hello',
      qualifier: undefined,
      sinceMs: now - 3_600_000,
      limit: 1000,
      requestId: undefined,
      follow: false,
    });
  });

  it('reads every parameter; since as epoch ms or ISO-8601', () => {
    expect(parseLogQuery('hello', 'qualifier=2&since=1795300000000&limit=5&requestId=c0ffee-1&follow=true', now)).toEqual({
      functionName: 'hello',
      qualifier: '2',
      sinceMs: 1795300000000,
      limit: 5,
      requestId: 'c0ffee-1',
      follow: true,
    });
    expect(parseLogQuery('hello', 'since=2026-11-27T21:00:00.500Z', now).sinceMs).toBe(Date.parse('2026-11-27T21:00:00.500Z'));
    expect(parseLogQuery('hello', 'since=2026-11-27T23:00:00%2B01:00', now).sinceMs).toBe(Date.parse('2026-11-27T22:00:00Z'));
    expect(parseLogQuery('hello', 'qualifier=%24LATEST.PUBLISHED&follow=false', now)).toMatchObject({ qualifier: '$LATEST.PUBLISHED', follow: false });
    expect(parseLogQuery('hello', 'limit=10000&unknown=1', now).limit).toBe(10000);
  });

  it('names the parameter and what is allowed when one is bad', () => {
    expect(rejection('hello', 'limit=0').message).toMatch(/^limit '0' .*1 to 10000/);
    expect(rejection('hello', 'limit=10001').message).toMatch(/^limit/);
    expect(rejection('hello', 'limit=abc').message).toMatch(/^limit/);
    expect(rejection('hello', 'since=yesterday').message).toMatch(/^since 'yesterday' .*epoch milliseconds.*ISO-8601/);
    expect(rejection('hello', 'since=2026-13-45T00:00:00Z').message).toMatch(/^since/);
    expect(rejection('hello', 'qualifier=prod').message).toMatch(/^qualifier 'prod' .*version number/);
    expect(rejection('hello', 'qualifier=0').message).toMatch(/^qualifier/);
    expect(rejection('hello', 'requestId=a%20b').message).toMatch(/^requestId/);
    expect(rejection('hello', 'follow=yes').message).toMatch(/^follow 'yes' .*true or false/);
    expect(rejection('hello', 'since=%E0%A4%A').message).toMatch(/percent-encoding/);
    expect(rejection('bad.name', '').message).toMatch(/^FunctionName 'bad.name'/);
    expect(rejection('x'.repeat(65), '').message).toMatch(/^FunctionName/);
  });
});
