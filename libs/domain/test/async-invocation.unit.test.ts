import { describe, expect, it } from 'vitest';
import {
  allAsyncInvocationsSubject,
  asyncInvocationMessageId,
  asyncInvocationStreamName,
  asyncInvocationSubject,
  decodeAsyncInvocation,
  encodeAsyncInvocation,
  MalformedAsyncInvocationError,
  type AsyncInvocation,
} from '@hearth/domain';

const invocation: AsyncInvocation = {
  requestId: 'req-1',
  functionName: 'fn1',
  version: '$LATEST.PUBLISHED',
  functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fn1:$LATEST.PUBLISHED',
  timeoutSeconds: 3,
  enqueuedAtMs: 1_700_000_000_000,
  functionStreamVersion: 7,
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  retries: 1,
  invocations: 2,
  throttles: 0,
  generation: 3,
  notBeforeMs: 1_700_000_060_000,
};

describe('the asynchronous invocation queue contract', () => {
  it('names the stream and subjects after the bus prefix', () => {
    expect(asyncInvocationStreamName('t-abc')).toBe('T_ABC_INVOCATIONS');
    expect(asyncInvocationSubject('hearth', 'fn1')).toBe('hearth.invocations.fn1');
    expect(allAsyncInvocationsSubject('hearth')).toBe('hearth.invocations.>');
    expect(() => asyncInvocationSubject('hearth', 'a.b')).toThrow(RangeError);
    expect(() => asyncInvocationStreamName('Bad')).toThrow(RangeError);
  });

  it('round-trips an invocation through its headers', () => {
    const headers = encodeAsyncInvocation(invocation);
    expect(headers).not.toHaveProperty('Hearth-Client-Context');
    expect(decodeAsyncInvocation((name) => headers[name])).toEqual(invocation);
  });

  it('defaults the counters of a first delivery', () => {
    const { retries: _r, invocations: _i, throttles: _t, generation: _g, notBeforeMs: _n, ...first } = invocation;
    const headers = encodeAsyncInvocation({ ...first, retries: 0, invocations: 0, throttles: 0, generation: 0 });
    delete headers['Hearth-Retries'];
    expect(decodeAsyncInvocation((name) => headers[name])).toMatchObject({ retries: 0, invocations: 0, generation: 0 });
  });

  it('uses the request id as message id, suffixed by the generation for retries', () => {
    expect(asyncInvocationMessageId({ requestId: 'r', generation: 0 })).toBe('r');
    expect(asyncInvocationMessageId({ requestId: 'r', generation: 2 })).toBe('r#2');
  });

  it.each<[string, Record<string, string | undefined>]>([
    ['a missing request id', { 'Hearth-Request-Id': undefined }],
    ['an unpublished version', { 'Hearth-Version': '$LATEST' }],
    ['a bad counter', { 'Hearth-Retries': '-1' }],
    ['a bad function name', { 'Hearth-Function-Name': 'a b' }],
  ])('refuses %s', (_case, overrides) => {
    const headers: Record<string, string | undefined> = { ...encodeAsyncInvocation(invocation), ...overrides };
    expect(() => decodeAsyncInvocation((name) => headers[name])).toThrow(MalformedAsyncInvocationError);
  });
});
