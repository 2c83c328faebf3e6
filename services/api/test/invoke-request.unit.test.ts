import { describe, expect, it } from 'vitest';
import {
  InvalidParameterValueException,
  InvalidRequestContentException,
  RequestTooLargeException,
  ServiceException,
  TooManyRequestsException,
  ResourceConflictException,
  type LambdaError,
} from '@hearth/errors';
import { router } from '@hearth/proto';
import { invokeResultOf, retryAfterSeconds } from '../src/invoke/invoke-outcome.js';
import { checkInvokeRequest, checkLogType, checkPayloadJson, invokePayloadLimits } from '../src/invoke/invoke-request.js';

function thrown(fn: () => unknown): LambdaError {
  try {
    fn();
  } catch (error) {
    return error as LambdaError;
  }
  throw new Error('expected an error');
}

const bytes = (n: number) => Buffer.alloc(n, 0x20);

describe('checkInvokeRequest', () => {
  it('defaults to RequestResponse, no log tail and an empty payload', () => {
    expect(checkInvokeRequest({ FunctionName: 'f' })).toEqual({
      FunctionName: 'f',
      Qualifier: undefined,
      InvocationType: 'RequestResponse',
      LogType: 'None',
      Payload: Buffer.alloc(0),
    });
  });

  it.each<[string, number, boolean]>([
    ['RequestResponse', invokePayloadLimits.syncBytes, true],
    ['RequestResponse', invokePayloadLimits.syncBytes + 1, false],
    ['DryRun', invokePayloadLimits.syncBytes + 1, false],
    ['Event', invokePayloadLimits.asyncBytes, true],
    ['Event', invokePayloadLimits.asyncBytes + 1, false],
  ])('%s with %i bytes: accepted %s', (InvocationType, size, accepted) => {
    const check = () => checkInvokeRequest({ FunctionName: 'f', InvocationType, Payload: bytes(size) });
    if (accepted) {
      expect(check().Payload.byteLength).toBe(size);
      return;
    }
    const error = thrown(check);
    expect(error).toBeInstanceOf(RequestTooLargeException);
    expect(error.httpStatus).toBe(413);
    expect(error.message).toBe(
      InvocationType === 'Event'
        ? 'Request must be smaller than 1048576 bytes for the InvokeAsync operation'
        : 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
    );
  });

  it('refuses unknown invocation and log types (the gRPC surface has no header validation)', () => {
    expect(thrown(() => checkInvokeRequest({ FunctionName: 'f', InvocationType: 'Later' })).message).toBe(
      "InvocationType 'Later' is not valid (allowed: RequestResponse, Event, DryRun).",
    );
    expect(thrown(() => checkInvokeRequest({ FunctionName: 'f', LogType: 'All' }))).toBeInstanceOf(InvalidParameterValueException);
  });

  it('accepts base64 JSON client context and refuses anything else as Lambda does', () => {
    const context = Buffer.from(JSON.stringify({ custom: { a: 1 } })).toString('base64');
    expect(checkInvokeRequest({ FunctionName: 'f', ClientContext: context }).ClientContext).toBe(context);
    for (const bad of ['not base64!', Buffer.from('[1]').toString('base64'), 'A'.repeat(3584)]) {
      const error = thrown(() => checkInvokeRequest({ FunctionName: 'f', ClientContext: bad }));
      expect(error).toBeInstanceOf(InvalidRequestContentException);
      expect(error.message).toBe('Client context must be a valid Base64-encoded JSON object.');
    }
  });

  it('refuses tenancy and durable execution, which Hearth does not have', () => {
    expect(thrown(() => checkInvokeRequest({ FunctionName: 'f', TenantId: 't1' }))).toBeInstanceOf(InvalidParameterValueException);
    expect(thrown(() => checkInvokeRequest({ FunctionName: 'f', DurableExecutionName: 'd' }))).toBeInstanceOf(InvalidParameterValueException);
  });
});

describe('payload and log checks', () => {
  it('accepts JSON and an empty payload, refuses the rest with InvalidRequestContentException', () => {
    expect(() => checkPayloadJson(Buffer.from('{"a":[1,2]}'))).not.toThrow();
    expect(() => checkPayloadJson(Buffer.from('"text"'))).not.toThrow();
    expect(() => checkPayloadJson(Buffer.alloc(0))).not.toThrow();
    const error = thrown(() => checkPayloadJson(Buffer.from('{oops')));
    expect(error).toBeInstanceOf(InvalidRequestContentException);
    expect(error.message).toMatch(/^Could not parse request body into json: Could not parse payload into json: /);
    expect(thrown(() => checkPayloadJson(Buffer.from('  ')))).toBeInstanceOf(InvalidRequestContentException);
  });

  it('refuses Tail logs with the message of spec §5', () => {
    expect(() => checkLogType('None')).not.toThrow();
    const error = thrown(() => checkLogType('Tail'));
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    expect(error.message).toBe('Tail logs are not supported for functions configured with capacity provider');
  });
});

describe('invokeResultOf', () => {
  const answer = (outcome: router.RouteResponse['outcome']) => router.RouteResponse.fromPartial({ requestId: 'r', outcome } as never);

  it('returns the payload with the executed version, and the function error with its JSON body', () => {
    const ok = invokeResultOf(answer({ $case: 'result', value: router.InvocationResult.fromPartial({ payload: Buffer.from('{"ok":1}'), executedVersion: '3' }) }), '$LATEST.PUBLISHED');
    expect(ok).toEqual({ StatusCode: 200, Payload: Buffer.from('{"ok":1}'), ExecutedVersion: '3' });
    const body = Buffer.from('{"errorMessage":"boom","errorType":"Error","stackTrace":[]}');
    const failed = invokeResultOf(answer({ $case: 'result', value: router.InvocationResult.fromPartial({ payload: body, functionError: 'Unhandled' }) }), '1');
    expect(failed).toEqual({ StatusCode: 200, Payload: body, FunctionError: 'Unhandled', ExecutedVersion: '1' });
  });

  it("replaces a response over 6 MiB with Lambda's size error", () => {
    const big = invokeResultOf(answer({ $case: 'result', value: router.InvocationResult.fromPartial({ payload: bytes(invokePayloadLimits.syncBytes + 1), executedVersion: '1' }) }), '1');
    expect(big.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(big.Payload!).toString())).toEqual({
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291456 bytes).',
      errorType: 'Function.ResponseSizeTooLarge',
    });
  });

  it('throws a throttle as TooManyRequestsException with its reason and Retry-After rounded up, at least 1 s', () => {
    const error = thrown(() => invokeResultOf(answer({ $case: 'throttled', value: { reason: 'CPUThrottle', message: '', retryAfterMs: 1_200 } }), '1'));
    expect(error).toBeInstanceOf(TooManyRequestsException);
    expect(error).toMatchObject({ httpStatus: 429, reason: 'CPUThrottle', retryAfterSeconds: 2, message: 'Rate Exceeded.' });
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1_000)).toBe(1);
    expect(retryAfterSeconds(1_001)).toBe(2);
  });

  it('throws the exception the router named, and ServiceException for an answer without outcome', () => {
    const error = thrown(() => invokeResultOf(answer({ $case: 'error', value: { exception: 'ResourceConflictException', message: 'busy' } }), '1'));
    expect(error).toBeInstanceOf(ResourceConflictException);
    expect(error.message).toBe('busy');
    expect(thrown(() => invokeResultOf(answer(undefined), '1'))).toBeInstanceOf(ServiceException);
  });
});
