import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException, InvalidRequestContentException } from '@hearth/errors';
import { lambdaRoutes, type OperationName } from '../src/index.js';
import { buildOperationInput } from '../src/operation-input.js';
import { parseQueryString } from '../src/query-string.js';

function routeOf(operation: OperationName) {
  const route = lambdaRoutes.find((candidate) => candidate.operation === operation);
  if (!route) throw new Error(`no route for ${operation}`);
  return route;
}

function build(operation: OperationName, parts: { params?: Record<string, string>; query?: string; headers?: Record<string, string>; body?: string | Buffer }) {
  return buildOperationInput(routeOf(operation), {
    params: parts.params ?? {},
    query: parseQueryString(parts.query ?? ''),
    headers: parts.headers ?? {},
    body: typeof parts.body === 'string' ? Buffer.from(parts.body) : (parts.body ?? Buffer.alloc(0)),
  });
}

describe('buildOperationInput', () => {
  it('maps query parameters to members and parses integers', () => {
    expect(build('ListCapacityProviders', { query: 'State=Active&Marker=a%2Bb+c&MaxItems=20&Other=x' })).toEqual({
      State: 'Active',
      Marker: 'a+b+c',
      MaxItems: 20,
    });
    expect(build('ListFunctions', { query: 'MasterRegion=ALL&FunctionVersion=ALL' })).toEqual({
      MasterRegion: 'ALL',
      FunctionVersion: 'ALL',
    });
  });

  it('names the parameter when a query integer is not a number', () => {
    expect(() => build('ListFunctions', { query: 'MaxItems=ten' })).toThrow(InvalidParameterValueException);
    expect(() => build('ListFunctions', { query: 'MaxItems=1.5' })).toThrow(/MaxItems must be an integer; got '1.5'/);
  });

  it('collects repeated tagKeys into TagKeys', () => {
    expect(build('UntagResource', { params: { Resource: 'arn' }, query: 'tagKeys=a&tagKeys=b%20c' })).toEqual({
      Resource: 'arn',
      TagKeys: ['a', 'b c'],
    });
  });

  it('overlays path labels on JSON body members', () => {
    const input = build('UpdateAlias', {
      params: { FunctionName: 'f', Name: 'live' },
      body: JSON.stringify({ FunctionName: 'other', Name: 'x', FunctionVersion: '3' }),
    });
    expect(input).toEqual({ FunctionName: 'f', Name: 'live', FunctionVersion: '3' });
  });

  it('treats an empty JSON body as {} and ignores a body on operations that have none', () => {
    expect(build('PublishVersion', { params: { FunctionName: 'f' } })).toEqual({ FunctionName: 'f' });
    expect(build('GetFunction', { params: { FunctionName: 'f' }, body: 'not json' })).toEqual({ FunctionName: 'f' });
  });

  it('rejects malformed JSON and non-object JSON as InvalidRequestContentException', () => {
    expect(() => build('CreateFunction', { body: '{"FunctionName":' })).toThrow(InvalidRequestContentException);
    expect(() => build('CreateFunction', { body: '{"FunctionName":' })).toThrow(/^Could not parse request body into json: /);
    expect(() => build('CreateFunction', { body: '[1,2]' })).toThrow(/expected a JSON object, got an array/);
    expect(() => build('CreateFunction', { body: 'null' })).toThrow(/got null/);
    expect(() => build('CreateFunction', { body: '"text"' })).toThrow(/got a string/);
  });

  it('builds Invoke input from headers, query and the raw body, with defaults', () => {
    const payload = Buffer.from([0xff, 0x00, 0x7b]);
    expect(build('Invoke', { params: { FunctionName: 'f' }, body: payload })).toEqual({
      FunctionName: 'f',
      InvocationType: 'RequestResponse',
      LogType: 'None',
      Payload: payload,
    });
    expect(
      build('Invoke', {
        params: { FunctionName: 'f' },
        query: 'Qualifier=live',
        headers: {
          'x-amz-invocation-type': 'Event',
          'x-amz-log-type': 'Tail',
          'x-amz-client-context': 'e30=',
          'x-amz-tenant-id': 't-1',
        },
      }),
    ).toMatchObject({ Qualifier: 'live', InvocationType: 'Event', LogType: 'Tail', ClientContext: 'e30=', TenantId: 't-1' });
  });

  it('rejects an invocation type outside the allowed values', () => {
    expect(() => build('Invoke', { params: { FunctionName: 'f' }, headers: { 'x-amz-invocation-type': 'Later' } })).toThrow(
      /x-amz-invocation-type value 'Later' is not valid \(allowed: RequestResponse, Event, DryRun\)/,
    );
    expect(() =>
      build('InvokeWithResponseStream', { params: { FunctionName: 'f' }, headers: { 'x-amz-invocation-type': 'Event' } }),
    ).toThrow(InvalidParameterValueException);
  });

  it('puts the InvokeAsync body in InvokeArgs', () => {
    expect(build('InvokeAsync', { params: { FunctionName: 'f' }, body: '{"a":1}' })).toEqual({
      FunctionName: 'f',
      InvokeArgs: Buffer.from('{"a":1}'),
    });
  });
});

describe('parseQueryString', () => {
  it('rejects invalid percent-encoding', () => {
    expect(() => parseQueryString('Marker=%ZZ')).toThrow(InvalidParameterValueException);
  });
});
