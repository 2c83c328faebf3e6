import { describe, expect, it } from 'vitest';
import type { AsyncInvocation } from '@hearth/domain';
import { destinationRequestId } from '../../src/async/destinations.js';
import { encodeRecord, invocationRecord } from '../../src/async/invocation-record.js';

const invocation: AsyncInvocation = {
  requestId: 'e4b46cbf-b738-4880-a18c-df61200e0000',
  functionName: 'fn1',
  version: '1',
  functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn1:1',
  timeoutSeconds: 3,
  enqueuedAtMs: 0,
  retries: 2,
  invocations: 3,
  throttles: 0,
  generation: 2,
};
const now = new Date('2019-11-14T18:16:05.568Z');

describe('invocationRecord', () => {
  it("has Lambda's shape for a failure after retries", () => {
    const record = invocationRecord({
      invocation,
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
      requestPayload: Buffer.from('{"ORDER_IDS":["a"]}'),
      response: { kind: 'result', executedVersion: '1', functionError: 'Unhandled', payload: Buffer.from('{"errorMessage":"boom","errorType":"Error"}') },
      now,
    });
    expect(record).toEqual({
      version: '1.0',
      timestamp: '2019-11-14T18:16:05.568Z',
      requestContext: { requestId: invocation.requestId, functionArn: invocation.functionArn, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { ORDER_IDS: ['a'] },
      responseContext: { statusCode: 200, executedVersion: '1', functionError: 'Unhandled' },
      responsePayload: { errorMessage: 'boom', errorType: 'Error' },
    });
  });

  it('leaves functionError out on success and embeds non-JSON output as text', () => {
    const record = invocationRecord({
      invocation,
      condition: 'Success',
      approximateInvokeCount: 1,
      requestPayload: Buffer.alloc(0),
      response: { kind: 'result', executedVersion: '1', payload: Buffer.from('plain text') },
      now,
    });
    expect(record.responseContext).toEqual({ statusCode: 200, executedVersion: '1' });
    expect(record.responsePayload).toBe('plain text');
    expect(record.requestPayload).toBeNull();
  });

  it("reports a platform refusal with the exception's status, and an expired event without a response", () => {
    const refused = invocationRecord({ invocation, condition: 'RetriesExhausted', approximateInvokeCount: 0, requestPayload: Buffer.from('{}'), response: { kind: 'error', exception: 'InvalidParameterValueException', message: 'bad' }, now });
    expect(refused.responseContext).toEqual({ statusCode: 400, executedVersion: '1' });
    expect(refused.responsePayload).toEqual({ errorMessage: 'bad', errorType: 'InvalidParameterValueException' });
    const expired = invocationRecord({ invocation, condition: 'EventAgeExceeded', approximateInvokeCount: 0, requestPayload: Buffer.from('{}'), now });
    expect(expired).not.toHaveProperty('responseContext');
    expect(expired).not.toHaveProperty('responsePayload');
  });

  it('drops the response payload, then the request payload, to fit the destination', () => {
    const big = invocationRecord({
      invocation,
      condition: 'Success',
      approximateInvokeCount: 1,
      requestPayload: Buffer.from(JSON.stringify({ pad: 'r'.repeat(500) })),
      response: { kind: 'result', executedVersion: '1', payload: Buffer.from(JSON.stringify({ pad: 'x'.repeat(2_000) })) },
      now,
    });
    const withoutResponse = encodeRecord(big, 1_000);
    expect(withoutResponse.trimmed).toBe('responsePayload');
    expect(JSON.parse(withoutResponse.bytes.toString())).toMatchObject({ responsePayload: null, requestPayload: { pad: 'r'.repeat(500) } });
    const bare = encodeRecord(big, 400);
    expect(bare.trimmed).toBe('requestPayload');
    expect(JSON.parse(bare.bytes.toString())).toMatchObject({ requestPayload: null, responsePayload: null });
    expect(encodeRecord(big, 10_000).trimmed).toBe('none');
  });
});

describe('destinationRequestId', () => {
  it('is a stable UUID per source request and condition', () => {
    const id = destinationRequestId('r1', 'Success');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(destinationRequestId('r1', 'Success')).toBe(id);
    expect(destinationRequestId('r1', 'RetriesExhausted')).not.toBe(id);
  });
});
