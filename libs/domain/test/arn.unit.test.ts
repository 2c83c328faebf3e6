import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException, ResourceNotFoundException } from '@hearth/errors';
import {
  capacityProviderArn,
  functionArn,
  parseCapacityProviderArn,
  parseCapacityProviderName,
  parseFunctionName,
  resolveFunctionName,
} from '@hearth/domain';
import { expectError, scope } from './fixtures.js';

describe('ARN builders', () => {
  it('builds capacity provider and function ARNs', () => {
    expect(capacityProviderArn(scope, 'cp1')).toBe('arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp1');
    expect(functionArn(scope, 'fn1')).toBe('arn:aws:lambda:us-east-1:123456789012:function:fn1');
    expect(functionArn(scope, 'fn1', '$LATEST')).toBe('arn:aws:lambda:us-east-1:123456789012:function:fn1:$LATEST');
  });
});

describe('parseCapacityProviderArn', () => {
  it.each([
    ['arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp-1_a', { region: 'us-east-1', accountId: '123456789012', name: 'cp-1_a' }],
    ['arn:aws-us-gov:lambda:us-gov-west-1:123456789012:capacity-provider:x', { region: 'us-gov-west-1', accountId: '123456789012', name: 'x' }],
    ['arn:aws:lambda:us-isob-east-1:123456789012:capacity-provider:x', { region: 'us-isob-east-1', accountId: '123456789012', name: 'x' }],
  ])('splits %s', (arn, parts) => {
    expect(parseCapacityProviderArn(arn)).toEqual(parts);
  });

  it.each([
    'cp1',
    'arn:aws:lambda:us-east-1:12345678901:capacity-provider:cp1',
    'arn:aws:lambda:us-east-1:123456789012:function:cp1',
    'arn::lambda:us-east-1:123456789012:capacity-provider:cp1',
    'arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp 1',
  ])('returns undefined for %s', (text) => {
    expect(parseCapacityProviderArn(text)).toBeUndefined();
  });
});

describe('parseCapacityProviderName', () => {
  it.each([
    ['cp1', 'cp1'],
    ['My_Provider-2', 'My_Provider-2'],
    ['arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp1', 'cp1'],
  ])('reads %s as %s', (input, name) => {
    expect(parseCapacityProviderName(input, scope)).toBe(name);
  });

  it.each([
    ['', 'CapacityProviderName "" has 0 characters (allowed: 1–140 characters)'],
    ['a'.repeat(141), `CapacityProviderName "${'a'.repeat(64)}…" has 141 characters (allowed: 1–140 characters)`],
    [
      'my provider',
      'CapacityProviderName "my provider" is invalid (allowed: a name matching [a-zA-Z0-9-_]+ or an ARN arn:aws:lambda:<region>:<account-id>:capacity-provider:<name>)',
    ],
    [7, 'CapacityProviderName must be a string (got 7)'],
  ])('rejects %j', (input, message) => {
    expectError(() => parseCapacityProviderName(input, scope), InvalidParameterValueException, message);
  });

  it('treats an ARN of another account or region as not found here', () => {
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:capacity-provider:cp1';
    expectError(() => parseCapacityProviderName(arn, scope), ResourceNotFoundException, `Capacity provider not found: ${arn}`);
    expect(parseCapacityProviderName(arn)).toBe('cp1');
  });
});

describe('parseFunctionName', () => {
  it.each([
    ['my-function', undefined, { name: 'my-function' }],
    ['my-function:1', undefined, { name: 'my-function', qualifier: '1' }],
    ['my-function:PROD', 'PROD', { name: 'my-function', qualifier: 'PROD' }],
    ['my-function', '$LATEST', { name: 'my-function', qualifier: '$LATEST' }],
    ['my-function:$LATEST.PUBLISHED', undefined, { name: 'my-function', qualifier: '$LATEST.PUBLISHED' }],
    [
      'arn:aws:lambda:us-west-2:123456789012:function:my-function',
      undefined,
      { name: 'my-function', region: 'us-west-2', accountId: '123456789012' },
    ],
    [
      'arn:aws:lambda:us-west-2:123456789012:function:my-function:7',
      undefined,
      { name: 'my-function', region: 'us-west-2', accountId: '123456789012', qualifier: '7' },
    ],
    [
      'arn:aws-cn:lambda:cn-north-1:123456789012:function:f',
      undefined,
      { name: 'f', region: 'cn-north-1', accountId: '123456789012' },
    ],
    ['123456789012:function:my-function', undefined, { name: 'my-function', accountId: '123456789012' }],
    ['123456789012:function:my-function:v2', undefined, { name: 'my-function', accountId: '123456789012', qualifier: 'v2' }],
    ['f'.repeat(64), undefined, { name: 'f'.repeat(64) }],
  ])('reads %s (Qualifier %s)', (input, qualifier, parts) => {
    expect(parseFunctionName(input, qualifier)).toEqual(parts);
  });

  const allowed =
    'a name matching [a-zA-Z0-9-_]+, an ARN arn:aws:lambda:<region>:<account-id>:function:<name> or a partial ARN <account-id>:function:<name>, each optionally followed by :<version or alias>';

  it.each([
    ['', undefined, 'FunctionName "" has 0 characters (allowed: 1–140 characters)'],
    ['my function', undefined, `FunctionName "my function" is invalid (allowed: ${allowed})`],
    ['my.function', undefined, `FunctionName "my.function" is invalid (allowed: ${allowed})`],
    [
      'arn:aws:lambda:us-west-2:12345:function:f',
      undefined,
      `FunctionName "arn:aws:lambda:us-west-2:12345:function:f" is invalid (allowed: ${allowed})`,
    ],
    ['f:1:2', undefined, `FunctionName "f:1:2" is invalid (allowed: ${allowed})`],
    ['f'.repeat(65), undefined, `FunctionName name "${'f'.repeat(65)}" has 65 characters (allowed: 1–64 characters)`],
    ['f:1', '2', 'The derived qualifier from the function name does not match the specified qualifier.'],
    ['f', 'bad qualifier', 'Qualifier "bad qualifier" is invalid (allowed: pattern \\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+)'],
    ['f', '', 'Qualifier "" has 0 characters (allowed: 1–128 characters)'],
  ])('rejects %s (Qualifier %s)', (input, qualifier, message) => {
    expectError(() => parseFunctionName(input, qualifier), InvalidParameterValueException, message);
  });

  it('accepts a Qualifier equal to the one in the ARN', () => {
    expect(parseFunctionName('f:1', '1')).toEqual({ name: 'f', qualifier: '1' });
  });
});

describe('resolveFunctionName', () => {
  it('accepts names and ARNs of this account and region', () => {
    expect(resolveFunctionName('arn:aws:lambda:us-east-1:123456789012:function:f', undefined, scope)).toEqual({
      name: 'f',
      region: 'us-east-1',
      accountId: '123456789012',
    });
  });

  it("answers Lambda's message for another region", () => {
    expectError(
      () => resolveFunctionName('arn:aws:lambda:eu-west-1:123456789012:function:f', undefined, scope),
      ResourceNotFoundException,
      "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
    );
  });

  it('treats another account as not found', () => {
    expectError(
      () => resolveFunctionName('999999999999:function:f:3', undefined, scope),
      ResourceNotFoundException,
      'Function not found: arn:aws:lambda:us-east-1:999999999999:function:f:3',
    );
  });
});
