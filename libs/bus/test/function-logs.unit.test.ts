import { describe, expect, it } from 'vitest';
import {
  decodeSubjectToken,
  encodeSubjectToken,
  functionLogFilterSubject,
  functionLogStreamConfig,
  functionLogStreamName,
  functionLogSubject,
} from '../src/function-logs.js';

describe('function log naming', () => {
  it('names the stream after the prefix', () => {
    expect(functionLogStreamName('hearth')).toBe('HEARTH_FUNCTION_LOGS');
    expect(functionLogStreamName('my-hearth')).toBe('MY_HEARTH_FUNCTION_LOGS');
  });

  it('keeps function names and numbered versions as they are, and escapes everything a subject token cannot hold', () => {
    expect(encodeSubjectToken('hello-world_1')).toBe('hello-world_1');
    expect(encodeSubjectToken('7')).toBe('7');
    expect(encodeSubjectToken('$LATEST')).toBe('~24LATEST');
    expect(encodeSubjectToken('$LATEST.PUBLISHED')).toBe('~24LATEST~2EPUBLISHED');
    expect(encodeSubjectToken('a.b*c>d e~f')).toBe('a~2Eb~2Ac~3Ed~20e~7Ef');
    expect(encodeSubjectToken('ü')).toBe('~C3~BC');
    for (const token of ['$LATEST.PUBLISHED', 'a.b*c>d e~f', 'ü', 'ee-0123.x']) {
      expect(encodeSubjectToken(token)).toMatch(/^[A-Za-z0-9_~-]+$/);
      expect(decodeSubjectToken(encodeSubjectToken(token))).toBe(token);
    }
    expect(() => encodeSubjectToken('')).toThrow(RangeError);
  });

  it('never lets one name encode to another (the escape character is escaped too)', () => {
    expect(encodeSubjectToken('~24LATEST')).not.toBe(encodeSubjectToken('$LATEST'));
  });

  it('builds per-EE subjects and per-function or per-version filters', () => {
    expect(functionLogSubject('hearth', 'hello', '$LATEST.PUBLISHED', 'ee-1')).toBe('hearth.logs.hello.~24LATEST~2EPUBLISHED.ee-1');
    expect(functionLogFilterSubject('hearth', 'hello')).toBe('hearth.logs.hello.*.*');
    expect(functionLogFilterSubject('hearth', 'hello', '3')).toBe('hearth.logs.hello.3.*');
  });

  it('bounds the stream by age and bytes, dropping the oldest lines', () => {
    const config = functionLogStreamConfig('hearth', { maxAgeMs: 3_600_000, maxBytes: 1024 * 1024 });
    expect(config.create).toMatchObject({
      name: 'HEARTH_FUNCTION_LOGS',
      subjects: ['hearth.logs.>'],
      max_age: 3_600_000 * 1_000_000,
      max_bytes: 1024 * 1024,
      discard: 'old',
      retention: 'limits',
    });
    expect(functionLogStreamConfig('hearth').updatable).toMatchObject({ max_age: 24 * 3_600_000 * 1_000_000, max_bytes: 1024 ** 3 });
  });
});
