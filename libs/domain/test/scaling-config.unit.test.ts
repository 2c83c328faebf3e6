import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException, ResourceConflictException, ResourceNotFoundException } from '@hearth/errors';
import {
  decideFunctionResult,
  desiredEnvironmentsOf,
  evolveFunction,
  findVersion,
  getFunctionScalingConfigView,
  initialFunctionState,
  resolveInvocationQualifier,
  validateFunctionScalingConfig,
  type DomainContext,
  type FunctionCommand,
  type FunctionDecision,
  type FunctionStreamState,
} from '@hearth/domain';
import { code, context, createFunctionRequest, expectError, lambdaNow, newCode, providerState, scope } from './fixtures.js';

const active = providerState('Active');
const fnArn = 'arn:aws:lambda:us-east-1:123456789012:function:fn1';
const stateConflict = (state: string) => `The operation cannot be performed at this time. The function is currently in the following state: ${state}`;

const create: FunctionCommand = { type: 'CreateFunction', data: { request: createFunctionRequest(), code, capacityProvider: active, functionVersionCount: 0 } };
const publish = (body: Record<string, unknown> = {}): FunctionCommand => ({
  type: 'PublishVersion',
  data: { request: { FunctionName: 'fn1', ...body }, capacityProvider: active, functionVersionCount: 0 },
});
const updateCode: FunctionCommand = {
  type: 'UpdateFunctionCode',
  data: { request: { FunctionName: 'fn1' }, code: newCode, capacityProvider: active, functionVersionCount: 0 },
};
const activate = (Version: string): FunctionCommand => ({ type: 'ActivateVersion', data: { FunctionName: 'fn1', Version } });
const fail = (Version: string): FunctionCommand => ({
  type: 'FailVersion',
  data: { FunctionName: 'fn1', Version, StateReasonCode: 'InsufficientCapacity', StateReason: 'boom' },
});
const complete = (Version: string): FunctionCommand => ({ type: 'CompleteVersionDeletion', data: { FunctionName: 'fn1', Version } });
const report = (Version: string, ReadyEnvironments: number, Min: number, Max?: number, LimitReason?: string): FunctionCommand => ({
  type: 'ReportVersionScaling',
  data: { FunctionName: 'fn1', Version, ReadyEnvironments, Min, ...(Max === undefined ? {} : { Max }), ...(LimitReason === undefined ? {} : { LimitReason }) },
});
const put = (Qualifier: string | undefined, config?: Record<string, unknown>): FunctionCommand => ({
  type: 'PutFunctionScalingConfig',
  data: {
    request: { FunctionName: 'fn1', ...(Qualifier === undefined ? {} : { Qualifier }), ...(config === undefined ? {} : { FunctionScalingConfig: config }) },
  },
});
const pair = (MinExecutionEnvironments: number, MaxExecutionEnvironments?: number) => ({
  MinExecutionEnvironments,
  ...(MaxExecutionEnvironments === undefined ? {} : { MaxExecutionEnvironments }),
});

function run(commands: FunctionCommand[], state: FunctionStreamState = initialFunctionState, ctx: DomainContext = context()) {
  const decisions: FunctionDecision[] = [];
  for (const command of commands) {
    const decision = decideFunctionResult(command, state, ctx);
    decisions.push(decision);
    state = decision.events.reduce(evolveFunction, state);
  }
  return { decisions, events: decisions.map((decision) => decision.events), state };
}

function version(state: FunctionStreamState, qualifier: string) {
  if (state.status === 'Absent') throw new Error('expected a function');
  const record = findVersion(state, qualifier);
  if (record === undefined) throw new Error(`expected version ${qualifier}`);
  return record;
}

const get = (state: FunctionStreamState, Qualifier?: string) =>
  getFunctionScalingConfigView(state, { FunctionName: 'fn1', ...(Qualifier === undefined ? {} : { Qualifier }) }, scope);

const activeV1 = run([create, publish(), activate('1')]).state;
const pendingV1 = run([create, publish()]).state;

describe('validateFunctionScalingConfig', () => {
  it('fills omitted members with their defaults (pair semantics)', () => {
    expect(validateFunctionScalingConfig(undefined)).toEqual({ Min: 3 });
    expect(validateFunctionScalingConfig({})).toEqual({ Min: 3 });
    expect(validateFunctionScalingConfig({ MinExecutionEnvironments: 1 })).toEqual({ Min: 1 });
    expect(validateFunctionScalingConfig({ MaxExecutionEnvironments: 10 })).toEqual({ Min: 3, Max: 10 });
    expect(validateFunctionScalingConfig(pair(1, 5))).toEqual({ Min: 1, Max: 5 });
    expect(validateFunctionScalingConfig(pair(0, 0))).toEqual({ Min: 0, Max: 0 });
    expect(validateFunctionScalingConfig(pair(15000, 15000))).toEqual({ Min: 15000, Max: 15000 });
  });

  it.each([
    [{ MinExecutionEnvironments: -1 }, 'FunctionScalingConfig.MinExecutionEnvironments -1 is out of range (allowed: 0–15000)'],
    [{ MaxExecutionEnvironments: 15001 }, 'FunctionScalingConfig.MaxExecutionEnvironments 15001 is out of range (allowed: 0–15000)'],
    [{ MinExecutionEnvironments: 1.5 }, 'FunctionScalingConfig.MinExecutionEnvironments 1.5 is not a whole number (allowed: whole numbers 0–15000)'],
    [{ MinExecutionEnvironments: 'x' }, 'FunctionScalingConfig.MinExecutionEnvironments must be a number (got "x")'],
    [
      pair(5, 2),
      'FunctionScalingConfig.MinExecutionEnvironments 5 is greater than FunctionScalingConfig.MaxExecutionEnvironments 2 (allowed: MinExecutionEnvironments ≤ MaxExecutionEnvironments)',
    ],
    [
      { MaxExecutionEnvironments: 0 },
      'FunctionScalingConfig.MinExecutionEnvironments 3 (the default, as it was omitted; the two are set as a pair) is greater than FunctionScalingConfig.MaxExecutionEnvironments 0 (allowed: MinExecutionEnvironments ≤ MaxExecutionEnvironments)',
    ],
    [
      { MinExecutionEnvironments: 0 },
      'FunctionScalingConfig.MinExecutionEnvironments 0 requires FunctionScalingConfig.MaxExecutionEnvironments 0, which deactivates the version; got MaxExecutionEnvironments unbounded (omitted) (allowed: MinExecutionEnvironments 1–15000, or 0 together with MaxExecutionEnvironments 0)',
    ],
    [
      pair(0, 4),
      'FunctionScalingConfig.MinExecutionEnvironments 0 requires FunctionScalingConfig.MaxExecutionEnvironments 0, which deactivates the version; got MaxExecutionEnvironments 4 (allowed: MinExecutionEnvironments 1–15000, or 0 together with MaxExecutionEnvironments 0)',
    ],
    ['x', 'FunctionScalingConfig must be an object (got "x")'],
  ])('rejects %j', (config, message) => {
    expectError(() => validateFunctionScalingConfig(config), InvalidParameterValueException, message);
  });
});

describe('PutFunctionScalingConfig', () => {
  it('requires a Qualifier of $LATEST.PUBLISHED or a version number', () => {
    const allowed = '(allowed: $LATEST.PUBLISHED or a version number)';
    expectError(() => run([put(undefined, pair(1, 5))], activeV1), InvalidParameterValueException, `Qualifier is required ${allowed}`);
    expectError(() => run([put('', pair(1, 5))], activeV1), InvalidParameterValueException, `Qualifier is required ${allowed}`);
    expectError(() => run([put('$LATEST', pair(1, 5))], activeV1), InvalidParameterValueException, `Qualifier "$LATEST" is invalid ${allowed}`);
    expectError(() => get(activeV1), InvalidParameterValueException, `Qualifier is required ${allowed}`);
  });

  it('validates the request before looking the function up', () => {
    expectError(
      () => run([put('1', pair(0, 4))], initialFunctionState),
      InvalidParameterValueException,
      'FunctionScalingConfig.MinExecutionEnvironments 0 requires FunctionScalingConfig.MaxExecutionEnvironments 0, which deactivates the version; got MaxExecutionEnvironments 4 (allowed: MinExecutionEnvironments 1–15000, or 0 together with MaxExecutionEnvironments 0)',
    );
    expectError(() => run([put('1', pair(1, 5))], initialFunctionState), ResourceNotFoundException, `Function not found: ${fnArn}:1`);
    expectError(() => run([put('7', pair(1, 5))], activeV1), ResourceNotFoundException, `Function not found: ${fnArn}:7`);
  });

  it('defaults: min 3, max unbounded, no Requested', () => {
    expect(get(activeV1, '1')).toEqual({ FunctionArn: `${fnArn}:1`, AppliedFunctionScalingConfig: { MinExecutionEnvironments: 3 } });
    expect(get(pendingV1, '1')).toEqual({ FunctionArn: `${fnArn}:1`, AppliedFunctionScalingConfig: { MinExecutionEnvironments: 3 } });
    expect(desiredEnvironmentsOf(version(activeV1, '1'))).toBe(3);
  });

  it('records a pair on an Active version as Requested until the scaler reports the fleet within it; an unchanged Put appends nothing', () => {
    const { events, state } = run([put('1', pair(4, 5)), put('1', pair(4, 5))], activeV1);
    expect(events).toEqual([[{ type: 'FunctionScalingConfigPut', data: { Version: '1', Min: 4, Max: 5 } }], []]);
    expect(version(state, '1').State).toBe('Active');
    expect(get(state, '1')).toEqual({
      FunctionArn: `${fnArn}:1`,
      AppliedFunctionScalingConfig: { MinExecutionEnvironments: 3 },
      RequestedFunctionScalingConfig: { MinExecutionEnvironments: 4, MaxExecutionEnvironments: 5 },
    });
    expect(desiredEnvironmentsOf(version(state, '1'))).toBe(4);

    // Not there yet (3 Ready of min 4), or a report about another config: nothing changes.
    expect(run([report('1', 3, 4, 5), report('1', 4, 1, 5)], state).events).toEqual([[], []]);
    const converged = run([report('1', 4, 4, 5), report('1', 4, 4, 5)], state);
    expect(converged.events).toEqual([[{ type: 'FunctionScalingConfigApplied', data: { Version: '1', Min: 4, Max: 5 } }], []]);
    expect(get(converged.state, '1')).toEqual({
      FunctionArn: `${fnArn}:1`,
      AppliedFunctionScalingConfig: { MinExecutionEnvironments: 4, MaxExecutionEnvironments: 5 },
    });
  });

  it('ignores reports on a version that is not Active', () => {
    expect(run([report('1', 3, 3)], pendingV1).events).toEqual([[]]);
    expect(run([report('1', 3, 3, undefined, 'limited')], pendingV1).events).toEqual([[]]);
  });

  it('shows Requested while a Pending version has not converged, Applied once Active', () => {
    const pending = run([put('1', pair(2, 8))], pendingV1).state;
    expect(get(pending, '1')).toEqual({
      FunctionArn: `${fnArn}:1`,
      AppliedFunctionScalingConfig: { MinExecutionEnvironments: 3 },
      RequestedFunctionScalingConfig: { MinExecutionEnvironments: 2, MaxExecutionEnvironments: 8 },
    });
    expect(desiredEnvironmentsOf(version(pending, '1'))).toBe(2);
    const activated = run([activate('1')], pending).state;
    expect(get(activated, '1')).toEqual({
      FunctionArn: `${fnArn}:1`,
      AppliedFunctionScalingConfig: { MinExecutionEnvironments: 2, MaxExecutionEnvironments: 8 },
    });
  });

  it('refuses 0/0 while a publish is in progress', () => {
    expectError(
      () => run([put('1', pair(0, 0))], pendingV1),
      ResourceConflictException,
      `The operation cannot be performed at this time. An update is in progress for resource: ${fnArn}:1`,
    );
  });

  it('refuses a Failed version with ResourceConflictException', () => {
    const failed = run([fail('1')], pendingV1).state;
    expectError(() => run([put('1', pair(1, 5))], failed), ResourceConflictException, stateConflict('Failed'));
  });

  it('refuses a version being deleted', () => {
    const deleting = run([{ type: 'DeleteFunction', data: { request: { FunctionName: 'fn1', Qualifier: '1' } } }], activeV1).state;
    expectError(() => run([put('1', pair(1, 5))], deleting), ResourceConflictException, stateConflict('Deleting'));
  });
});

describe('capacity limit reason', () => {
  const reason = "The capacity provider's MaxVCpuCount (12 vCPUs) limits this version to 6 execution environments of the 9 its load asks for";

  it('sets CapacityProviderScalingLimitExceeded on an Active version while the limit binds, clears it after', () => {
    const limited = run([report('1', 6, 3, undefined, reason), report('1', 6, 3, undefined, reason)], activeV1);
    expect(limited.events).toEqual([
      [{ type: 'FunctionVersionScalingLimited', data: { Version: '1', StateReasonCode: 'CapacityProviderScalingLimitExceeded', StateReason: reason } }],
      [],
    ]);
    expect(version(limited.state, '1')).toMatchObject({ State: 'Active', StateReasonCode: 'CapacityProviderScalingLimitExceeded', StateReason: reason });
    // Still invocable: the limit throttles what is beyond it, nothing else.
    expect(resolveInvocationQualifier(limited.state, 'fn1', '1', scope).Version).toBe('1');

    const cleared = run([report('1', 6, 3), report('1', 6, 3)], limited.state);
    expect(cleared.events).toEqual([[{ type: 'FunctionVersionScalingLimitCleared', data: { Version: '1' } }], []]);
    expect(version(cleared.state, '1').StateReasonCode).toBeUndefined();
    expect(version(cleared.state, '1').StateReason).toBeUndefined();
  });

  it('refuses a negative Ready count', () => {
    expectError(() => run([report('1', -1, 3)], activeV1), InvalidParameterValueException, 'ReadyEnvironments -1 is out of range (allowed: 0–1000000)');
  });
});

describe('deactivation and reactivation', () => {
  const deactivating = run([put('1', pair(0, 0))], activeV1);

  it('0/0 on an Active version: Deactivating, then Deactivated when the teardown completes', () => {
    expect(deactivating.decisions[0]).toEqual({
      events: [
        { type: 'FunctionScalingConfigPut', data: { Version: '1', Min: 0, Max: 0 } },
        { type: 'FunctionVersionDeactivationStarted', data: { Version: '1', LastModified: lambdaNow } },
      ],
      version: '1',
    });
    expect(version(deactivating.state, '1').State).toBe('Deactivating');
    expect(get(deactivating.state, '1')).toEqual({
      FunctionArn: `${fnArn}:1`,
      AppliedFunctionScalingConfig: { MinExecutionEnvironments: 3 },
      RequestedFunctionScalingConfig: { MinExecutionEnvironments: 0, MaxExecutionEnvironments: 0 },
    });
    expect(desiredEnvironmentsOf(version(deactivating.state, '1'))).toBe(0);

    const { events, state } = run([complete('1'), complete('1')], deactivating.state);
    expect(events).toEqual([[{ type: 'FunctionVersionDeactivated', data: { Version: '1', LastModified: lambdaNow } }], []]);
    expect(version(state, '1').State).toBe('Deactivated');
    expect(get(state, '1')).toEqual({
      FunctionArn: `${fnArn}:1`,
      AppliedFunctionScalingConfig: { MinExecutionEnvironments: 0, MaxExecutionEnvironments: 0 },
    });
  });

  it('refuses invocations while Deactivating or Deactivated', () => {
    const deactivated = run([complete('1')], deactivating.state).state;
    expectError(() => resolveInvocationQualifier(deactivating.state, 'fn1', '1', scope), ResourceConflictException, stateConflict('Deactivating'));
    expectError(() => resolveInvocationQualifier(deactivated, 'fn1', '1', scope), ResourceConflictException, stateConflict('Deactivated'));
  });

  it('accepts 0/0 again without events, refuses a non-zero config until Deactivated', () => {
    expect(run([put('1', pair(0, 0))], deactivating.state).events).toEqual([[]]);
    expectError(
      () => run([put('1', pair(1, 5))], deactivating.state),
      ResourceConflictException,
      `${stateConflict('Deactivating')} (a non-zero FunctionScalingConfig is accepted once the version is Deactivated)`,
    );
  });

  it('a non-zero Put reactivates a Deactivated version: Pending, then Active with the new config applied', () => {
    const deactivated = run([complete('1')], deactivating.state).state;
    expect(run([put('1', pair(0, 0))], deactivated).events).toEqual([[]]);
    const reactivating = run([put('1', pair(2, 4))], deactivated);
    expect(reactivating.events[0]).toEqual([
      { type: 'FunctionScalingConfigPut', data: { Version: '1', Min: 2, Max: 4 } },
      { type: 'FunctionVersionReactivationStarted', data: { Version: '1', LastModified: lambdaNow } },
    ]);
    expect(version(reactivating.state, '1')).toMatchObject({ State: 'Pending', StateReasonCode: 'Creating' });
    expect(desiredEnvironmentsOf(version(reactivating.state, '1'))).toBe(2);
    const reactivated = run([activate('1')], reactivating.state).state;
    expect(version(reactivated, '1').State).toBe('Active');
    expect(get(reactivated, '1')).toEqual({
      FunctionArn: `${fnArn}:1`,
      AppliedFunctionScalingConfig: { MinExecutionEnvironments: 2, MaxExecutionEnvironments: 4 },
    });
    expect(resolveInvocationQualifier(reactivated, 'fn1', '1', scope).Version).toBe('1');
  });

  it('a teardown of a version being deleted still deletes it', () => {
    const deleting = run([{ type: 'DeleteFunction', data: { request: { FunctionName: 'fn1', Qualifier: '1' } } }], deactivating.state).state;
    expect(run([complete('1')], deleting).events).toEqual([[{ type: 'FunctionVersionDeleted', data: { Version: '1' } }]]);
  });
});

describe('propagation', () => {
  const latestPublished = run([create, publish({ PublishTo: 'LATEST_PUBLISHED' }), activate('$LATEST.PUBLISHED')]).state;

  it('a $LATEST.PUBLISHED config carries over to its next republish', () => {
    const { state } = run(
      [put('$LATEST.PUBLISHED', pair(1, 6)), report('$LATEST.PUBLISHED', 3, 1, 6), updateCode, publish({ PublishTo: 'LATEST_PUBLISHED' })],
      latestPublished,
    );
    expect(version(state, '$LATEST.PUBLISHED')).toMatchObject({ State: 'Active', LastUpdateStatus: 'InProgress', scalingConfig: { Min: 1, Max: 6 } });
    expect(desiredEnvironmentsOf(version(state, '$LATEST.PUBLISHED'))).toBe(1);
    expect(get(state, '$LATEST.PUBLISHED').AppliedFunctionScalingConfig).toEqual({ MinExecutionEnvironments: 1, MaxExecutionEnvironments: 6 });
  });

  it('a deactivated $LATEST.PUBLISHED stays Deactivated when republished; a republish while Deactivating is refused', () => {
    const deactivating = run([put('$LATEST.PUBLISHED', pair(0, 0)), updateCode], latestPublished).state;
    expectError(() => run([publish({ PublishTo: 'LATEST_PUBLISHED' })], deactivating), ResourceConflictException, stateConflict('Deactivating'));
    const { events, state } = run([complete('$LATEST.PUBLISHED'), publish({ PublishTo: 'LATEST_PUBLISHED' })], deactivating);
    expect(events[1]?.map((event) => event.type)).toEqual(['FunctionVersionPublished']);
    expect(version(state, '$LATEST.PUBLISHED')).toMatchObject({ State: 'Deactivated', LastUpdateStatus: 'Successful', code: newCode });
    expect(desiredEnvironmentsOf(version(state, '$LATEST.PUBLISHED'))).toBe(0);
  });

  it('a config on a numbered version does not carry to new versions', () => {
    const { state } = run([put('1', pair(1, 2)), report('1', 2, 1, 2), updateCode, publish(), activate('2')], activeV1);
    expect(get(state, '2')).toEqual({ FunctionArn: `${fnArn}:2`, AppliedFunctionScalingConfig: { MinExecutionEnvironments: 3 } });
    expect(desiredEnvironmentsOf(version(state, '2'))).toBe(3);
    expect(get(state, '1').AppliedFunctionScalingConfig).toEqual({ MinExecutionEnvironments: 1, MaxExecutionEnvironments: 2 });
  });
});
