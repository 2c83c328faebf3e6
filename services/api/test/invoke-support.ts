/** Function states built through the real domain decider, for the invoke path's unit tests. */
import {
  decideCapacityProvider,
  decideFunctionResult,
  defaultDomainLimits,
  evolveCapacityProvider,
  evolveFunction,
  initialCapacityProviderState,
  initialFunctionState,
  type CapacityProviderStreamState,
  type DomainContext,
  type FunctionCommand,
  type FunctionEvent,
  type FunctionStreamState,
} from '@hearth/domain';
import { createLogger } from '@hearth/telemetry';

export const scope = { region: 'us-east-1', accountId: '000000000000' };
export const fnArn = 'arn:aws:lambda:us-east-1:000000000000:function:fn1';
export const testLogger = createLogger('api-test');
testLogger.level = process.env.HEARTH_LOG_LEVEL ?? 'silent';

const providerArn = 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:cp1';

function context(): DomainContext {
  let next = 0;
  return {
    now: new Date('2025-12-01T12:00:00.000Z'),
    newId: () => `rev-${++next}`,
    ...scope,
    supportedRuntimes: new Set(['nodejs22.x']),
    limits: defaultDomainLimits,
  };
}

function provider(): CapacityProviderStreamState {
  const ctx = context();
  let state = initialCapacityProviderState;
  for (const command of [
    {
      type: 'CreateCapacityProvider',
      data: {
        request: {
          CapacityProviderName: 'cp1',
          VpcConfig: { SubnetIds: ['subnet-1'] },
          PermissionsConfig: { CapacityProviderOperatorRoleArn: 'arn:aws:iam::000000000000:role/op' },
        },
        capacityProviderCount: 0,
      },
    },
    { type: 'ActivateCapacityProvider', data: { CapacityProviderName: 'cp1' } },
  ] as const) {
    state = decideCapacityProvider(command as never, state, ctx).reduce(evolveCapacityProvider, state);
  }
  return state;
}

/** Every event a sequence of commands appends, with the state after each. */
export function history(commands: FunctionCommand[]): { events: FunctionEvent[]; state: FunctionStreamState } {
  const ctx = context();
  let state = initialFunctionState;
  const events: FunctionEvent[] = [];
  for (const command of commands) {
    const decided = decideFunctionResult(command, state, ctx).events;
    events.push(...decided);
    state = decided.reduce(evolveFunction, state);
  }
  return { events, state };
}

const active = provider();
export const commands = {
  create: (Timeout = 3): FunctionCommand => ({
    type: 'CreateFunction',
    data: {
      request: {
        FunctionName: 'fn1',
        Runtime: 'nodejs22.x',
        Role: 'arn:aws:iam::000000000000:role/fn',
        Handler: 'index.handler',
        Timeout,
        Code: { ZipFile: 'x' },
        CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn } },
      } as never,
      code: { sha256Hex: 'a'.repeat(64), CodeSha256: 'x', CodeSize: 1 },
      capacityProvider: active,
      functionVersionCount: 0,
    },
  }),
  publish: (PublishTo?: 'LATEST_PUBLISHED'): FunctionCommand => ({
    type: 'PublishVersion',
    data: { request: { FunctionName: 'fn1', ...(PublishTo ? { PublishTo } : {}) }, capacityProvider: active, functionVersionCount: 0 },
  }),
  activate: (Version: string): FunctionCommand => ({ type: 'ActivateVersion', data: { FunctionName: 'fn1', Version } }),
  fail: (Version: string): FunctionCommand => ({
    type: 'FailVersion',
    data: { FunctionName: 'fn1', Version, StateReasonCode: 'FunctionError.InitTimeout', StateReason: 'slow' },
  }),
};
