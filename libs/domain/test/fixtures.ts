/** Shared builders for the domain's unit tests. */
import { expect } from 'vitest';
import type { LambdaError } from '@hearth/errors';
import {
  decideCapacityProvider,
  defaultDomainLimits,
  evolveCapacityProvider,
  initialCapacityProviderState,
  type Architecture,
  type CapacityProviderStreamState,
  type CodeRef,
  type CreateCapacityProviderRequest,
  type CreateFunctionRequest,
  type DomainContext,
} from '@hearth/domain';

export const region = 'us-east-1';
export const accountId = '123456789012';
export const scope = { region, accountId };
export const operatorRoleArn = 'arn:aws:iam::123456789012:role/lmi-operator';
export const roleArn = 'arn:aws:iam::123456789012:role/lambda-role';
export const now = new Date('2025-12-01T12:34:56.789Z');
export const lambdaNow = '2025-12-01T12:34:56.789+0000';
export const runtimes = new Set(['nodejs22.x', 'nodejs24.x', 'python3.13', 'python3.14']);

/** A context whose ids count up from `rev-1`. */
export function context(overrides: Partial<DomainContext> = {}): DomainContext {
  let next = 0;
  return {
    now,
    newId: () => `rev-${++next}`,
    region,
    accountId,
    supportedRuntimes: runtimes,
    limits: defaultDomainLimits,
    ...overrides,
  };
}

export function providerArn(name = 'cp1'): string {
  return `arn:aws:lambda:${region}:${accountId}:capacity-provider:${name}`;
}

export function createProviderRequest(overrides: Record<string, unknown> = {}): CreateCapacityProviderRequest {
  return {
    CapacityProviderName: 'cp1',
    VpcConfig: { SubnetIds: ['subnet-1', 'subnet-2', 'subnet-3'], SecurityGroupIds: ['sg-1'] },
    PermissionsConfig: { CapacityProviderOperatorRoleArn: operatorRoleArn },
    ...overrides,
  } as CreateCapacityProviderRequest;
}

/** The state of a provider created (and, unless Pending, activated / failed / deleting) through the decider. */
export function providerState(
  status: 'Pending' | 'Active' | 'Failed' | 'Deleting' = 'Active',
  architecture: Architecture = 'x86_64',
  name = 'cp1',
): CapacityProviderStreamState {
  const ctx = context();
  const decide = (command: Parameters<typeof decideCapacityProvider>[0], state: CapacityProviderStreamState) =>
    decideCapacityProvider(command, state, ctx).reduce(evolveCapacityProvider, state);
  let state = decide(
    {
      type: 'CreateCapacityProvider',
      data: {
        request: createProviderRequest({ CapacityProviderName: name, InstanceRequirements: { Architectures: [architecture] } }),
        capacityProviderCount: 0,
      },
    },
    initialCapacityProviderState,
  );
  if (status === 'Failed') return decide({ type: 'FailCapacityProvider', data: { CapacityProviderName: name, reason: 'boom' } }, state);
  if (status === 'Pending') return state;
  state = decide({ type: 'ActivateCapacityProvider', data: { CapacityProviderName: name } }, state);
  if (status === 'Deleting') {
    return decide({ type: 'StartCapacityProviderDeletion', data: { CapacityProviderName: name, attachedFunctionVersions: 0 } }, state);
  }
  return state;
}

export const code: CodeRef = {
  sha256Hex: 'a'.repeat(64),
  CodeSha256: 'qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=',
  CodeSize: 1234,
};

export const newCode: CodeRef = {
  sha256Hex: 'b'.repeat(64),
  CodeSha256: 'u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7s=',
  CodeSize: 4321,
};

export function createFunctionRequest(overrides: Record<string, unknown> = {}): CreateFunctionRequest {
  return {
    FunctionName: 'fn1',
    Runtime: 'nodejs22.x',
    Role: roleArn,
    Handler: 'index.handler',
    Code: { ZipFile: 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==' },
    CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn() } },
    ...overrides,
  } as CreateFunctionRequest;
}

/** Runs `fn`, which must throw a LambdaError of `type` with exactly `message`. */
export function expectError(fn: () => unknown, type: abstract new (...args: never[]) => LambdaError, message: string): void {
  let error: unknown;
  try {
    fn();
  } catch (caught) {
    error = caught;
  }
  expect(error, 'expected an error').toBeInstanceOf(type);
  expect((error as Error).message).toBe(message);
}
