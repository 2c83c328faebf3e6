import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException, ResourceNotFoundException } from '@hearth/errors';
import {
  capacityProviderView,
  decideCapacityProvider,
  encodeMarker,
  evolveCapacityProvider,
  initialCapacityProviderState,
  listCapacityProviders,
  listFunctionVersionsByCapacityProvider,
  requireCapacityProvider,
  type CapacityProvider,
  type ExistingCapacityProvider,
} from '@hearth/domain';
import { context, createProviderRequest, expectError, lambdaNow, operatorRoleArn, providerArn, providerState, scope } from './fixtures.js';

function existing(name: string, status: 'Pending' | 'Active' | 'Failed' | 'Deleting' = 'Active'): ExistingCapacityProvider {
  const state = providerState(status, 'x86_64', name);
  if (state.status === 'Absent') throw new Error('expected a provider');
  return state;
}

describe('capacityProviderView', () => {
  it('returns the API shape of a provider with defaults', () => {
    expect(capacityProviderView(existing('cp1'))).toEqual({
      CapacityProviderArn: providerArn(),
      State: 'Active',
      VpcConfig: { SubnetIds: ['subnet-1', 'subnet-2', 'subnet-3'], SecurityGroupIds: ['sg-1'] },
      PermissionsConfig: { CapacityProviderOperatorRoleArn: operatorRoleArn },
      InstanceRequirements: { Architectures: ['x86_64'] },
      CapacityProviderScalingConfig: { MaxVCpuCount: 400, ScalingMode: 'Auto' },
      LastModified: lambdaNow,
      TelemetryConfig: { LoggingConfig: { SystemLogLevel: 'INFO', LogGroup: '/aws/lambda/capacity-provider/cp1' } },
    } satisfies CapacityProvider);
  });

  it('includes everything that was set, and never the provider tags', () => {
    const request = createProviderRequest({
      InstanceRequirements: { Architectures: ['arm64'], ExcludedInstanceTypes: ['r8g.*'] },
      CapacityProviderScalingConfig: {
        ScalingMode: 'Manual',
        ScalingPolicies: [{ PredefinedMetricType: 'LambdaCapacityProviderAverageCPUUtilization', TargetValue: 30 }],
      },
      KmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:alias/ebs',
      Tags: { secret: 'not in the view' },
      PropagateTags: { Mode: 'Explicit', ExplicitTags: { cost: 'x' } },
    });
    const events = decideCapacityProvider({ type: 'CreateCapacityProvider', data: { request, capacityProviderCount: 0 } }, initialCapacityProviderState, context());
    const state = events.reduce(evolveCapacityProvider, initialCapacityProviderState);
    if (state.status === 'Absent') throw new Error('expected a provider');
    const view = capacityProviderView(state);
    expect(view).toMatchObject({
      State: 'Pending',
      InstanceRequirements: { Architectures: ['arm64'], ExcludedInstanceTypes: ['r8g.*'] },
      CapacityProviderScalingConfig: {
        MaxVCpuCount: 400,
        ScalingMode: 'Manual',
        ScalingPolicies: [{ PredefinedMetricType: 'LambdaCapacityProviderAverageCPUUtilization', TargetValue: 30 }],
      },
      KmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:alias/ebs',
      PropagateTags: { Mode: 'Explicit', ExplicitTags: { cost: 'x' } },
    });
    expect(view).not.toHaveProperty('Tags');
    expect(view.InstanceRequirements).not.toHaveProperty('AllowedInstanceTypes');
  });

  it('shares nothing with the state', () => {
    const state = existing('cp1');
    const view = capacityProviderView(state);
    view.VpcConfig.SubnetIds.push('subnet-9');
    view.InstanceRequirements?.Architectures?.push('arm64');
    expect(state.definition.VpcConfig.SubnetIds).toHaveLength(3);
    expect(state.definition.InstanceRequirements.Architectures).toEqual(['x86_64']);
  });
});

describe('requireCapacityProvider', () => {
  it('returns an existing provider by name or ARN', () => {
    const state = existing('cp1');
    expect(requireCapacityProvider(state, 'cp1', scope)).toBe(state);
    expect(requireCapacityProvider(state, providerArn(), scope)).toBe(state);
  });

  it('reports a missing provider by ARN', () => {
    expectError(
      () => requireCapacityProvider(initialCapacityProviderState, 'cp1', scope),
      ResourceNotFoundException,
      `Capacity provider not found: ${providerArn()}`,
    );
  });
});

describe('listCapacityProviders', () => {
  const providers = [existing('c'), existing('a', 'Pending'), existing('b'), existing('d', 'Deleting')].map(capacityProviderView);

  it('lists in ARN order with paging', () => {
    const first = listCapacityProviders(providers, { MaxItems: 2 });
    expect(first.CapacityProviders.map((p) => p.CapacityProviderArn)).toEqual([providerArn('a'), providerArn('b')]);
    expect(first.NextMarker).toBe(encodeMarker(providerArn('b')));
    const second = listCapacityProviders(providers, { MaxItems: 2, Marker: first.NextMarker });
    expect(second).toEqual({ CapacityProviders: [providers[0], providers[3]] });
  });

  it('filters by State', () => {
    expect(listCapacityProviders(providers, { State: 'Active' }).CapacityProviders.map((p) => p.CapacityProviderArn)).toEqual([
      providerArn('b'),
      providerArn('c'),
    ]);
  });

  it('returns an empty list without a marker when there is nothing', () => {
    expect(listCapacityProviders([])).toEqual({ CapacityProviders: [] });
  });

  it.each<[Record<string, unknown>, string]>([
    [{ State: 'Ready' }, 'State "Ready" is not supported (allowed: Pending, Active, Failed, Deleting)'],
    [{ MaxItems: 51 }, 'MaxItems 51 is out of range (allowed: 1–50)'],
    [{ Marker: 'not a marker' }, 'Marker "not a marker" is invalid (allowed: a NextMarker returned by the previous call)'],
  ])('rejects %j', (request, message) => {
    expectError(() => listCapacityProviders(providers, request), InvalidParameterValueException, message);
  });
});

describe('listFunctionVersionsByCapacityProvider', () => {
  const versions = [
    { FunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:b:1', State: 'Active' as const },
    { FunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:a:2', State: 'Pending' as const },
    { FunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:a:1', State: 'Failed' as const },
  ];

  it('lists versions in ARN order with paging', () => {
    const first = listFunctionVersionsByCapacityProvider(providerArn(), versions, { MaxItems: 2 });
    expect(first).toEqual({
      CapacityProviderArn: providerArn(),
      FunctionVersions: [versions[2], versions[1]],
      NextMarker: encodeMarker(versions[1]!.FunctionArn),
    });
    expect(listFunctionVersionsByCapacityProvider(providerArn(), versions, { Marker: first.NextMarker })).toEqual({
      CapacityProviderArn: providerArn(),
      FunctionVersions: [versions[0]],
    });
  });

  it('rejects MaxItems above 50', () => {
    expectError(
      () => listFunctionVersionsByCapacityProvider(providerArn(), versions, { MaxItems: 100 }),
      InvalidParameterValueException,
      'MaxItems 100 is out of range (allowed: 1–50)',
    );
  });
});
