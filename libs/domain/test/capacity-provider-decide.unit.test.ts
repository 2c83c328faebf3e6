import { describe, expect, it } from 'vitest';
import {
  CapacityProviderLimitExceededException,
  InvalidParameterValueException,
  ResourceConflictException,
  ResourceNotFoundException,
} from '@hearth/errors';
import {
  capacityProviderView,
  decideCapacityProvider,
  evolveCapacityProvider,
  foldCapacityProvider,
  initialCapacityProviderState,
  validateCreateCapacityProvider,
  type CapacityProviderCommand,
  type CapacityProviderEvent,
  type CapacityProviderStreamState,
  type ExistingCapacityProvider,
} from '@hearth/domain';
import { context, createProviderRequest, expectError, lambdaNow, providerArn, providerState, scope } from './fixtures.js';

const ctx = context();
const name = 'cp1';
const cpu = 'LambdaCapacityProviderAverageCPUUtilization';

function run(state: CapacityProviderStreamState, command: CapacityProviderCommand): [CapacityProviderEvent[], CapacityProviderStreamState] {
  const events = decideCapacityProvider(command, state, ctx);
  return [events, events.reduce(evolveCapacityProvider, state)];
}

const create = (request = createProviderRequest(), capacityProviderCount = 0): CapacityProviderCommand => ({
  type: 'CreateCapacityProvider',
  data: { request, capacityProviderCount },
});
const activate: CapacityProviderCommand = { type: 'ActivateCapacityProvider', data: { CapacityProviderName: name } };
const fail: CapacityProviderCommand = { type: 'FailCapacityProvider', data: { CapacityProviderName: name, reason: 'no subnet in a supported zone' } };
const update = (body: Record<string, unknown>): CapacityProviderCommand => ({
  type: 'UpdateCapacityProvider',
  data: { request: { CapacityProviderName: name, ...body } },
});
const startDeletion = (attachedFunctionVersions = 0, attachedFunctionVersionArns?: string[]): CapacityProviderCommand => ({
  type: 'StartCapacityProviderDeletion',
  data: { CapacityProviderName: name, attachedFunctionVersions, ...(attachedFunctionVersionArns ? { attachedFunctionVersionArns } : {}) },
});
const completeDeletion: CapacityProviderCommand = { type: 'CompleteCapacityProviderDeletion', data: { CapacityProviderName: name } };

function existing(state: CapacityProviderStreamState): ExistingCapacityProvider {
  if (state.status === 'Absent') throw new Error('expected an existing provider');
  return state;
}

describe('capacity provider lifecycle', () => {
  it('creates, activates, updates, deletes and creates again', () => {
    let state = initialCapacityProviderState;
    let events: CapacityProviderEvent[];

    [events, state] = run(state, create());
    expect(events).toEqual([
      {
        type: 'CapacityProviderCreated',
        data: {
          CapacityProvider: validateCreateCapacityProvider(createProviderRequest(), scope),
          CapacityProviderArn: providerArn(),
          LastModified: lambdaNow,
        },
      },
    ]);
    expect(state.status).toBe('Pending');

    [events, state] = run(state, activate);
    expect(events).toEqual([{ type: 'CapacityProviderActivated', data: { LastModified: lambdaNow } }]);
    expect(state.status).toBe('Active');

    [events, state] = run(state, update({ CapacityProviderScalingConfig: { MaxVCpuCount: 800 } }));
    expect(events).toEqual([
      {
        type: 'CapacityProviderUpdated',
        data: { changes: { CapacityProviderScalingConfig: { MaxVCpuCount: 800, ScalingMode: 'Auto' } }, LastModified: lambdaNow },
      },
    ]);
    expect(existing(state).definition.CapacityProviderScalingConfig.MaxVCpuCount).toBe(800);

    [events, state] = run(state, startDeletion());
    expect(events).toEqual([{ type: 'CapacityProviderDeletionStarted', data: { LastModified: lambdaNow } }]);
    expect(state.status).toBe('Deleting');

    [events, state] = run(state, completeDeletion);
    expect(events).toEqual([{ type: 'CapacityProviderDeleted', data: { LastModified: lambdaNow } }]);
    expect(state).toEqual({ status: 'Absent' });

    [events, state] = run(state, create(createProviderRequest({ InstanceRequirements: { Architectures: ['arm64'] } })));
    expect(events.map((event) => event.type)).toEqual(['CapacityProviderCreated']);
    expect(existing(state).definition.InstanceRequirements.Architectures).toEqual(['arm64']);
    expect(existing(state).definition.CapacityProviderScalingConfig.MaxVCpuCount).toBe(400);
  });

  it('folds a stream the same way', () => {
    const events = [create(), activate, startDeletion()].reduce<{ state: CapacityProviderStreamState; events: CapacityProviderEvent[] }>(
      (acc, command) => {
        const produced = decideCapacityProvider(command, acc.state, ctx);
        return { state: produced.reduce(evolveCapacityProvider, acc.state), events: [...acc.events, ...produced] };
      },
      { state: initialCapacityProviderState, events: [] },
    ).events;
    expect(foldCapacityProvider(events).status).toBe('Deleting');
  });

  it('records why creation failed', () => {
    const [events, state] = run(providerState('Pending'), fail);
    expect(events).toEqual([{ type: 'CapacityProviderFailed', data: { reason: 'no subnet in a supported zone', LastModified: lambdaNow } }]);
    expect(existing(state)).toMatchObject({ status: 'Failed', stateReason: 'no subnet in a supported zone' });
  });
});

describe('repeated commands produce no events', () => {
  it.each<[string, CapacityProviderStreamState, CapacityProviderCommand]>([
    ['Activate on Active', providerState('Active'), activate],
    ['Fail on Failed', providerState('Failed'), fail],
    ['StartDeletion on Deleting', providerState('Deleting'), startDeletion()],
    ['CompleteDeletion on a deleted stream', initialCapacityProviderState, completeDeletion],
    ['an Update that restates the configuration', providerState('Active'), update({ CapacityProviderScalingConfig: { MaxVCpuCount: 400 } })],
    ['an empty Update', providerState('Active'), update({})],
  ])('%s', (_case, state, command) => {
    expect(decideCapacityProvider(command, state, ctx)).toEqual([]);
  });
});

describe('capacity provider conflicts and errors', () => {
  const notFound = `Capacity provider not found: ${providerArn()}`;

  it.each<[string, CapacityProviderStreamState, CapacityProviderCommand, abstract new (...args: never[]) => Error, string]>([
    ['Create on an existing name', providerState('Active'), create(), ResourceConflictException, 'Capacity provider cp1 already exists'],
    ['Create while Deleting', providerState('Deleting'), create(), ResourceConflictException, 'Capacity provider cp1 already exists'],
    [
      'Create beyond the quota',
      initialCapacityProviderState,
      create(createProviderRequest(), 1000),
      CapacityProviderLimitExceededException,
      'Account 123456789012 already has 1000 capacity providers (allowed: at most 1000 per account)',
    ],
    ['Activate of nothing', initialCapacityProviderState, activate, ResourceNotFoundException, notFound],
    [
      'Activate of a Failed provider',
      providerState('Failed'),
      activate,
      ResourceConflictException,
      "Capacity provider cp1 is Failed and can't become Active (allowed from: Pending)",
    ],
    [
      'Activate while Deleting',
      providerState('Deleting'),
      activate,
      ResourceConflictException,
      "Capacity provider cp1 is Deleting and can't become Active (allowed from: Pending)",
    ],
    [
      'Fail of an Active provider',
      providerState('Active'),
      fail,
      ResourceConflictException,
      "Capacity provider cp1 is Active and can't become Failed (allowed from: Pending)",
    ],
    ['Fail of nothing', initialCapacityProviderState, fail, ResourceNotFoundException, notFound],
    ['Update of nothing', initialCapacityProviderState, update({}), ResourceNotFoundException, notFound],
    ['Update while Deleting', providerState('Deleting'), update({}), ResourceConflictException, 'Capacity provider cp1 is being deleted'],
    [
      'Update of VpcConfig',
      providerState('Active'),
      update({ VpcConfig: { SubnetIds: ['subnet-9'] } }),
      InvalidParameterValueException,
      "UpdateCapacityProvider can't change VpcConfig (allowed: CapacityProviderScalingConfig, PropagateTags, TelemetryConfig)",
    ],
    ['StartDeletion of nothing', initialCapacityProviderState, startDeletion(), ResourceNotFoundException, notFound],
    [
      'StartDeletion with one version attached',
      providerState('Active'),
      startDeletion(1),
      ResourceConflictException,
      "Capacity provider cp1 can't be deleted while 1 function version uses it (delete those function versions first)",
    ],
    [
      'StartDeletion with named versions attached',
      providerState('Active'),
      startDeletion(2, ['arn:aws:lambda:us-east-1:123456789012:function:a:1', 'arn:aws:lambda:us-east-1:123456789012:function:b:3']),
      ResourceConflictException,
      "Capacity provider cp1 can't be deleted while 2 function versions use it: arn:aws:lambda:us-east-1:123456789012:function:a:1, arn:aws:lambda:us-east-1:123456789012:function:b:3 (delete those function versions first)",
    ],
    [
      'CompleteDeletion before StartDeletion',
      providerState('Active'),
      completeDeletion,
      ResourceConflictException,
      'Capacity provider cp1 is Active; its deletion has not started',
    ],
  ])('%s', (_case, state, command, type, message) => {
    expectError(() => decideCapacityProvider(command, state, ctx), type as never, message);
  });

  it('names at most ten attached versions', () => {
    const arns = Array.from({ length: 12 }, (_, i) => `arn:aws:lambda:us-east-1:123456789012:function:f${i}:1`);
    expectError(
      () => decideCapacityProvider(startDeletion(12, arns), providerState('Active'), ctx),
      ResourceConflictException,
      `Capacity provider cp1 can't be deleted while 12 function versions use it: ${arns.slice(0, 10).join(', ')} and 2 more (delete those function versions first)`,
    );
  });

  it('applies a configured quota', () => {
    const small = context({ limits: { capacityProvidersPerAccount: 2, functionVersionsPerCapacityProvider: 100 } });
    expect(decideCapacityProvider(create(createProviderRequest(), 1), initialCapacityProviderState, small)).toHaveLength(1);
    expectError(
      () => decideCapacityProvider(create(createProviderRequest(), 2), initialCapacityProviderState, small),
      CapacityProviderLimitExceededException,
      'Account 123456789012 already has 2 capacity providers (allowed: at most 2 per account)',
    );
  });

  it('validates before it looks for a conflict', () => {
    expectError(
      () => decideCapacityProvider(create(createProviderRequest({ VpcConfig: { SubnetIds: [] } })), providerState('Active'), ctx),
      InvalidParameterValueException,
      'VpcConfig.SubnetIds has 0 items (allowed: 1–16 items)',
    );
  });
});

describe('capacity provider updates', () => {
  const manualState = run(
    initialCapacityProviderState,
    create(
      createProviderRequest({
        CapacityProviderScalingConfig: { ScalingMode: 'Manual', ScalingPolicies: [{ PredefinedMetricType: cpu, TargetValue: 30 }] },
      }),
    ),
  )[1];

  it('accepts the name as an ARN', () => {
    const command: CapacityProviderCommand = {
      type: 'UpdateCapacityProvider',
      data: { request: { CapacityProviderName: providerArn(), TelemetryConfig: { LoggingConfig: { SystemLogLevel: 'WARN' } } } },
    };
    expect(decideCapacityProvider(command, providerState('Active'), ctx)).toEqual([
      {
        type: 'CapacityProviderUpdated',
        data: {
          changes: { TelemetryConfig: { LoggingConfig: { SystemLogLevel: 'WARN', LogGroup: '/aws/lambda/capacity-provider/cp1' } } },
          LastModified: lambdaNow,
        },
      },
    ]);
  });

  it('records only the members that changed', () => {
    const [events] = run(
      manualState,
      update({ CapacityProviderScalingConfig: { MaxVCpuCount: 400 }, PropagateTags: { Mode: 'Explicit', ExplicitTags: { a: 'b' } } }),
    );
    expect(events).toEqual([
      { type: 'CapacityProviderUpdated', data: { changes: { PropagateTags: { Mode: 'Explicit', ExplicitTags: { a: 'b' } } }, LastModified: lambdaNow } },
    ]);
  });

  it('switches Manual to Auto and drops the policies', () => {
    const [, state] = run(manualState, update({ CapacityProviderScalingConfig: { ScalingMode: 'Auto' } }));
    expect(existing(state).definition.CapacityProviderScalingConfig).toEqual({ MaxVCpuCount: 400, ScalingMode: 'Auto' });
  });

  it('updates a Pending or Failed provider', () => {
    for (const status of ['Pending', 'Failed'] as const) {
      expect(decideCapacityProvider(update({ CapacityProviderScalingConfig: { MaxVCpuCount: 8 } }), providerState(status), ctx)).toHaveLength(1);
    }
  });

  it('keeps the state and reason of a Failed provider through an update', () => {
    const [, state] = run(providerState('Failed'), update({ CapacityProviderScalingConfig: { MaxVCpuCount: 8 } }));
    expect(existing(state)).toMatchObject({ status: 'Failed', stateReason: 'boom' });
    expect(capacityProviderView(existing(state)).State).toBe('Failed');
  });
});
