import { describe, expect, it } from 'vitest';
import {
  FunctionVersionsPerCapacityProviderLimitExceededException,
  InvalidParameterValueException,
  PreconditionFailedException,
  ResourceConflictException,
  ResourceNotFoundException,
} from '@hearth/errors';
import {
  decideFunctionResult,
  evolveFunction,
  findVersion,
  foldFunction,
  functionConfigurationView,
  initialFunctionState,
  managedInstancesReasonCodes,
  nextVersionNumber,
  type CapacityProviderStreamState,
  type DomainContext,
  type ExistingFunction,
  type FunctionCommand,
  type FunctionDecision,
  type FunctionEvent,
  type FunctionStreamState,
  type ManagedInstancesReasonCode,
} from '@hearth/domain';
import { code, context, createFunctionRequest, expectError, lambdaNow, newCode, providerArn, providerState } from './fixtures.js';

const active = providerState('Active');
const fnArn = 'arn:aws:lambda:us-east-1:123456789012:function:fn1';
const revisionMessage =
  'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id';
const inProgress = (qualifier: string) =>
  `The operation cannot be performed at this time. An update is in progress for resource: ${fnArn}:${qualifier}`;
const stateConflict = (state: string) =>
  `The operation cannot be performed at this time. The function is currently in the following state: ${state}`;

type Provider = CapacityProviderStreamState | undefined;

const create = (overrides: Record<string, unknown> = {}, functionVersionCount = 0): FunctionCommand => ({
  type: 'CreateFunction',
  data: { request: createFunctionRequest(overrides), code, capacityProvider: active, functionVersionCount },
});
const publish = (body: Record<string, unknown> = {}, functionVersionCount = 0, capacityProvider: Provider = active): FunctionCommand => ({
  type: 'PublishVersion',
  data: { request: { FunctionName: 'fn1', ...body }, capacityProvider, functionVersionCount },
});
const publishLatest = (body: Record<string, unknown> = {}, count = 0) => publish({ PublishTo: 'LATEST_PUBLISHED', ...body }, count);
const configure = (body: Record<string, unknown>): FunctionCommand => ({
  type: 'UpdateFunctionConfiguration',
  data: { request: { FunctionName: 'fn1', ...body } },
});
const updateCode = (body: Record<string, unknown> = {}, newPackage = newCode, functionVersionCount = 0): FunctionCommand => ({
  type: 'UpdateFunctionCode',
  data: { request: { FunctionName: 'fn1', ...body }, code: newPackage, capacityProvider: active, functionVersionCount },
});
const activate = (Version: string, RevisionId?: string): FunctionCommand => ({
  type: 'ActivateVersion',
  data: { FunctionName: 'fn1', Version, ...(RevisionId === undefined ? {} : { RevisionId }) },
});
const fail = (Version: string, StateReasonCode: ManagedInstancesReasonCode = 'InsufficientCapacity', RevisionId?: string): FunctionCommand => ({
  type: 'FailVersion',
  data: { FunctionName: 'fn1', Version, StateReasonCode, StateReason: `boom: ${StateReasonCode}`, ...(RevisionId === undefined ? {} : { RevisionId }) },
});
const remove = (Qualifier?: string): FunctionCommand => ({
  type: 'DeleteFunction',
  data: { request: { FunctionName: 'fn1', ...(Qualifier === undefined ? {} : { Qualifier }) } },
});
const completeVersion = (Version: string): FunctionCommand => ({ type: 'CompleteVersionDeletion', data: { FunctionName: 'fn1', Version } });
const completeFunction: FunctionCommand = { type: 'CompleteFunctionDeletion', data: { FunctionName: 'fn1' } };

/** Runs commands in order with one context, as a service would over a stream. */
function run(commands: FunctionCommand[], state: FunctionStreamState = initialFunctionState, ctx: DomainContext = context()) {
  const decisions: FunctionDecision[] = [];
  for (const command of commands) {
    const decision = decideFunctionResult(command, state, ctx);
    decisions.push(decision);
    state = decision.events.reduce(evolveFunction, state);
  }
  return { decisions, events: decisions.map((decision) => decision.events), state };
}

function existing(state: FunctionStreamState): ExistingFunction {
  if (state.status === 'Absent') throw new Error('expected a function');
  return state;
}

function version(state: FunctionStreamState, qualifier: string) {
  const record = findVersion(existing(state), qualifier);
  if (record === undefined) throw new Error(`expected version ${qualifier}`);
  return record;
}

const types = (events: readonly FunctionEvent[] | undefined) => events?.map((event) => event.type);

const created = run([create()]).state;

describe('PublishVersion', () => {
  it('publishes a numbered version Pending with reason Creating, then activates it', () => {
    const { decisions, state } = run([publish({ Description: 'first' }), activate('1'), activate('1')], created);
    expect(decisions[0]).toEqual({
      events: [
        {
          type: 'FunctionVersionPublished',
          data: {
            Version: '1',
            configuration: existing(created).configuration,
            code,
            Description: 'first',
            RevisionId: 'rev-1',
            LastModified: lambdaNow,
          },
        },
      ],
      version: '1',
    });
    const pending = decisions[0]!.events.reduce(evolveFunction, created);
    expect(functionConfigurationView(existing(pending), { Version: '1' })).toMatchObject({
      FunctionArn: `${fnArn}:1`,
      Version: '1',
      State: 'Pending',
      StateReasonCode: 'Creating',
      StateReason: 'The function is being created.',
      LastUpdateStatus: 'Successful',
    });
    expect(decisions[1]?.events).toEqual([{ type: 'FunctionVersionActivated', data: { Version: '1', LastModified: lambdaNow } }]);
    expect(decisions[2]?.events).toEqual([]);
    expect(version(state, '1')).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful' });
    expect(version(state, '1')).not.toHaveProperty('StateReasonCode');
    expect(existing(state).RevisionId).toBe(existing(created).RevisionId);
  });

  it.each(managedInstancesReasonCodes.map((reasonCode) => [reasonCode]))('fails a Pending version with %s', (reasonCode) => {
    const { events, state } = run([publish(), fail('1', reasonCode), fail('1', reasonCode)], created);
    expect(events[1]).toEqual([
      { type: 'FunctionVersionFailed', data: { Version: '1', StateReasonCode: reasonCode, StateReason: `boom: ${reasonCode}`, LastModified: lambdaNow } },
    ]);
    expect(events[2]).toEqual([]);
    expect(functionConfigurationView(existing(state), { Version: '1' })).toMatchObject({
      State: 'Failed',
      StateReasonCode: reasonCode,
      StateReason: `boom: ${reasonCode}`,
    });
  });

  it('keeps version numbers monotonic across deletes', () => {
    const { events, state } = run(
      [
        publish(),
        configure({ Timeout: 10 }),
        publish(),
        remove('2'),
        completeVersion('2'),
        publish(), // $LATEST equals the deleted version 2 but not version 1: a new number
        remove('3'),
        remove('1'),
        completeVersion('3'),
        completeVersion('1'),
        configure({ Timeout: 11 }),
        publish(),
      ],
      created,
    );
    const publishedNumbers = events.flat().flatMap((event) => (event.type === 'FunctionVersionPublished' ? [event.data.Version] : []));
    expect(publishedNumbers).toEqual(['1', '2', '3', '4']);
    expect(Object.keys(existing(state).versions)).toEqual(['4']);
    expect(nextVersionNumber(existing(state))).toBe(5);
  });

  it('returns the latest version when code and configuration are unchanged', () => {
    const { decisions, state } = run(
      [publish(), publish({ Description: 'another description' }), activate('1'), publish(), configure({ Timeout: 9 }), publish()],
      created,
    );
    expect(decisions[1]).toEqual({ events: [], version: '1' });
    expect(decisions[3]).toEqual({ events: [], version: '1' });
    expect(decisions[5]?.version).toBe('2');
    expect(version(state, '1').Description).toBe('');
  });

  it('publishes again after the latest version was deleted', () => {
    const { decisions } = run([publish(), remove('1'), publish()], created);
    expect(decisions[2]?.version).toBe('2');
  });

  it('honours a matching RevisionId and CodeSha256', () => {
    const revision = existing(created).RevisionId;
    expect(run([publish({ RevisionId: revision, CodeSha256: code.CodeSha256 })], created).decisions[0]?.version).toBe('1');
    expect(run([publish({ CodeSha256: '' })], created).decisions[0]?.version).toBe('1');
  });

  it.each<[string, FunctionCommand, FunctionStreamState, abstract new (...args: never[]) => Error, string]>([
    ['a stale RevisionId', publish({ RevisionId: 'rev-0' }), created, PreconditionFailedException, revisionMessage],
    [
      'a stale RevisionId before a CodeSha256 mismatch',
      publish({ RevisionId: 'rev-0', CodeSha256: 'other' }),
      created,
      PreconditionFailedException,
      revisionMessage,
    ],
    [
      'a CodeSha256 mismatch',
      publish({ CodeSha256: newCode.CodeSha256 }),
      created,
      InvalidParameterValueException,
      `CodeSHA256 (${newCode.CodeSha256}) is different from current CodeSHA256 in $LATEST (${code.CodeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
    ],
    ['a missing function', publish(), initialFunctionState, ResourceNotFoundException, `Function not found: ${fnArn}`],
    [
      'a qualified function name',
      publish({ FunctionName: 'fn1:1' }),
      created,
      InvalidParameterValueException,
      'FunctionName "fn1:1" names version or alias 1 (allowed: the unqualified function, whose $LATEST is changed)',
    ],
    ['a long Description', publish({ Description: 'd'.repeat(257) }), created, InvalidParameterValueException, `Description "${'d'.repeat(64)}…" has 257 characters (allowed: 0–256 characters)`],
    ['a bad PublishTo', publish({ PublishTo: 'LATEST' }), created, InvalidParameterValueException, 'PublishTo "LATEST" is not supported (allowed: LATEST_PUBLISHED)'],
    [
      'a provider that is not Active',
      publish({}, 0, providerState('Deleting')),
      created,
      ResourceConflictException,
      `Capacity provider ${providerArn()} of function fn1 is Deleting, so no version can be published (allowed: a capacity provider in state Active)`,
    ],
    [
      'a provider that no longer exists',
      publish({}, 0, { status: 'Absent' }),
      created,
      ResourceConflictException,
      `Capacity provider ${providerArn()} of function fn1 does not exist, so no version can be published (allowed: a capacity provider in state Active)`,
    ],
    [
      'a provider at its quota',
      publish({}, 100),
      created,
      FunctionVersionsPerCapacityProviderLimitExceededException,
      'Capacity provider cp1 already carries 100 function versions (allowed: at most 100 function versions per capacity provider)',
    ],
  ])('rejects %s', (_case, command, state, type, message) => {
    expectError(() => run([command], state), type as never, message);
  });

  it('counts the quota from the context', () => {
    const ctx = context({ limits: { capacityProvidersPerAccount: 1000, functionVersionsPerCapacityProvider: 2 } });
    expect(run([publish({}, 1)], created, ctx).decisions[0]?.version).toBe('1');
    expectError(
      () => run([publish({}, 2)], created, ctx),
      FunctionVersionsPerCapacityProviderLimitExceededException,
      'Capacity provider cp1 already carries 2 function versions (allowed: at most 2 function versions per capacity provider)',
    );
  });

  it('needs no quota room to return an unchanged version', () => {
    const { state } = run([publish()], created);
    expect(run([publish({}, 100)], state).decisions[0]).toEqual({ events: [], version: '1' });
  });

  it('treats a provider the caller did not load as a wiring error', () => {
    const unloaded: FunctionCommand = { type: 'PublishVersion', data: { request: { FunctionName: 'fn1' }, capacityProvider: undefined, functionVersionCount: 0 } };
    expect(() => run([unloaded], created)).toThrow('capacity provider arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp1 was not loaded');
    const uncounted: FunctionCommand = { type: 'CreateFunction', data: { request: createFunctionRequest({ Publish: true }), code, capacityProvider: active } };
    expect(() => run([uncounted])).toThrow('were not counted');
    expect(() => run([publish({}, 0, providerState('Active', 'x86_64', 'cp2'))], created)).toThrow('was passed for');
  });
});

describe('Publish: true on CreateFunction and UpdateFunctionCode', () => {
  it('creates and publishes version 1 in one append', () => {
    const { decisions, state } = run([create({ Publish: true, Description: 'desc' })]);
    expect(types(decisions[0]?.events)).toEqual(['FunctionCreated', 'FunctionVersionPublished']);
    expect(decisions[0]?.version).toBe('1');
    expect(decisions[0]?.events[1]).toMatchObject({ data: { Version: '1', code, Description: 'desc', RevisionId: 'rev-2' } });
    expect(version(state, '1')).toMatchObject({ State: 'Pending', StateReasonCode: 'Creating' });
  });

  it.each<[string, Record<string, unknown>, string[], string | undefined]>([
    ['Publish with PublishTo', { Publish: true, PublishTo: 'LATEST_PUBLISHED' }, ['FunctionCreated', 'FunctionVersionPublished'], '$LATEST.PUBLISHED'],
    ['PublishTo without Publish', { PublishTo: 'LATEST_PUBLISHED' }, ['FunctionCreated'], undefined],
    ['Publish false', { Publish: false }, ['FunctionCreated'], undefined],
  ])('on create: %s', (_case, overrides, eventTypes, published) => {
    const { decisions } = run([create(overrides)]);
    expect(types(decisions[0]?.events)).toEqual(eventTypes);
    expect(decisions[0]?.version).toBe(published);
  });

  it('refuses the whole create when the provider is at its quota', () => {
    expectError(
      () => run([create({ Publish: true }, 100)]),
      FunctionVersionsPerCapacityProviderLimitExceededException,
      'Capacity provider cp1 already carries 100 function versions (allowed: at most 100 function versions per capacity provider)',
    );
  });

  it('updates code and publishes the new code', () => {
    const { decisions, state } = run([publish(), updateCode({ Publish: true })], created);
    expect(types(decisions[1]?.events)).toEqual(['FunctionCodeUpdated', 'FunctionVersionPublished']);
    expect(decisions[1]?.version).toBe('2');
    expect(version(state, '2').code).toEqual(newCode);
    expect(version(state, '1').code).toEqual(code);
  });

  it('returns the latest version when the new code is the same', () => {
    const { decisions } = run([publish(), updateCode({ Publish: true }, code)], created);
    expect(decisions[1]).toEqual({ events: [expect.objectContaining({ type: 'FunctionCodeUpdated' })], version: '1' });
  });

  it('publishes $LATEST.PUBLISHED on a code update with PublishTo', () => {
    const { decisions } = run([updateCode({ Publish: true, PublishTo: 'LATEST_PUBLISHED' })], created);
    expect(decisions[0]?.version).toBe('$LATEST.PUBLISHED');
  });

  it('publishes nothing on a dry run', () => {
    expect(run([updateCode({ Publish: true, DryRun: true })], created).decisions[0]).toEqual({ events: [] });
  });
});

describe('$LATEST.PUBLISHED', () => {
  it('is created Pending, then republished while Active keeps serving', () => {
    const { decisions, state } = run(
      [publishLatest(), activate('$LATEST.PUBLISHED'), configure({ Timeout: 20 }), publishLatest({ Description: 'v2' })],
      created,
    );
    expect(decisions[0]?.events[0]).toMatchObject({ data: { Version: '$LATEST.PUBLISHED', RevisionId: 'rev-1' } });
    const first = decisions[0]!.events.reduce(evolveFunction, created);
    expect(version(first, '$LATEST.PUBLISHED')).toMatchObject({ State: 'Pending', StateReasonCode: 'Creating', LastUpdateStatus: 'InProgress' });
    expect(functionConfigurationView(existing(state), { Version: '$LATEST.PUBLISHED' })).toMatchObject({
      FunctionArn: `${fnArn}:$LATEST.PUBLISHED`,
      Version: '$LATEST.PUBLISHED',
      State: 'Active',
      LastUpdateStatus: 'InProgress',
      LastUpdateStatusReason: 'The function is being updated.',
      Timeout: 20,
      Description: 'v2',
      RevisionId: 'rev-3',
    });
    expect(Object.keys(existing(state).versions)).toEqual(['$LATEST.PUBLISHED']);
    expect(nextVersionNumber(existing(state))).toBe(1);
  });

  it('ignores workflow steps of a superseded publication', () => {
    const { events, state } = run(
      [publishLatest(), activate('$LATEST.PUBLISHED', 'rev-1'), configure({ Timeout: 20 }), publishLatest()],
      created,
    );
    expect(events[1]).toHaveLength(1);
    const stale = run([activate('$LATEST.PUBLISHED', 'rev-1'), fail('$LATEST.PUBLISHED', 'InsufficientCapacity', 'rev-1')], state);
    expect(stale.events).toEqual([[], []]);
    expect(run([activate('$LATEST.PUBLISHED', 'rev-3')], state).events[0]).toHaveLength(1);
  });

  it('keeps serving when a republish fails, and retries an unchanged republish', () => {
    const failedUpdate = run(
      [publishLatest(), activate('$LATEST.PUBLISHED'), configure({ Timeout: 20 }), publishLatest(), fail('$LATEST.PUBLISHED', 'FunctionError.InitTimeout')],
      created,
    ).state;
    expect(functionConfigurationView(existing(failedUpdate), { Version: '$LATEST.PUBLISHED' })).toMatchObject({
      State: 'Active',
      LastUpdateStatus: 'Failed',
      LastUpdateStatusReasonCode: 'FunctionError.InitTimeout',
      LastUpdateStatusReason: 'boom: FunctionError.InitTimeout',
      Timeout: 20,
    });
    const retry = run([fail('$LATEST.PUBLISHED', 'FunctionError.InitTimeout'), publishLatest()], failedUpdate);
    expect(retry.events[0]).toEqual([]);
    expect(types(retry.events[1])).toEqual(['FunctionVersionPublished']);
    expect(version(retry.state, '$LATEST.PUBLISHED')).toMatchObject({ State: 'Active', LastUpdateStatus: 'InProgress' });
    expect(version(retry.state, '$LATEST.PUBLISHED')).not.toHaveProperty('LastUpdateStatusReasonCode');
  });

  it('retries a failed creation as a new creation', () => {
    const { events, state } = run([publishLatest(), fail('$LATEST.PUBLISHED'), publishLatest()], created);
    expect(types(events[2])).toEqual(['FunctionVersionPublished']);
    expect(version(state, '$LATEST.PUBLISHED')).toMatchObject({ State: 'Pending', StateReasonCode: 'Creating' });
  });

  it('returns the existing $LATEST.PUBLISHED when nothing changed, even at the quota', () => {
    const { state } = run([publishLatest(), activate('$LATEST.PUBLISHED')], created);
    expect(run([publishLatest({}, 100)], state).decisions[0]).toEqual({ events: [], version: '$LATEST.PUBLISHED' });
  });

  it('needs no quota room to republish, but does on another provider', () => {
    const cp2 = providerState('Active', 'x86_64', 'cp2');
    const moved = run(
      [
        publishLatest(),
        activate('$LATEST.PUBLISHED'),
        {
          type: 'UpdateFunctionConfiguration',
          data: {
            request: { FunctionName: 'fn1', CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn('cp2') } } },
            capacityProvider: cp2,
          },
        },
      ],
      created,
    ).state;
    const onSameProvider = run([configure({ Timeout: 20 }), publishLatest({}, 100)], run([publishLatest(), activate('$LATEST.PUBLISHED')], created).state);
    expect(onSameProvider.decisions[1]?.version).toBe('$LATEST.PUBLISHED');
    expectError(
      () => run([publish({ PublishTo: 'LATEST_PUBLISHED' }, 100, cp2)], moved),
      FunctionVersionsPerCapacityProviderLimitExceededException,
      'Capacity provider cp2 already carries 100 function versions (allowed: at most 100 function versions per capacity provider)',
    );
  });

  it.each<[string, FunctionCommand[], FunctionCommand, abstract new (...args: never[]) => Error, string]>([
    ['republished while Pending', [publishLatest(), configure({ Timeout: 20 })], publishLatest(), ResourceConflictException, inProgress('$LATEST.PUBLISHED')],
    [
      'republished while updating',
      [publishLatest(), activate('$LATEST.PUBLISHED'), configure({ Timeout: 20 }), publishLatest(), configure({ Timeout: 21 })],
      publishLatest(),
      ResourceConflictException,
      inProgress('$LATEST.PUBLISHED'),
    ],
    [
      'republished while being deleted',
      [publishLatest(), remove('$LATEST.PUBLISHED'), configure({ Timeout: 20 })],
      publishLatest(),
      ResourceConflictException,
      stateConflict('Deleting'),
    ],
  ])('refuses to be %s', (_case, setup, command, type, message) => {
    const { state } = run(setup, created);
    expectError(() => run([command], state), type as never, message);
  });
});

describe('version workflow steps', () => {
  const pending = run([publish()], created).state;

  it.each<[string, FunctionCommand, FunctionStreamState, abstract new (...args: never[]) => Error, string]>([
    ['activating a missing version', activate('7'), pending, ResourceNotFoundException, `Function not found: ${fnArn}:7`],
    ['failing a version of a missing function', fail('1'), initialFunctionState, ResourceNotFoundException, `Function not found: ${fnArn}:1`],
    [
      'activating a Failed version',
      activate('1'),
      run([fail('1')], pending).state,
      ResourceConflictException,
      "Version 1 of function fn1 is Failed and can't become Active (allowed from: Pending, or Active while updating)",
    ],
    [
      'failing an Active version',
      fail('1'),
      run([activate('1')], pending).state,
      ResourceConflictException,
      "Version 1 of function fn1 is Active and can't become Failed (allowed from: Pending, or Active while updating)",
    ],
    [
      'activating a Deleting version',
      activate('1'),
      run([remove('1')], pending).state,
      ResourceConflictException,
      "Version 1 of function fn1 is Deleting and can't become Active (allowed from: Pending, or Active while updating)",
    ],
    [
      'an unknown reason code',
      fail('1', 'Idle' as ManagedInstancesReasonCode),
      pending,
      InvalidParameterValueException,
      `StateReasonCode "Idle" is not supported (allowed: ${managedInstancesReasonCodes.join(', ')})`,
    ],
    [
      'completing a deletion that has not started',
      completeVersion('1'),
      pending,
      ResourceConflictException,
      'Version 1 of function fn1 is Pending; its deletion has not started',
    ],
    [
      'completing a function deletion that has not started',
      completeFunction,
      pending,
      ResourceConflictException,
      'Function fn1 is not being deleted; its deletion has not started',
    ],
  ])('rejects %s', (_case, command, state, type, message) => {
    expectError(() => run([command], state), type as never, message);
  });

  it('repeats completed deletions harmlessly', () => {
    const { events } = run([remove('1'), remove('1'), completeVersion('1'), completeVersion('1')], pending);
    expect(events).toEqual([[{ type: 'FunctionVersionDeletionStarted', data: { Version: '1' } }], [], [{ type: 'FunctionVersionDeleted', data: { Version: '1' } }], []]);
    expect(run([completeFunction], initialFunctionState).events[0]).toEqual([]);
  });
});

describe('DeleteFunction with versions', () => {
  const withVersions = run([publish(), activate('1'), publishLatest()], created).state;

  it('tears the versions down before the function is gone', () => {
    const deleting = run([remove()], withVersions);
    expect(deleting.events[0]).toEqual([{ type: 'FunctionDeletionStarted', data: { FunctionArn: fnArn, LastModified: lambdaNow } }]);
    const fn = existing(deleting.state);
    expect(fn.status).toBe('Deleting');
    expect(functionConfigurationView(fn).State).toBe('Deleting');
    expect(functionConfigurationView(fn, { Version: '1' }).State).toBe('Deleting');
    const done = run([remove(), remove('1'), completeFunction, completeFunction], deleting.state);
    expect(done.events).toEqual([[], [], [{ type: 'FunctionDeleted', data: { FunctionArn: fnArn, LastModified: lambdaNow } }], []]);
    expect(done.state).toEqual(initialFunctionState);
    expect(types(run([create()], done.state).events[0])).toEqual(['FunctionCreated']);
  });

  it('deletes a function without published versions at once', () => {
    expect(types(run([publish(), remove('1'), completeVersion('1'), remove()], created).events[3])).toEqual(['FunctionDeleted']);
  });

  it.each<[string, FunctionCommand, abstract new (...args: never[]) => Error, string]>([
    ['a configuration update', configure({ Timeout: 9 }), ResourceConflictException, stateConflict('Deleting')],
    ['a code update', updateCode(), ResourceConflictException, stateConflict('Deleting')],
    ['a publish', publish(), ResourceConflictException, stateConflict('Deleting')],
    ['a create', create(), ResourceConflictException, 'Function already exist: fn1'],
    ['activating a version', activate('$LATEST.PUBLISHED'), ResourceConflictException, "Version $LATEST.PUBLISHED of function fn1 is Deleting and can't become Active (allowed from: Pending, or Active while updating)"],
  ])('refuses %s while Deleting', (_case, command, type, message) => {
    const deleting = run([remove()], withVersions).state;
    expectError(() => run([command], deleting), type as never, message);
  });

  it.each<[string, FunctionCommand, abstract new (...args: never[]) => Error, string]>([
    ['$LATEST alone', remove('$LATEST'), InvalidParameterValueException, '$LATEST version cannot be deleted without deleting the function.'],
    ['a version that does not exist', remove('5'), ResourceNotFoundException, `Function not found: ${fnArn}:5`],
    ['an alias (Hearth has none)', remove('prod'), ResourceNotFoundException, `Function not found: ${fnArn}:prod`],
    ['a number with a leading zero', remove('01'), ResourceNotFoundException, `Function not found: ${fnArn}:01`],
  ])('refuses to delete %s', (_case, command, type, message) => {
    expectError(() => run([command], withVersions), type as never, message);
  });

  it('deletes $LATEST.PUBLISHED like a numbered version', () => {
    const { events, state } = run([remove('$LATEST.PUBLISHED'), completeVersion('$LATEST.PUBLISHED')], withVersions);
    expect(types(events.flat())).toEqual(['FunctionVersionDeletionStarted', 'FunctionVersionDeleted']);
    expect(Object.keys(existing(state).versions)).toEqual(['1']);
  });
});

describe('folding versions', () => {
  it('folds the same state from the events', () => {
    const { events, state } = run([create(), publish(), activate('1'), publishLatest(), fail('$LATEST.PUBLISHED'), remove('1')]);
    expect(foldFunction(events.flat())).toEqual(state);
  });

  it('upgrades a state stored before versions existed', () => {
    const { versions: _versions, nextVersion: _next, ...old } = existing(created);
    const legacy = old as unknown as FunctionStreamState;
    const { state } = run([publish(), activate('1')], legacy);
    expect(existing(state).nextVersion).toBe(2);
    expect(version(state, '1').State).toBe('Active');
    expect(functionConfigurationView(existing(legacy)).Version).toBe('$LATEST');
  });
});
