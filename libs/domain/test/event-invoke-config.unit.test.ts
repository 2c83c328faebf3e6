import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException, ResourceConflictException, ResourceNotFoundException } from '@hearth/errors';
import {
  asyncInvokeSettings,
  decideFunctionResult,
  destinationFunctionNames,
  evolveFunction,
  getEventInvokeConfigView,
  initialFunctionState,
  listFunctionEventInvokeConfigs,
  parseEventDestination,
  type DomainContext,
  type ExistingFunction,
  type FunctionCommand,
  type FunctionStreamState,
} from '@hearth/domain';
import { code, context, createFunctionRequest, expectError, now, providerState, scope } from './fixtures.js';

const fnArn = 'arn:aws:lambda:us-east-1:123456789012:function:fn1';
const otherArn = 'arn:aws:lambda:us-east-1:123456789012:function:other';
const epochSeconds = now.getTime() / 1000;
const active = providerState('Active');

function run(commands: FunctionCommand[], state: FunctionStreamState = initialFunctionState, ctx: DomainContext = context()): FunctionStreamState {
  for (const command of commands) state = decideFunctionResult(command, state, ctx).events.reduce(evolveFunction, state);
  return state;
}

function existing(state: FunctionStreamState): ExistingFunction {
  if (state.status === 'Absent') throw new Error('expected a function');
  return state;
}

const create: FunctionCommand = { type: 'CreateFunction', data: { request: createFunctionRequest(), code, capacityProvider: active, functionVersionCount: 0 } };
const publish = (PublishTo?: 'LATEST_PUBLISHED'): FunctionCommand => ({
  type: 'PublishVersion',
  data: { request: { FunctionName: 'fn1', ...(PublishTo ? { PublishTo } : {}) }, capacityProvider: active, functionVersionCount: 0 },
});
const known = { other: true, gone: false, fn1: true };
const put = (body: Record<string, unknown>, reservedSubjectPrefixes?: string[]): FunctionCommand => ({
  type: 'PutFunctionEventInvokeConfig',
  data: { request: { FunctionName: 'fn1', ...body }, destinationFunctions: known, ...(reservedSubjectPrefixes ? { reservedSubjectPrefixes } : {}) },
});
const update = (body: Record<string, unknown>): FunctionCommand => ({
  type: 'UpdateFunctionEventInvokeConfig',
  data: { request: { FunctionName: 'fn1', ...body }, destinationFunctions: known },
});
const remove = (Qualifier?: string): FunctionCommand => ({
  type: 'DeleteFunctionEventInvokeConfig',
  data: { request: { FunctionName: 'fn1', ...(Qualifier ? { Qualifier } : {}) } },
});

const fn = run([create, publish(), publish('LATEST_PUBLISHED')]);

describe('PutFunctionEventInvokeConfig', () => {
  it('stores exactly what was given and shows it as Lambda does', () => {
    const state = run([put({ MaximumRetryAttempts: 1, DestinationConfig: { OnFailure: { Destination: 'nats:orders.failed' } } })], fn);
    expect(getEventInvokeConfigView(state, { FunctionName: 'fn1' }, scope)).toEqual({
      LastModified: epochSeconds,
      FunctionArn: `${fnArn}:$LATEST`,
      MaximumRetryAttempts: 1,
      DestinationConfig: { OnSuccess: {}, OnFailure: { Destination: 'nats:orders.failed' } },
    });
  });

  it('replaces a previous configuration whole, dropping settings it leaves out', () => {
    const state = run([put({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 }), put({ MaximumEventAgeInSeconds: 120 })], fn);
    const view = getEventInvokeConfigView(state, { FunctionName: 'fn1' }, scope);
    expect(view).toMatchObject({ MaximumEventAgeInSeconds: 120 });
    expect(view).not.toHaveProperty('MaximumRetryAttempts');
  });

  it('attaches to $LATEST.PUBLISHED and numbered versions, qualified by ARN or Qualifier', () => {
    const state = run([put({ Qualifier: '1', MaximumRetryAttempts: 0 }), put({ FunctionName: `${fnArn}:$LATEST.PUBLISHED`, MaximumRetryAttempts: 1 })], fn);
    expect(getEventInvokeConfigView(state, { FunctionName: 'fn1', Qualifier: '1' }, scope).FunctionArn).toBe(`${fnArn}:1`);
    expect(getEventInvokeConfigView(state, { FunctionName: 'fn1:$LATEST.PUBLISHED' }, scope).MaximumRetryAttempts).toBe(1);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no setting at all', {}, 'You must specify at least one of error handling or destination setting.'],
    ['too many retries', { MaximumRetryAttempts: 3 }, 'MaximumRetryAttempts 3 is out of range (allowed: 0–2)'],
    ['negative retries', { MaximumRetryAttempts: -1 }, 'MaximumRetryAttempts -1 is out of range (allowed: 0–2)'],
    ['a fractional age', { MaximumEventAgeInSeconds: 60.5 }, 'MaximumEventAgeInSeconds 60.5 is not a whole number (allowed: whole numbers 60–21600)'],
    ['an age under a minute', { MaximumEventAgeInSeconds: 59 }, 'MaximumEventAgeInSeconds 59 is out of range (allowed: 60–21600)'],
    ['an age over six hours', { MaximumEventAgeInSeconds: 21_601 }, 'MaximumEventAgeInSeconds 21601 is out of range (allowed: 60–21600)'],
    [
      'an SQS destination',
      { DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:123456789012:dlq' } } },
      'DestinationConfig.OnFailure.Destination "arn:aws:sqs:us-east-1:123456789012:dlq" names the AWS service sqs, which Hearth does not have (allowed: a function ARN arn:aws:lambda:<region>:<account-id>:function:<name>[:<version>] or nats:<subject>)',
    ],
    [
      'a NATS wildcard',
      { DestinationConfig: { OnSuccess: { Destination: 'nats:orders.*' } } },
      'DestinationConfig.OnSuccess.Destination "nats:orders.*" is invalid (allowed: a function ARN arn:aws:lambda:<region>:<account-id>:function:<name>[:<version>] or nats:<subject>)',
    ],
    [
      "Hearth's own subjects",
      { DestinationConfig: { OnSuccess: { Destination: 'nats:hearth.events.function.FunctionDeleted' } } },
      'DestinationConfig.OnSuccess.Destination "nats:hearth.events.function.FunctionDeleted" publishes under hearth., which Hearth reserves (allowed: any other subject)',
    ],
    ['the function itself', { DestinationConfig: { OnFailure: { Destination: fnArn } } }, "You can't specify the function as a destination for itself."],
    [
      'a function that does not exist',
      { DestinationConfig: { OnFailure: { Destination: 'arn:aws:lambda:us-east-1:123456789012:function:gone' } } },
      'The destination ARN arn:aws:lambda:us-east-1:123456789012:function:gone is invalid.',
    ],
    [
      'a function of another region',
      { DestinationConfig: { OnFailure: { Destination: 'arn:aws:lambda:eu-west-1:123456789012:function:other' } } },
      'DestinationConfig.OnFailure.Destination "arn:aws:lambda:eu-west-1:123456789012:function:other" names a function of another region or account (allowed: functions in us-east-1, account 123456789012)',
    ],
  ])('refuses %s without changing anything', (_case, body, message) => {
    expectError(() => decideFunctionResult(put(body, ['hearth']), fn, context()), InvalidParameterValueException, message);
  });

  it.each<[string, FunctionStreamState, Record<string, unknown>]>([
    ['a missing function', initialFunctionState, {}],
    ['a missing version', fn, { Qualifier: '9' }],
    ['an alias', fn, { Qualifier: 'live' }],
  ])("refuses %s with Lambda's message", (_case, state, body) => {
    expectError(() => decideFunctionResult(put({ MaximumRetryAttempts: 1, ...body }), state, context()), ResourceNotFoundException, "The function doesn't exist.");
  });

  it('refuses a function being deleted', () => {
    const deleting = run([{ type: 'DeleteFunction', data: { request: { FunctionName: 'fn1' } } }], fn);
    expect(() => decideFunctionResult(put({ MaximumRetryAttempts: 1 }), deleting, context())).toThrow(ResourceConflictException);
  });

  it('treats an empty destination as none, as botocore allows', () => {
    const state = run([put({ DestinationConfig: { OnSuccess: { Destination: '' } } })], fn);
    expect(getEventInvokeConfigView(state, { FunctionName: 'fn1' }, scope).DestinationConfig).toEqual({ OnSuccess: {}, OnFailure: {} });
  });

  it('names the destination functions to load, once each', () => {
    expect(
      destinationFunctionNames({ DestinationConfig: { OnSuccess: { Destination: otherArn }, OnFailure: { Destination: `${otherArn}:3` } } }),
    ).toEqual(['other']);
    expect(destinationFunctionNames({ DestinationConfig: { OnSuccess: { Destination: 'nats:x' } } })).toEqual([]);
  });
});

describe('UpdateFunctionEventInvokeConfig', () => {
  const base = run([put({ MaximumRetryAttempts: 0, DestinationConfig: { OnSuccess: { Destination: otherArn }, OnFailure: { Destination: 'nats:f' } } })], fn);

  it('changes the members given and keeps the others', () => {
    const state = run([update({ MaximumEventAgeInSeconds: 300 })], base);
    expect(getEventInvokeConfigView(state, { FunctionName: 'fn1' }, scope)).toMatchObject({
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 300,
      DestinationConfig: { OnSuccess: { Destination: otherArn }, OnFailure: { Destination: 'nats:f' } },
    });
  });

  it('replaces DestinationConfig whole', () => {
    const state = run([update({ DestinationConfig: { OnFailure: { Destination: 'nats:g' } } })], base);
    expect(getEventInvokeConfigView(state, { FunctionName: 'fn1' }, scope).DestinationConfig).toEqual({ OnSuccess: {}, OnFailure: { Destination: 'nats:g' } });
  });

  it('refuses a qualifier without a configuration', () => {
    expectError(
      () => decideFunctionResult(update({ Qualifier: '1', MaximumRetryAttempts: 1 }), base, context()),
      ResourceNotFoundException,
      `The function ${fnArn}:1 doesn't have an EventInvokeConfig`,
    );
  });
});

describe('Get, Delete and List', () => {
  const state = run([put({ Qualifier: '1', MaximumRetryAttempts: 0 }), put({ MaximumRetryAttempts: 1 }), put({ Qualifier: '$LATEST.PUBLISHED', MaximumRetryAttempts: 2 })], fn);

  it('lists in version order and pages with MaxItems 1–50', () => {
    const all = listFunctionEventInvokeConfigs(state, { FunctionName: 'fn1' }, scope);
    expect(all.FunctionEventInvokeConfigs.map((config) => config.FunctionArn)).toEqual([`${fnArn}:$LATEST`, `${fnArn}:$LATEST.PUBLISHED`, `${fnArn}:1`]);
    const first = listFunctionEventInvokeConfigs(state, { FunctionName: 'fn1', MaxItems: 2 }, scope);
    expect(first.FunctionEventInvokeConfigs).toHaveLength(2);
    const second = listFunctionEventInvokeConfigs(state, { FunctionName: 'fn1', Marker: first.NextMarker! }, scope);
    expect(second.FunctionEventInvokeConfigs.map((config) => config.FunctionArn)).toEqual([`${fnArn}:1`]);
    expect(() => listFunctionEventInvokeConfigs(state, { FunctionName: 'fn1', MaxItems: 51 }, scope)).toThrow(/allowed: 1–50/);
    expectError(() => listFunctionEventInvokeConfigs(initialFunctionState, { FunctionName: 'fn1' }, scope), ResourceNotFoundException, "The function doesn't exist.");
  });

  it('deletes one qualifier and then reports it missing', () => {
    const after = run([remove('1')], state);
    expectError(
      () => getEventInvokeConfigView(after, { FunctionName: 'fn1', Qualifier: '1' }, scope),
      ResourceNotFoundException,
      `The function ${fnArn}:1 doesn't have an EventInvokeConfig`,
    );
    expectError(() => decideFunctionResult(remove('1'), after, context()), ResourceNotFoundException, `The function ${fnArn}:1 doesn't have an EventInvokeConfig`);
    expect(listFunctionEventInvokeConfigs(after, { FunctionName: 'fn1' }, scope).FunctionEventInvokeConfigs).toHaveLength(2);
  });

  it('drops a version\'s configuration when the version is deleted', () => {
    const after = run(
      [
        { type: 'DeleteFunction', data: { request: { FunctionName: 'fn1', Qualifier: '1' } } },
        { type: 'CompleteVersionDeletion', data: { FunctionName: 'fn1', Version: '1' } },
      ],
      state,
    );
    expect(listFunctionEventInvokeConfigs(after, { FunctionName: 'fn1' }, scope).FunctionEventInvokeConfigs.map((c) => c.FunctionArn)).toEqual([
      `${fnArn}:$LATEST`,
      `${fnArn}:$LATEST.PUBLISHED`,
    ]);
  });
});

describe('asyncInvokeSettings', () => {
  it("uses Lambda's defaults without a configuration", () => {
    expect(asyncInvokeSettings(existing(fn), '1')).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21_600, source: 'default' });
  });

  it("prefers the version's own configuration, then the unqualified one; unset members take defaults", () => {
    const state = existing(
      run([put({ MaximumRetryAttempts: 0, DestinationConfig: { OnSuccess: { Destination: 'nats:ok' } } }), put({ Qualifier: '1', MaximumEventAgeInSeconds: 60 })], fn),
    );
    expect(asyncInvokeSettings(state, '1')).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60, source: '1' });
    expect(asyncInvokeSettings(state, '$LATEST.PUBLISHED')).toEqual({
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 21_600,
      OnSuccess: { kind: 'nats', subject: 'ok' },
      source: '$LATEST',
    });
  });
});

describe('parseEventDestination', () => {
  it.each<[string, ReturnType<typeof parseEventDestination>]>([
    ['nats:a.b-c.d_e', { kind: 'nats', subject: 'a.b-c.d_e' }],
    [otherArn, { kind: 'function', arn: otherArn, FunctionName: 'other' }],
    [`${otherArn}:$LATEST.PUBLISHED`, { kind: 'function', arn: `${otherArn}:$LATEST.PUBLISHED`, FunctionName: 'other', Qualifier: '$LATEST.PUBLISHED' }],
    ['nats:', undefined],
    ['nats:a..b', undefined],
    ['nats:a.>', undefined],
    ['other', undefined],
    ['123456789012:function:other', undefined],
  ])('%s', (text, expected) => {
    expect(parseEventDestination(text)).toEqual(expected);
  });
});
