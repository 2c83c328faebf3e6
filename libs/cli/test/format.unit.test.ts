import { describe, expect, it } from 'vitest';
import { flatten, formatElapsed, formatKeyValues, formatTable } from '@hearth/cli';

describe('tables', () => {
  it('align columns two spaces apart, print missing cells as -, and leave no trailing blanks', () => {
    const text = formatTable(
      ['NAME', 'STATE', 'MEMORY'],
      [
        ['hello', 'Active', 2048],
        ['a-much-longer-name', undefined, null],
      ],
    );
    expect(text).toBe(['NAME                STATE   MEMORY', 'hello               Active  2048', 'a-much-longer-name  -       -', ''].join('\n'));
  });

  it('with no rows print the header', () => {
    expect(formatTable(['A', 'B'], [])).toBe('A  B\n');
  });
});

describe('key-value blocks', () => {
  it('align the values', () => {
    expect(formatKeyValues([['State', 'Active'], ['FunctionName', 'hello'], ['Empty', undefined]])).toBe('State         Active\nFunctionName  hello\nEmpty         -\n');
  });

  it('flatten nested API objects to dotted keys, join scalar lists, drop $metadata', () => {
    expect(
      flatten({
        CapacityProviderArn: 'arn:p1',
        VpcConfig: { SubnetIds: ['subnet-a', 'subnet-b'], SecurityGroupIds: [] },
        CapacityProviderScalingConfig: { MaxVCpuCount: 400, ScalingPolicies: [{ TargetValue: 50 }] },
        $metadata: { httpStatusCode: 200 },
      }),
    ).toEqual([
      ['CapacityProviderArn', 'arn:p1'],
      ['VpcConfig.SubnetIds', 'subnet-a, subnet-b'],
      ['VpcConfig.SecurityGroupIds', ''],
      ['CapacityProviderScalingConfig.MaxVCpuCount', 400],
      ['CapacityProviderScalingConfig.ScalingPolicies', '[{"TargetValue":50}]'],
    ]);
  });
});

describe('elapsed time', () => {
  it('is seconds with a decimal under a minute, else minutes and seconds', () => {
    expect(formatElapsed(1234)).toBe('1.2s');
    expect(formatElapsed(75_000)).toBe('1m15s');
  });
});
