import { describe, expect, it } from 'vitest';
import {
  InvalidParameterValueException,
  PreconditionFailedException,
  ResourceConflictException,
  ResourceNotFoundException,
} from '@hearth/errors';
import {
  decideFunction,
  evolveFunction,
  foldFunction,
  initialFunctionState,
  validateCreateFunction,
  type CapacityProviderStreamState,
  type ExistingFunction,
  type FunctionCommand,
  type FunctionEvent,
  type FunctionStreamState,
} from '@hearth/domain';
import { code, context, createFunctionRequest, expectError, lambdaNow, newCode, providerArn, providerState, runtimes, scope } from './fixtures.js';

const active = providerState('Active');
const fnArn = 'arn:aws:lambda:us-east-1:123456789012:function:fn1';
const revisionMessage =
  'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id';

const create = (overrides: Record<string, unknown> = {}): FunctionCommand => ({
  type: 'CreateFunction',
  data: { request: createFunctionRequest(overrides), code, capacityProvider: active, functionVersionCount: 0 },
});
const configure = (body: Record<string, unknown>, capacityProvider?: CapacityProviderStreamState): FunctionCommand => ({
  type: 'UpdateFunctionConfiguration',
  data: { request: { FunctionName: 'fn1', ...body }, ...(capacityProvider ? { capacityProvider } : {}) },
});
const updateCode = (body: Record<string, unknown> = {}, capacityProvider = active): FunctionCommand => ({
  type: 'UpdateFunctionCode',
  data: { request: { FunctionName: 'fn1', ZipFile: 'UEsFBg==', ...body }, code: newCode, capacityProvider },
});
const remove = (FunctionName = 'fn1', Qualifier?: string): FunctionCommand => ({
  type: 'DeleteFunction',
  data: { request: { FunctionName, ...(Qualifier === undefined ? {} : { Qualifier }) } },
});

/** Runs commands in order with one context, as a service would over a stream. */
function run(commands: FunctionCommand[], state: FunctionStreamState = initialFunctionState) {
  const ctx = context();
  const events: FunctionEvent[][] = [];
  for (const command of commands) {
    const produced = decideFunction(command, state, ctx);
    events.push(produced);
    state = produced.reduce(evolveFunction, state);
  }
  return { events, state };
}

function existing(state: FunctionStreamState): ExistingFunction {
  if (state.status !== 'Present') throw new Error('expected a function');
  return state;
}

const created = run([create()]).state;

describe('function lifecycle', () => {
  it('creates, updates configuration and code, deletes and creates again', () => {
    const { events, state } = run([
      create({ Publish: true, PublishTo: 'LATEST_PUBLISHED', Tags: { team: 'core' } }),
      configure({ Timeout: 30 }),
      updateCode({ Publish: false }),
      remove(),
      { type: 'CompleteFunctionDeletion', data: { FunctionName: 'fn1' } },
      create({ MemorySize: 4096 }),
    ]);
    const definition = validateCreateFunction(createFunctionRequest(), 'fn1', { ...scope, supportedRuntimes: runtimes }, active).definition;
    expect(events[0]).toEqual([
      {
        type: 'FunctionCreated',
        data: {
          configuration: definition,
          code,
          Tags: { team: 'core' },
          RevisionId: 'rev-1',
          LastModified: lambdaNow,
          Publish: true,
          PublishTo: 'LATEST_PUBLISHED',
        },
      },
      // Publish: true publishes in the same append (issue #3); PublishTo picks $LATEST.PUBLISHED.
      {
        type: 'FunctionVersionPublished',
        data: { Version: '$LATEST.PUBLISHED', configuration: definition, code, Description: '', RevisionId: 'rev-2', LastModified: lambdaNow },
      },
    ]);
    expect(events[1]).toEqual([
      { type: 'FunctionConfigurationUpdated', data: { changes: { Timeout: 30 }, RevisionId: 'rev-3', LastModified: lambdaNow } },
    ]);
    expect(events[2]).toEqual([
      {
        type: 'FunctionCodeUpdated',
        data: { code: newCode, Architectures: ['x86_64'], RevisionId: 'rev-4', LastModified: lambdaNow, Publish: false },
      },
    ]);
    // A function with a published version is torn down before it is gone (issue #3).
    expect(events[3]).toEqual([{ type: 'FunctionDeletionStarted', data: { FunctionArn: fnArn, LastModified: lambdaNow } }]);
    expect(events[4]?.map((event) => event.type)).toEqual(['FunctionDeleted']);
    expect(events[5]?.map((event) => event.type)).toEqual(['FunctionCreated']);
    expect(existing(state)).toMatchObject({ RevisionId: 'rev-5', code, Tags: {}, configuration: { MemorySize: 4096, Timeout: 3 } });
  });

  it('folds the same state from the events', () => {
    const { events, state } = run([create(), configure({ Timeout: 30 }), updateCode()]);
    expect(foldFunction(events.flat())).toEqual(state);
    expect(existing(state)).toMatchObject({ RevisionId: 'rev-3', code: newCode, configuration: { Timeout: 30 } });
  });

  it('accepts the name as an ARN or partial ARN', () => {
    expect(run([create({ FunctionName: fnArn })]).events[0]?.[0]?.type).toBe('FunctionCreated');
    expect(run([configure({ FunctionName: '123456789012:function:fn1', Timeout: 9 })], created).events[0]?.[0]?.type).toBe(
      'FunctionConfigurationUpdated',
    );
    expect(run([configure({ FunctionName: 'fn1:$LATEST', Timeout: 9 })], created).events[0]).toHaveLength(1);
  });
});

describe('function create', () => {
  it("answers Lambda's conflict for an existing name", () => {
    expectError(() => run([create()], created), ResourceConflictException, 'Function already exist: fn1');
  });

  it('validates before it looks for a conflict', () => {
    expectError(() => run([create({ Timeout: 0 })], created), InvalidParameterValueException, 'Timeout 0 is out of range (allowed: 1–900)');
  });

  it.each<[Record<string, unknown>, abstract new (...args: never[]) => Error, string]>([
    [{ FunctionName: undefined }, InvalidParameterValueException, 'FunctionName is required'],
    [{ FunctionName: 'fn1:1' }, InvalidParameterValueException, 'FunctionName "fn1:1" has a qualifier (allowed: an unqualified function name or ARN)'],
    [
      { FunctionName: 'f'.repeat(65) },
      InvalidParameterValueException,
      `FunctionName name "${'f'.repeat(65)}" has 65 characters (allowed: 1–64 characters)`,
    ],
    [
      { FunctionName: 'arn:aws:lambda:eu-west-1:123456789012:function:fn1' },
      ResourceNotFoundException,
      "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
    ],
  ])('rejects %j', (overrides, type, message) => {
    expectError(() => run([create(overrides)]), type as never, message);
  });
});

describe('function configuration updates', () => {
  it('records only what changed and skips a no-op', () => {
    const { events } = run([configure({ Timeout: 3, Description: 'new', MemorySize: 2048 }), configure({ Description: 'new' })], created);
    expect(events[0]).toEqual([
      { type: 'FunctionConfigurationUpdated', data: { changes: { Description: 'new' }, RevisionId: 'rev-1', LastModified: lambdaNow } },
    ]);
    expect(events[1]).toEqual([]);
  });

  it('honours a matching RevisionId and refuses a stale one', () => {
    expect(run([configure({ RevisionId: 'rev-1', Timeout: 5 })], created).events[0]).toHaveLength(1);
    expectError(() => run([configure({ RevisionId: 'rev-0', Timeout: 5 })], created), PreconditionFailedException, revisionMessage);
  });

  it('clears environment variables with an empty Environment', () => {
    const withEnv = run([create({ Environment: { Variables: { STAGE: 'dev' } } })]).state;
    const { events, state } = run([configure({ Environment: {} })], withEnv);
    expect(events[0]?.[0]).toMatchObject({ data: { changes: { Environment: { Variables: {} } } } });
    expect(existing(state).configuration.Environment).toEqual({ Variables: {} });
  });

  it('moves $LATEST to another provider with a new ratio and memory', () => {
    const other = providerState('Active', 'x86_64', 'cp2');
    const command = configure(
      {
        MemorySize: 8192,
        CapacityProviderConfig: {
          LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn('cp2'), ExecutionEnvironmentMemoryGiBPerVCpu: 4 },
        },
      },
      other,
    );
    const { state } = run([command], created);
    expect(existing(state).configuration).toMatchObject({
      MemorySize: 8192,
      CapacityProviderConfig: {
        LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn('cp2'), ExecutionEnvironmentMemoryGiBPerVCpu: 4 },
      },
    });
  });

  it.each<[string, FunctionCommand, FunctionStreamState, abstract new (...args: never[]) => Error, string]>([
    ['a missing function', configure({ Timeout: 5 }), initialFunctionState, ResourceNotFoundException, `Function not found: ${fnArn}`],
    [
      'a published version',
      configure({ FunctionName: 'fn1:1', Timeout: 5 }),
      created,
      InvalidParameterValueException,
      'FunctionName "fn1:1" names version or alias 1 (allowed: the unqualified function, whose $LATEST is changed)',
    ],
    [
      'a ratio the memory does not fit',
      configure({ CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn(), ExecutionEnvironmentMemoryGiBPerVCpu: 8 } } }, active),
      created,
      InvalidParameterValueException,
      'MemorySize 2048 is less than one vCPU at ExecutionEnvironmentMemoryGiBPerVCpu 8 GiB (allowed: 8192–32768 in steps of 8192)',
    ],
    [
      'a stale RevisionId before a bad value',
      configure({ RevisionId: 'old', Timeout: 0 }),
      created,
      PreconditionFailedException,
      revisionMessage,
    ],
  ])('rejects %s', (_case, command, state, type, message) => {
    expectError(() => run([command], state), type as never, message);
  });
});

describe('function code updates', () => {
  it('does nothing on a dry run, after validating', () => {
    expect(run([updateCode({ DryRun: true })], created).events[0]).toEqual([]);
    expectError(
      () => run([updateCode({ DryRun: true, PublishTo: 'x' })], created),
      InvalidParameterValueException,
      'PublishTo "x" is not supported (allowed: LATEST_PUBLISHED)',
    );
  });

  it('changes the architecture when the provider has it', () => {
    const arm = providerState('Active', 'arm64');
    const onArm = run([
      { type: 'CreateFunction', data: { request: createFunctionRequest({ Architectures: ['arm64'] }), code, capacityProvider: arm } },
    ]).state;
    const { events } = run([updateCode({ Architectures: ['arm64'] }, arm)], onArm);
    expect(events[0]?.[0]).toMatchObject({ type: 'FunctionCodeUpdated', data: { Architectures: ['arm64'] } });
  });

  it.each<[string, FunctionCommand, FunctionStreamState, abstract new (...args: never[]) => Error, string]>([
    ['a missing function', updateCode(), initialFunctionState, ResourceNotFoundException, `Function not found: ${fnArn}`],
    ['a stale RevisionId', updateCode({ RevisionId: 'rev-9' }), created, PreconditionFailedException, revisionMessage],
    [
      'an architecture the provider lacks',
      updateCode({ Architectures: ['arm64'] }),
      created,
      InvalidParameterValueException,
      'Architectures ["arm64"] does not match the architecture of capacity provider cp1 (allowed: ["x86_64"])',
    ],
    [
      'a container image',
      updateCode({ ImageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1' }),
      created,
      InvalidParameterValueException,
      'ImageUri is not supported for Lambda Managed Instances functions in Hearth (allowed: ZipFile)',
    ],
    ['a DryRun that is not a boolean', updateCode({ DryRun: 'yes' }), created, InvalidParameterValueException, 'DryRun must be true or false (got "yes")'],
  ])('rejects %s', (_case, command, state, type, message) => {
    expectError(() => run([command], state), type as never, message);
  });

  it('needs the provider to check a new architecture', () => {
    const command: FunctionCommand = {
      type: 'UpdateFunctionCode',
      data: { request: { FunctionName: 'fn1', Architectures: ['x86_64'] }, code: newCode },
    };
    expectError(
      () => run([command], created),
      InvalidParameterValueException,
      `The capacity provider ${providerArn()} of this function does not exist, so Architectures can't be checked against it`,
    );
  });
});

describe('function delete', () => {
  it('frees the name', () => {
    const { state } = run([remove(fnArn)], created);
    expect(state).toEqual({ status: 'Absent' });
  });

  it.each<[string, FunctionCommand, FunctionStreamState, abstract new (...args: never[]) => Error, string]>([
    ['a missing function', remove(), initialFunctionState, ResourceNotFoundException, `Function not found: ${fnArn}`],
    ['a missing function by qualifier', remove('fn1', '3'), initialFunctionState, ResourceNotFoundException, `Function not found: ${fnArn}:3`],
    ['$LATEST alone', remove('fn1', '$LATEST'), created, InvalidParameterValueException, '$LATEST version cannot be deleted without deleting the function.'],
    ['an unpublished version', remove('fn1:1'), created, ResourceNotFoundException, `Function not found: ${fnArn}:1`],
    [
      'mismatched qualifiers',
      remove('fn1:1', '2'),
      created,
      InvalidParameterValueException,
      'The derived qualifier from the function name does not match the specified qualifier.',
    ],
  ])('rejects %s', (_case, command, state, type, message) => {
    expectError(() => run([command], state), type as never, message);
  });
});
