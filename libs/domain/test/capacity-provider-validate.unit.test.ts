import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException } from '@hearth/errors';
import { validateCreateCapacityProvider, validateUpdateCapacityProvider, type CapacityProviderDefinition } from '@hearth/domain';
import { createProviderRequest, expectError, operatorRoleArn, scope } from './fixtures.js';

const cpu = 'LambdaCapacityProviderAverageCPUUtilization';
const policy = (TargetValue: number) => ({ PredefinedMetricType: cpu, TargetValue });
const manual = (extra: Record<string, unknown> = {}) => ({ ScalingMode: 'Manual', ScalingPolicies: [policy(50)], ...extra });
const many = (count: number, make: (i: number) => unknown) => Array.from({ length: count }, (_, i) => make(i));
const tagsOf = (count: number) => Object.fromEntries(many(count, (i) => [`k${i}`, 'v']) as [string, string][]);
// How a message shows a string longer than 64 characters.
const cut = (char: string) => `"${char.repeat(64)}…"`;

describe('validateCreateCapacityProvider: defaults', () => {
  it('fills every default into the stored configuration', () => {
    expect(validateCreateCapacityProvider(createProviderRequest({ VpcConfig: { SubnetIds: ['subnet-1'] } }), scope)).toEqual({
      CapacityProviderName: 'cp1',
      VpcConfig: { SubnetIds: ['subnet-1'], SecurityGroupIds: [] },
      PermissionsConfig: { CapacityProviderOperatorRoleArn: operatorRoleArn },
      InstanceRequirements: { Architectures: ['x86_64'], AllowedInstanceTypes: [], ExcludedInstanceTypes: [] },
      CapacityProviderScalingConfig: { MaxVCpuCount: 400, ScalingMode: 'Auto' },
      Tags: {},
      TelemetryConfig: { LoggingConfig: { SystemLogLevel: 'INFO', LogGroup: '/aws/lambda/capacity-provider/cp1' } },
    } satisfies CapacityProviderDefinition);
  });

  it('keeps everything a full request gives', () => {
    const request = createProviderRequest({
      CapacityProviderName: 'arn:aws:lambda:us-east-1:123456789012:capacity-provider:big',
      InstanceRequirements: { Architectures: ['arm64'], AllowedInstanceTypes: ['m7g.large', 'c7g.*'] },
      CapacityProviderScalingConfig: { MaxVCpuCount: 15000, ScalingMode: 'Manual', ScalingPolicies: [policy(0)] },
      KmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      Tags: { team: 'core' },
      PropagateTags: { Mode: 'Explicit', ExplicitTags: { cost: 'lmi' } },
      TelemetryConfig: { LoggingConfig: { SystemLogLevel: 'WARN', LogGroup: '/custom/group' } },
    });
    expect(validateCreateCapacityProvider(request, scope)).toEqual({
      CapacityProviderName: 'big',
      VpcConfig: { SubnetIds: ['subnet-1', 'subnet-2', 'subnet-3'], SecurityGroupIds: ['sg-1'] },
      PermissionsConfig: { CapacityProviderOperatorRoleArn: operatorRoleArn },
      InstanceRequirements: { Architectures: ['arm64'], AllowedInstanceTypes: ['m7g.large', 'c7g.*'], ExcludedInstanceTypes: [] },
      CapacityProviderScalingConfig: { MaxVCpuCount: 15000, ScalingMode: 'Manual', ScalingPolicies: [policy(0)] },
      KmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      Tags: { team: 'core' },
      PropagateTags: { Mode: 'Explicit', ExplicitTags: { cost: 'lmi' } },
      TelemetryConfig: { LoggingConfig: { SystemLogLevel: 'WARN', LogGroup: '/custom/group' } },
    });
  });

  it('accepts the bounds', () => {
    const request = createProviderRequest({
      VpcConfig: { SubnetIds: many(16, (i) => `subnet-${i}`), SecurityGroupIds: many(5, (i) => `sg-${i}`) },
      InstanceRequirements: { ExcludedInstanceTypes: many(400, (i) => `t${i}.*`) },
      CapacityProviderScalingConfig: { MaxVCpuCount: 2, ScalingMode: 'Manual', ScalingPolicies: [policy(100)] },
      PropagateTags: { Mode: 'Explicit', ExplicitTags: tagsOf(40) },
      Tags: tagsOf(50),
    });
    expect(() => validateCreateCapacityProvider(request, scope)).not.toThrow();
  });

  it('treats JSON null as absent', () => {
    const definition = validateCreateCapacityProvider(
      createProviderRequest({ InstanceRequirements: null, CapacityProviderScalingConfig: null, KmsKeyArn: null, PropagateTags: null }),
      scope,
    );
    expect(definition.CapacityProviderScalingConfig).toEqual({ MaxVCpuCount: 400, ScalingMode: 'Auto' });
    expect(definition).not.toHaveProperty('KmsKeyArn');
    expect(definition).not.toHaveProperty('PropagateTags');
  });
});

describe('validateCreateCapacityProvider: rules and messages', () => {
  const roleAllowed = 'an IAM role ARN arn:aws:iam::<account-id>:role/<name>';
  const tagAllowed = 'letters, digits, spaces and _ . : / = + - @';
  const scaling = 'CapacityProviderScalingConfig';

  it.each<[string, Record<string, unknown>, string]>([
    ['a missing name', { CapacityProviderName: undefined }, 'CapacityProviderName is required'],
    ['an empty name', { CapacityProviderName: '' }, 'CapacityProviderName "" has 0 characters (allowed: 1–140 characters)'],
    [
      'a 141-character name',
      { CapacityProviderName: 'a'.repeat(141) },
      `CapacityProviderName ${cut('a')} has 141 characters (allowed: 1–140 characters)`,
    ],
    [
      'a name with a space',
      { CapacityProviderName: 'my provider' },
      'CapacityProviderName "my provider" is invalid (allowed: a name matching [a-zA-Z0-9-_]+ or an ARN arn:aws:lambda:<region>:<account-id>:capacity-provider:<name>)',
    ],
    [
      'an ARN of another region',
      { CapacityProviderName: 'arn:aws:lambda:eu-west-1:123456789012:capacity-provider:cp1' },
      'CapacityProviderName "arn:aws:lambda:eu-west-1:123456789012:capacity-provider:cp1" names another account or region (allowed: a name, or an ARN of account 123456789012 in us-east-1)',
    ],
    ['a missing VpcConfig', { VpcConfig: undefined }, 'VpcConfig is required'],
    ['a VpcConfig that is not an object', { VpcConfig: 'subnet-1' }, 'VpcConfig must be an object (got "subnet-1")'],
    ['missing SubnetIds', { VpcConfig: { SecurityGroupIds: [] } }, 'VpcConfig.SubnetIds is required'],
    ['SubnetIds not a list', { VpcConfig: { SubnetIds: 'subnet-1' } }, 'VpcConfig.SubnetIds must be a list (got "subnet-1")'],
    ['no subnets', { VpcConfig: { SubnetIds: [] } }, 'VpcConfig.SubnetIds has 0 items (allowed: 1–16 items)'],
    [
      '17 subnets',
      { VpcConfig: { SubnetIds: many(17, (i) => `subnet-${i}`) } },
      'VpcConfig.SubnetIds has 17 items (allowed: 1–16 items)',
    ],
    [
      'a subnet id that is not one',
      { VpcConfig: { SubnetIds: ['subnet-1', 'vpc-1'] } },
      'VpcConfig.SubnetIds[1] "vpc-1" is invalid (allowed: pattern subnet-[a-zA-Z0-9]+)',
    ],
    [
      'a repeated subnet',
      { VpcConfig: { SubnetIds: ['subnet-1', 'subnet-1'] } },
      'VpcConfig.SubnetIds[1] "subnet-1" is repeated (allowed: each value once)',
    ],
    [
      'six security groups',
      { VpcConfig: { SubnetIds: ['subnet-1'], SecurityGroupIds: many(6, (i) => `sg-${i}`) } },
      'VpcConfig.SecurityGroupIds has 6 items (allowed: 0–5 items)',
    ],
    [
      'a bad security group id',
      { VpcConfig: { SubnetIds: ['subnet-1'], SecurityGroupIds: ['sg_1'] } },
      'VpcConfig.SecurityGroupIds[0] "sg_1" is invalid (allowed: pattern sg-[a-zA-Z0-9]+)',
    ],
    ['a missing PermissionsConfig', { PermissionsConfig: undefined }, 'PermissionsConfig is required'],
    ['a missing operator role', { PermissionsConfig: {} }, 'PermissionsConfig.CapacityProviderOperatorRoleArn is required'],
    [
      'an operator role that is not a role ARN',
      { PermissionsConfig: { CapacityProviderOperatorRoleArn: 'arn:aws:iam::123456789012:user/bob' } },
      `PermissionsConfig.CapacityProviderOperatorRoleArn "arn:aws:iam::123456789012:user/bob" is invalid (allowed: ${roleAllowed})`,
    ],
    [
      'no architecture',
      { InstanceRequirements: { Architectures: [] } },
      'InstanceRequirements.Architectures has 0 items (allowed: exactly 1 item)',
    ],
    [
      'two architectures',
      { InstanceRequirements: { Architectures: ['x86_64', 'arm64'] } },
      'InstanceRequirements.Architectures has 2 items (allowed: exactly 1 item)',
    ],
    [
      'an unknown architecture',
      { InstanceRequirements: { Architectures: ['X86_64'] } },
      'InstanceRequirements.Architectures[0] "X86_64" is not supported (allowed: x86_64, arm64)',
    ],
    [
      'an instance type with a space',
      { InstanceRequirements: { AllowedInstanceTypes: ['m5.large', 'm5 large'] } },
      'InstanceRequirements.AllowedInstanceTypes[1] "m5 large" is invalid (allowed: pattern [a-zA-Z0-9\\.\\*\\-]+)',
    ],
    [
      'a 31-character instance type',
      { InstanceRequirements: { ExcludedInstanceTypes: ['m'.repeat(31)] } },
      `InstanceRequirements.ExcludedInstanceTypes[0] "${'m'.repeat(31)}" has 31 characters (allowed: 1–30 characters)`,
    ],
    [
      '401 instance types',
      { InstanceRequirements: { AllowedInstanceTypes: many(401, (i) => `t${i}.large`) } },
      'InstanceRequirements.AllowedInstanceTypes has 401 items (allowed: 0–400 items)',
    ],
    [
      'both allowed and excluded instance types',
      { InstanceRequirements: { AllowedInstanceTypes: ['m7g.*'], ExcludedInstanceTypes: ['m7g.large'] } },
      "InstanceRequirements.AllowedInstanceTypes and InstanceRequirements.ExcludedInstanceTypes can't both be specified (allowed: one of them)",
    ],
    ['MaxVCpuCount 1', { CapacityProviderScalingConfig: { MaxVCpuCount: 1 } }, `${scaling}.MaxVCpuCount 1 is out of range (allowed: 2–15000)`],
    [
      'MaxVCpuCount 15001',
      { CapacityProviderScalingConfig: { MaxVCpuCount: 15001 } },
      `${scaling}.MaxVCpuCount 15001 is out of range (allowed: 2–15000)`,
    ],
    [
      'a fractional MaxVCpuCount',
      { CapacityProviderScalingConfig: { MaxVCpuCount: 2.5 } },
      `${scaling}.MaxVCpuCount 2.5 is not a whole number (allowed: whole numbers 2–15000)`,
    ],
    [
      'a MaxVCpuCount as text',
      { CapacityProviderScalingConfig: { MaxVCpuCount: '10' } },
      `${scaling}.MaxVCpuCount must be a number (got "10")`,
    ],
    [
      'ScalingMode in capitals',
      { CapacityProviderScalingConfig: { ScalingMode: 'AUTO' } },
      `${scaling}.ScalingMode "AUTO" is not supported (allowed: Auto, Manual)`,
    ],
    [
      'Manual without policies',
      { CapacityProviderScalingConfig: { ScalingMode: 'Manual' } },
      `${scaling}.ScalingPolicies is required when ScalingMode is Manual (allowed: 1–10 target tracking policies)`,
    ],
    [
      'Auto with policies',
      { CapacityProviderScalingConfig: { ScalingMode: 'Auto', ScalingPolicies: [policy(50)] } },
      `${scaling}.ScalingPolicies can't be specified when ScalingMode is Auto (allowed: ScalingPolicies only with ScalingMode Manual)`,
    ],
    [
      'policies with the default mode',
      { CapacityProviderScalingConfig: { ScalingPolicies: [policy(50)] } },
      `${scaling}.ScalingPolicies can't be specified when ScalingMode is Auto (allowed: ScalingPolicies only with ScalingMode Manual)`,
    ],
    [
      'an empty policy list',
      { CapacityProviderScalingConfig: { ScalingMode: 'Manual', ScalingPolicies: [] } },
      `${scaling}.ScalingPolicies has 0 items (allowed: 1–10 items)`,
    ],
    [
      '11 policies',
      { CapacityProviderScalingConfig: manual({ ScalingPolicies: many(11, () => policy(50)) }) },
      `${scaling}.ScalingPolicies has 11 items (allowed: 1–10 items)`,
    ],
    [
      'an unknown metric',
      { CapacityProviderScalingConfig: manual({ ScalingPolicies: [{ PredefinedMetricType: 'CPU', TargetValue: 50 }] }) },
      `${scaling}.ScalingPolicies[0].PredefinedMetricType "CPU" is not supported (allowed: ${cpu})`,
    ],
    [
      'a policy without metric',
      { CapacityProviderScalingConfig: manual({ ScalingPolicies: [{ TargetValue: 50 }] }) },
      `${scaling}.ScalingPolicies[0].PredefinedMetricType is required`,
    ],
    [
      'a policy without target',
      { CapacityProviderScalingConfig: manual({ ScalingPolicies: [{ PredefinedMetricType: cpu }] }) },
      `${scaling}.ScalingPolicies[0].TargetValue is required`,
    ],
    [
      'a target above 100',
      { CapacityProviderScalingConfig: manual({ ScalingPolicies: [policy(100.5)] }) },
      `${scaling}.ScalingPolicies[0].TargetValue 100.5 is out of range (allowed: 0–100)`,
    ],
    [
      'a negative target',
      { CapacityProviderScalingConfig: manual({ ScalingPolicies: [policy(-1)] }) },
      `${scaling}.ScalingPolicies[0].TargetValue -1 is out of range (allowed: 0–100)`,
    ],
    [
      'two policies for one metric',
      { CapacityProviderScalingConfig: manual({ ScalingPolicies: [policy(40), policy(60)] }) },
      `${scaling}.ScalingPolicies[1].PredefinedMetricType "${cpu}" is repeated (allowed: one policy per metric)`,
    ],
    ['a KmsKeyArn that is not an ARN', { KmsKeyArn: 'key-1' }, 'KmsKeyArn "key-1" is invalid (allowed: a KMS key ARN)'],
    ['51 tags', { Tags: tagsOf(51) }, 'Tags has 51 tags (allowed: 0–50 tags)'],
    ['a reserved tag key', { Tags: { 'aws:x': 'y' } }, 'Tags key "aws:x" is reserved (allowed: keys not starting with aws:)'],
    ['a tag value with #', { Tags: { k: 'a#b' } }, `Tags.k "a#b" is invalid (allowed: ${tagAllowed})`],
    [
      'an unknown propagation mode',
      { PropagateTags: { Mode: 'All' } },
      'PropagateTags.Mode "All" is not supported (allowed: None, Explicit)',
    ],
    [
      'Explicit propagation without tags',
      { PropagateTags: { Mode: 'Explicit' } },
      'PropagateTags.ExplicitTags is required when Mode is Explicit (allowed: 1–40 tags)',
    ],
    [
      'Explicit propagation with no tags',
      { PropagateTags: { Mode: 'Explicit', ExplicitTags: {} } },
      'PropagateTags.ExplicitTags is required when Mode is Explicit (allowed: 1–40 tags)',
    ],
    [
      'tags with Mode None',
      { PropagateTags: { Mode: 'None', ExplicitTags: { a: 'b' } } },
      "PropagateTags.ExplicitTags can't be specified when Mode is None (allowed: ExplicitTags only with Mode Explicit)",
    ],
    [
      '41 explicit tags',
      { PropagateTags: { Mode: 'Explicit', ExplicitTags: tagsOf(41) } },
      'PropagateTags.ExplicitTags has 41 tags (allowed: 0–40 tags)',
    ],
    [
      'an unknown system log level',
      { TelemetryConfig: { LoggingConfig: { SystemLogLevel: 'ERROR' } } },
      'TelemetryConfig.LoggingConfig.SystemLogLevel "ERROR" is not supported (allowed: DEBUG, INFO, WARN)',
    ],
    [
      'a log group with a space',
      { TelemetryConfig: { LoggingConfig: { LogGroup: 'my group' } } },
      'TelemetryConfig.LoggingConfig.LogGroup "my group" is invalid (allowed: pattern [\\.\\-_/#A-Za-z0-9]+)',
    ],
    [
      'a 513-character log group',
      { TelemetryConfig: { LoggingConfig: { LogGroup: 'g'.repeat(513) } } },
      `TelemetryConfig.LoggingConfig.LogGroup ${cut('g')} has 513 characters (allowed: 1–512 characters)`,
    ],
  ])('rejects %s', (_case, overrides, message) => {
    expectError(() => validateCreateCapacityProvider(createProviderRequest(overrides), scope), InvalidParameterValueException, message);
  });

  it('reports the first error in field order', () => {
    const request = createProviderRequest({
      VpcConfig: { SubnetIds: [] },
      PermissionsConfig: {},
      CapacityProviderScalingConfig: { MaxVCpuCount: 1 },
    });
    expectError(() => validateCreateCapacityProvider(request, scope), InvalidParameterValueException, 'VpcConfig.SubnetIds has 0 items (allowed: 1–16 items)');
  });
});

describe('validateUpdateCapacityProvider', () => {
  const current = validateCreateCapacityProvider(
    createProviderRequest({
      CapacityProviderScalingConfig: manual({ MaxVCpuCount: 64 }),
      PropagateTags: { Mode: 'Explicit', ExplicitTags: { a: '1' } },
      TelemetryConfig: { LoggingConfig: { SystemLogLevel: 'DEBUG' } },
    }),
    scope,
  );
  const update = (body: Record<string, unknown>) => validateUpdateCapacityProvider({ CapacityProviderName: 'cp1', ...body }, current);

  it('keeps members the request omits', () => {
    expect(update({ CapacityProviderScalingConfig: { MaxVCpuCount: 800 } })).toEqual({
      CapacityProviderScalingConfig: { MaxVCpuCount: 800, ScalingMode: 'Manual', ScalingPolicies: [policy(50)] },
    });
    expect(update({ PropagateTags: { ExplicitTags: { b: '2' } } })).toEqual({ PropagateTags: { Mode: 'Explicit', ExplicitTags: { b: '2' } } });
    expect(update({ TelemetryConfig: { LoggingConfig: { LogGroup: '/x' } } })).toEqual({
      TelemetryConfig: { LoggingConfig: { SystemLogLevel: 'DEBUG', LogGroup: '/x' } },
    });
  });

  it('drops the policies when switching to Auto and tags when switching to None', () => {
    expect(update({ CapacityProviderScalingConfig: { ScalingMode: 'Auto' } })).toEqual({
      CapacityProviderScalingConfig: { MaxVCpuCount: 64, ScalingMode: 'Auto' },
    });
    expect(update({ PropagateTags: { Mode: 'None' } })).toEqual({ PropagateTags: { Mode: 'None' } });
  });

  it('returns nothing for an empty update', () => {
    expect(update({})).toEqual({});
  });

  it.each<[Record<string, unknown>, string]>([
    [
      { VpcConfig: { SubnetIds: ['subnet-9'] } },
      "UpdateCapacityProvider can't change VpcConfig (allowed: CapacityProviderScalingConfig, PropagateTags, TelemetryConfig)",
    ],
    [
      { InstanceRequirements: {}, KmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/x', Tags: { a: 'b' } },
      "UpdateCapacityProvider can't change InstanceRequirements, KmsKeyArn, Tags (allowed: CapacityProviderScalingConfig, PropagateTags, TelemetryConfig)",
    ],
    [
      { CapacityProviderScalingConfig: { ScalingPolicies: [policy(10)], ScalingMode: 'Auto' } },
      "CapacityProviderScalingConfig.ScalingPolicies can't be specified when ScalingMode is Auto (allowed: ScalingPolicies only with ScalingMode Manual)",
    ],
    [{ CapacityProviderScalingConfig: { MaxVCpuCount: 0 } }, 'CapacityProviderScalingConfig.MaxVCpuCount 0 is out of range (allowed: 2–15000)'],
  ])('rejects %j', (body, message) => {
    expectError(() => update(body), InvalidParameterValueException, message);
  });

  it('ignores members sent as null', () => {
    expect(update({ VpcConfig: null, CapacityProviderScalingConfig: { MaxVCpuCount: 65 } })).toEqual({
      CapacityProviderScalingConfig: { MaxVCpuCount: 65, ScalingMode: 'Manual', ScalingPolicies: [policy(50)] },
    });
  });
});
