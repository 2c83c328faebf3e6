import { describe, expect, it } from 'vitest';
import {
  InvalidParameterValueException,
  NoPublishedVersionException,
  ResourceConflictException,
  ResourceNotFoundException,
  type LambdaError,
} from '@hearth/errors';
import {
  decideFunction,
  encodeMarker,
  evolveFunction,
  functionConfigurationView,
  functionVersionsOnCapacityProvider,
  getFunctionView,
  initialFunctionState,
  latestNotInvocableMessage,
  listFunctions,
  listFunctionVersionsByCapacityProvider,
  listedFunctionConfigurations,
  listVersionsByFunction,
  noPublishedVersionMessage,
  publishedVersionsOnCapacityProvider,
  resolveFunctionVersion,
  resolveInvocationQualifier,
  versionSortKey,
  type ExistingFunction,
  type FunctionCommand,
  type FunctionConfiguration,
  type FunctionStreamState,
} from '@hearth/domain';
import { code, context, createFunctionRequest, expectError, lambdaNow, newCode, providerArn, providerState, roleArn, scope } from './fixtures.js';

const active = providerState('Active');
const fnArn = 'arn:aws:lambda:us-east-1:123456789012:function:fn1';
const stateConflict = (state: string) =>
  `The operation cannot be performed at this time. The function is currently in the following state: ${state}`;

const create = (FunctionName = 'fn1'): FunctionCommand => ({
  type: 'CreateFunction',
  data: { request: createFunctionRequest({ FunctionName }), code, capacityProvider: active, functionVersionCount: 0 },
});
const publish = (body: Record<string, unknown> = {}, FunctionName = 'fn1'): FunctionCommand => ({
  type: 'PublishVersion',
  data: { request: { FunctionName, ...body }, capacityProvider: active, functionVersionCount: 0 },
});
const configure = (body: Record<string, unknown>, FunctionName = 'fn1'): FunctionCommand => ({
  type: 'UpdateFunctionConfiguration',
  data: { request: { FunctionName, ...body } },
});
const updateCode = (FunctionName = 'fn1'): FunctionCommand => ({
  type: 'UpdateFunctionCode',
  data: { request: { FunctionName }, code: newCode },
});
const activate = (Version: string, FunctionName = 'fn1'): FunctionCommand => ({ type: 'ActivateVersion', data: { FunctionName, Version } });
const fail = (Version: string): FunctionCommand => ({
  type: 'FailVersion',
  data: { FunctionName: 'fn1', Version, StateReasonCode: 'FunctionError.InitTimeout', StateReason: 'init took too long' },
});
const remove = (Qualifier?: string): FunctionCommand => ({
  type: 'DeleteFunction',
  data: { request: { FunctionName: 'fn1', ...(Qualifier === undefined ? {} : { Qualifier }) } },
});

function run(commands: FunctionCommand[], state: FunctionStreamState = initialFunctionState): FunctionStreamState {
  const ctx = context();
  for (const command of commands) state = decideFunction(command, state, ctx).reduce(evolveFunction, state);
  return state;
}

function existing(state: FunctionStreamState): ExistingFunction {
  if (state.status === 'Absent') throw new Error('expected a function');
  return state;
}

/** fn1 with $LATEST.PUBLISHED (Active), version 1 (Active, old code) and version 2 (Pending, Timeout 30, new code). */
const fn = existing(
  run([
    create(),
    publish({ Description: 'first' }),
    activate('1'),
    publish({ PublishTo: 'LATEST_PUBLISHED' }),
    activate('$LATEST.PUBLISHED'),
    configure({ Timeout: 30 }),
    updateCode(),
    publish(),
  ]),
);

describe('qualified views', () => {
  it('shows a pending numbered version as Lambda answers PublishVersion', () => {
    expect(functionConfigurationView(fn, { Version: '2' })).toEqual({
      FunctionName: 'fn1',
      FunctionArn: `${fnArn}:2`,
      Runtime: 'nodejs22.x',
      Role: roleArn,
      Handler: 'index.handler',
      CodeSize: newCode.CodeSize,
      Description: '',
      Timeout: 30,
      MemorySize: 2048,
      LastModified: lambdaNow,
      CodeSha256: newCode.CodeSha256,
      Version: '2',
      TracingConfig: { Mode: 'PassThrough' },
      RevisionId: 'rev-6',
      State: 'Pending',
      StateReason: 'The function is being created.',
      StateReasonCode: 'Creating',
      LastUpdateStatus: 'Successful',
      PackageType: 'Zip',
      Architectures: ['x86_64'],
      EphemeralStorage: { Size: 512 },
      SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO', LogGroup: '/aws/lambda/fn1' },
      CapacityProviderConfig: {
        LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn(), ExecutionEnvironmentMemoryGiBPerVCpu: 2 },
      },
    } satisfies FunctionConfiguration);
  });

  it.each<[string | undefined, string, string, Partial<FunctionConfiguration>]>([
    [undefined, '$LATEST', fnArn, { State: 'ActiveNonInvocable', Timeout: 30, RevisionId: 'rev-5' }],
    ['$LATEST', '$LATEST', `${fnArn}:$LATEST`, { State: 'ActiveNonInvocable', Timeout: 30 }],
    ['$LATEST.PUBLISHED', '$LATEST.PUBLISHED', `${fnArn}:$LATEST.PUBLISHED`, { State: 'Active', Timeout: 3, LastUpdateStatus: 'Successful' }],
    ['1', '1', `${fnArn}:1`, { State: 'Active', Timeout: 3, Description: 'first', CodeSha256: code.CodeSha256, RevisionId: 'rev-2' }],
  ])('GetFunctionConfiguration with Qualifier %s', (qualifier, Version, FunctionArn, expected) => {
    const ref = resolveFunctionVersion(fn, 'fn1', qualifier, scope);
    expect(functionConfigurationView(ref.fn, ref)).toMatchObject({ Version, FunctionArn, ...expected });
  });

  it('accepts the qualifier in the ARN', () => {
    const ref = resolveFunctionVersion(fn, `${fnArn}:1`, undefined, scope);
    expect(ref).toMatchObject({ Version: '1', qualifiedArn: true });
  });

  it('downloads the code of the version', () => {
    const ref = resolveFunctionVersion(fn, 'fn1', '1', scope);
    const view = getFunctionView(ref.fn, { codeBaseUrl: 'http://x' }, ref);
    expect(view.Code?.Location).toBe(`http://x/${code.sha256Hex}`);
    expect(view.Configuration?.Version).toBe('1');
    expect(getFunctionView(fn, { codeBaseUrl: 'http://x' }).Code?.Location).toBe(`http://x/${newCode.sha256Hex}`);
  });

  it('shows a failed version with its reason', () => {
    const failed = existing(run([fail('2')], fn));
    expect(functionConfigurationView(failed, { Version: '2' })).toMatchObject({
      State: 'Failed',
      StateReasonCode: 'FunctionError.InitTimeout',
      StateReason: 'init took too long',
    });
  });

  it.each<[string, string | undefined, FunctionStreamState, string]>([
    ['a version that does not exist', '3', fn, `Function not found: ${fnArn}:3`],
    ['an alias', 'prod', fn, `Function not found: ${fnArn}:prod`],
    ['a missing function', '1', initialFunctionState, `Function not found: ${fnArn}:1`],
    ['a deleted version', '2', run([remove('2'), { type: 'CompleteVersionDeletion', data: { FunctionName: 'fn1', Version: '2' } }], fn), `Function not found: ${fnArn}:2`],
  ])('reports %s', (_case, qualifier, state, message) => {
    expectError(() => resolveFunctionVersion(state, 'fn1', qualifier, scope), ResourceNotFoundException, message);
  });

  it('refuses a version the view cannot find', () => {
    expectError(() => functionConfigurationView(fn, { Version: '9' }), ResourceNotFoundException, `Function not found: ${fnArn}:9`);
  });
});

describe('listVersionsByFunction', () => {
  // $LATEST, $LATEST.PUBLISHED and versions 1–12 (two digits check numeric order).
  const many = existing(
    run(Array.from({ length: 12 }, (_, i) => [configure({ Timeout: 10 + i }), publish()]).flat(), run([create(), publish({ PublishTo: 'LATEST_PUBLISHED' })])),
  );
  const order = ['$LATEST', '$LATEST.PUBLISHED', ...Array.from({ length: 12 }, (_, i) => String(i + 1))];

  it('lists $LATEST first, then $LATEST.PUBLISHED, then numbered versions in order', () => {
    const { Versions, NextMarker } = listVersionsByFunction(many);
    expect(Versions?.map((version) => version.Version)).toEqual(order);
    expect(Versions?.map((version) => version.FunctionArn)).toEqual(order.map((version) => `${fnArn}:${version}`));
    expect(NextMarker).toBeUndefined();
  });

  it('pages with Marker and MaxItems', () => {
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const result = listVersionsByFunction(many, { MaxItems: 5, ...(marker === undefined ? {} : { Marker: marker }) });
      expect(result.Versions!.length).toBeLessThanOrEqual(5);
      seen.push(...result.Versions!.map((version) => version.Version!));
      marker = result.NextMarker;
    } while (marker !== undefined);
    expect(seen).toEqual(order);
    expect(listVersionsByFunction(many, { MaxItems: 2 }).NextMarker).toBe(encodeMarker(versionSortKey('$LATEST.PUBLISHED')));
  });

  it('returns 50 by default and accepts up to 10000', () => {
    const big = existing(run(Array.from({ length: 60 }, (_, i) => [configure({ Timeout: 100 + i }), publish()]).flat(), run([create()])));
    expect(listVersionsByFunction(big).Versions).toHaveLength(50);
    expect(listVersionsByFunction(big, { MaxItems: 10000 }).Versions).toHaveLength(61);
  });

  it.each<[Record<string, unknown>, string]>([
    [{ MaxItems: 0 }, 'MaxItems 0 is out of range (allowed: 1–10000)'],
    [{ MaxItems: 10001 }, 'MaxItems 10001 is out of range (allowed: 1–10000)'],
    [{ MaxItems: 1.5 }, 'MaxItems 1.5 is not a whole number (allowed: whole numbers 1–10000)'],
    [{ Marker: '***' }, 'Marker "***" is invalid (allowed: a NextMarker returned by the previous call)'],
  ])('rejects %j', (request, message) => {
    expectError(() => listVersionsByFunction(many, request), InvalidParameterValueException, message);
  });
});

describe('ListFunctions with FunctionVersion=ALL', () => {
  const other = existing(run([create('alpha'), publish({}, 'alpha'), activate('1', 'alpha')]));

  it('lists $LATEST of each function by default, unqualified', () => {
    const items = [fn, other].flatMap((state) => listedFunctionConfigurations(state));
    expect(listFunctions(items).Functions?.map((item) => [item.FunctionArn, item.Version])).toEqual([
      ['arn:aws:lambda:us-east-1:123456789012:function:alpha', '$LATEST'],
      [fnArn, '$LATEST'],
    ]);
  });

  it('lists every version by function then version, and pages across functions', () => {
    const items = [fn, other].flatMap((state) => listedFunctionConfigurations(state, 'ALL'));
    const all = listFunctions(items, { FunctionVersion: 'ALL' }).Functions?.map((item) => `${item.FunctionName}:${item.Version}`);
    expect(all).toEqual(['alpha:$LATEST', 'alpha:1', 'fn1:$LATEST', 'fn1:$LATEST.PUBLISHED', 'fn1:1', 'fn1:2']);
    const first = listFunctions(items, { FunctionVersion: 'ALL', MaxItems: 3 });
    const rest = listFunctions(items, { FunctionVersion: 'ALL', Marker: first.NextMarker });
    expect([...first.Functions!, ...rest.Functions!].map((item) => `${item.FunctionName}:${item.Version}`)).toEqual(all);
    expect(items.every((item) => item.FunctionArn?.endsWith(`:${item.Version}`))).toBe(true);
  });
});

describe('function versions on a capacity provider', () => {
  const cp2 = providerState('Active', 'x86_64', 'cp2');
  const moved = existing(
    run(
      [
        {
          type: 'UpdateFunctionConfiguration',
          data: {
            request: { FunctionName: 'fn1', CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn('cp2') } } },
            capacityProvider: cp2,
          },
        },
      ],
      fn,
    ),
  );

  it('lists $LATEST and the published versions with qualified ARNs', () => {
    expect(functionVersionsOnCapacityProvider(fn, providerArn())).toEqual([
      { FunctionArn: `${fnArn}:$LATEST`, State: 'ActiveNonInvocable' },
      { FunctionArn: `${fnArn}:$LATEST.PUBLISHED`, State: 'Active' },
      { FunctionArn: `${fnArn}:1`, State: 'Active' },
      { FunctionArn: `${fnArn}:2`, State: 'Pending' },
    ]);
    expect(publishedVersionsOnCapacityProvider(fn, providerArn())).toHaveLength(3);
  });

  it('keeps published versions where they were published when $LATEST moves', () => {
    expect(functionVersionsOnCapacityProvider(moved, providerArn()).map((item) => item.FunctionArn)).toEqual([
      `${fnArn}:$LATEST.PUBLISHED`,
      `${fnArn}:1`,
      `${fnArn}:2`,
    ]);
    expect(functionVersionsOnCapacityProvider(moved, providerArn('cp2'))).toEqual([{ FunctionArn: `${fnArn}:$LATEST`, State: 'ActiveNonInvocable' }]);
    expect(publishedVersionsOnCapacityProvider(moved, providerArn('cp2'))).toEqual([]);
  });

  it('feeds ListFunctionVersionsByCapacityProvider', () => {
    const page = listFunctionVersionsByCapacityProvider(providerArn(), functionVersionsOnCapacityProvider(fn, providerArn()), { MaxItems: 2 });
    expect(page.FunctionVersions.map((item) => item.FunctionArn)).toEqual([`${fnArn}:$LATEST`, `${fnArn}:$LATEST.PUBLISHED`]);
    expect(page.NextMarker).toBeDefined();
  });

  it('shows every version Deleting while the function is deleted', () => {
    const deleting = existing(run([remove()], fn));
    expect(new Set(functionVersionsOnCapacityProvider(deleting, providerArn()).map((item) => item.State))).toEqual(new Set(['Deleting']));
  });
});

describe('resolveInvocationQualifier', () => {
  const withoutLatestPublished = existing(run([create(), publish(), activate('1')]));
  const nothingPublished = existing(run([create()]));
  const pendingLatestPublished = existing(run([publish({ PublishTo: 'LATEST_PUBLISHED' })], nothingPublished));

  it.each<[string, ExistingFunction, string, string | undefined, string]>([
    ['no qualifier to $LATEST.PUBLISHED', fn, 'fn1', undefined, '$LATEST.PUBLISHED'],
    ['a numbered version', fn, 'fn1', '1', '1'],
    ['the qualifier in the ARN', fn, `${fnArn}:$LATEST.PUBLISHED`, undefined, '$LATEST.PUBLISHED'],
    ['a numbered version without $LATEST.PUBLISHED', withoutLatestPublished, 'fn1:1', undefined, '1'],
  ])('resolves %s', (_case, state, name, qualifier, Version) => {
    const target = resolveInvocationQualifier(state, name, qualifier, scope);
    expect(target).toMatchObject({ FunctionName: 'fn1', Version, FunctionArn: `${fnArn}:${Version}` });
    expect(target.version.State).toBe('Active');
  });

  it.each<[string, FunctionStreamState, string | undefined, abstract new (...args: never[]) => LambdaError, string]>([
    ['$LATEST when $LATEST.PUBLISHED exists', fn, '$LATEST', InvalidParameterValueException, latestNotInvocableMessage],
    ['$LATEST when $LATEST.PUBLISHED is still Pending', pendingLatestPublished, '$LATEST', InvalidParameterValueException, latestNotInvocableMessage],
    ['$LATEST without $LATEST.PUBLISHED', withoutLatestPublished, '$LATEST', NoPublishedVersionException, noPublishedVersionMessage],
    ['no qualifier without $LATEST.PUBLISHED', withoutLatestPublished, undefined, NoPublishedVersionException, noPublishedVersionMessage],
    ['no qualifier with nothing published', nothingPublished, undefined, NoPublishedVersionException, noPublishedVersionMessage],
    ['a version that does not exist', fn, '7', ResourceNotFoundException, `Function not found: ${fnArn}:7`],
    ['an alias', fn, 'live', ResourceNotFoundException, `Function not found: ${fnArn}:live`],
    ['a missing function', initialFunctionState, undefined, ResourceNotFoundException, `Function not found: ${fnArn}:$LATEST`],
    ['a Pending version', fn, '2', ResourceConflictException, stateConflict('Pending')],
    ['a Pending $LATEST.PUBLISHED', pendingLatestPublished, undefined, ResourceConflictException, stateConflict('Pending')],
    ['a Failed version', run([fail('2')], fn), '2', ResourceConflictException, stateConflict('Failed')],
    ['a Deleting version', run([remove('1')], fn), '1', ResourceConflictException, stateConflict('Deleting')],
    ['a version of a function being deleted', run([remove()], fn), '1', ResourceConflictException, stateConflict('Deleting')],
  ])('refuses %s', (_case, state, qualifier, type, message) => {
    expectError(() => resolveInvocationQualifier(state, 'fn1', qualifier, scope), type, message);
  });

  it('carries the reason code of a Failed version', () => {
    try {
      resolveInvocationQualifier(run([fail('2')], fn), 'fn1', '2', scope);
      expect.unreachable();
    } catch (error) {
      expect((error as LambdaError).reason).toBe('FunctionError.InitTimeout');
    }
  });

  it('still invokes an Active $LATEST.PUBLISHED while it is republished', () => {
    const updating = existing(run([configure({ Timeout: 40 }), publish({ PublishTo: 'LATEST_PUBLISHED' })], fn));
    expect(resolveInvocationQualifier(updating, 'fn1', undefined, scope).version.LastUpdateStatus).toBe('InProgress');
  });
});
