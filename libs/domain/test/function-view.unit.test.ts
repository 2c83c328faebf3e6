import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException, ResourceNotFoundException } from '@hearth/errors';
import {
  decideFunction,
  encodeMarker,
  evolveFunction,
  functionConfigurationView,
  getFunctionView,
  initialFunctionState,
  listFunctions,
  requireFunction,
  type ExistingFunction,
  type FunctionConfiguration,
} from '@hearth/domain';
import { code, context, createFunctionRequest, expectError, lambdaNow, providerArn, providerState, roleArn, scope } from './fixtures.js';

function createFunction(overrides: Record<string, unknown> = {}): ExistingFunction {
  const events = decideFunction(
    { type: 'CreateFunction', data: { request: createFunctionRequest(overrides), code, capacityProvider: providerState('Active') } },
    initialFunctionState,
    context(),
  );
  const state = events.reduce(evolveFunction, initialFunctionState);
  if (state.status !== 'Present') throw new Error('expected a function');
  return state;
}

const fnArn = 'arn:aws:lambda:us-east-1:123456789012:function:fn1';

describe('functionConfigurationView', () => {
  it('returns the FunctionConfiguration of $LATEST', () => {
    expect(functionConfigurationView(createFunction())).toEqual({
      FunctionName: 'fn1',
      FunctionArn: fnArn,
      Runtime: 'nodejs22.x',
      Role: roleArn,
      Handler: 'index.handler',
      CodeSize: 1234,
      Description: '',
      Timeout: 3,
      MemorySize: 2048,
      LastModified: lambdaNow,
      CodeSha256: code.CodeSha256,
      Version: '$LATEST',
      TracingConfig: { Mode: 'PassThrough' },
      RevisionId: 'rev-1',
      State: 'ActiveNonInvocable',
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

  it('shows environment variables and a KMS key only when set', () => {
    const view = functionConfigurationView(
      createFunction({
        Environment: { Variables: { STAGE: 'prod' } },
        KMSKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/k',
        CapacityProviderConfig: {
          LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn(), PerExecutionEnvironmentMaxConcurrency: 32 },
        },
      }),
    );
    expect(view.Environment).toEqual({ Variables: { STAGE: 'prod' } });
    expect(view.KMSKeyArn).toBe('arn:aws:kms:us-east-1:123456789012:key/k');
    expect(view.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig.PerExecutionEnvironmentMaxConcurrency).toBe(32);
  });

  it('shares nothing with the state', () => {
    const state = createFunction({ Environment: { Variables: { STAGE: 'prod' } } });
    const view = functionConfigurationView(state);
    view.Environment!.Variables!.STAGE = 'changed';
    view.Architectures!.push('arm64');
    expect(state.configuration.Environment.Variables.STAGE).toBe('prod');
    expect(state.configuration.Architectures).toEqual(['x86_64']);
  });
});

describe('getFunctionView', () => {
  it('adds the code location and tags', () => {
    const view = getFunctionView(createFunction({ Tags: { team: 'core' } }), { codeBaseUrl: 'http://127.0.0.1:9000/code' });
    expect(view.Code).toEqual({ RepositoryType: 'S3', Location: `http://127.0.0.1:9000/code/${code.sha256Hex}` });
    expect(view.Tags).toEqual({ team: 'core' });
    expect(view.Configuration?.FunctionName).toBe('fn1');
  });

  it('leaves Tags out when there are none', () => {
    expect(getFunctionView(createFunction(), { codeBaseUrl: 'http://x' })).not.toHaveProperty('Tags');
  });
});

describe('requireFunction', () => {
  it('finds $LATEST by name, ARN or qualifier', () => {
    const state = createFunction();
    expect(requireFunction(state, 'fn1', undefined, scope)).toBe(state);
    expect(requireFunction(state, fnArn, '$LATEST', scope)).toBe(state);
  });

  it.each<[string | undefined, string]>([
    [undefined, `Function not found: ${fnArn}`],
    ['7', `Function not found: ${fnArn}:7`],
  ])('reports a missing function (Qualifier %s)', (qualifier, message) => {
    expectError(() => requireFunction(initialFunctionState, 'fn1', qualifier, scope), ResourceNotFoundException, message);
  });

  it('reports versions that do not exist yet', () => {
    expectError(() => requireFunction(createFunction(), 'fn1:2', undefined, scope), ResourceNotFoundException, `Function not found: ${fnArn}:2`);
  });
});

describe('listFunctions', () => {
  const functions = ['gamma', 'alpha', 'beta'].map((FunctionName) => ({ FunctionName }));

  it('lists by name with paging', () => {
    const first = listFunctions(functions, { MaxItems: 2 });
    expect(first).toEqual({ Functions: [{ FunctionName: 'alpha' }, { FunctionName: 'beta' }], NextMarker: encodeMarker('beta') });
    expect(listFunctions(functions, { Marker: first.NextMarker })).toEqual({ Functions: [{ FunctionName: 'gamma' }] });
  });

  it('returns up to 50 by default and accepts up to 10000', () => {
    const many = Array.from({ length: 120 }, (_, i) => ({ FunctionName: `f${String(i).padStart(3, '0')}` }));
    expect(listFunctions(many).Functions).toHaveLength(50);
    expect(listFunctions(many, { MaxItems: 10000 })).toEqual({ Functions: many });
  });

  it.each<[Record<string, unknown>, string]>([
    [{ MaxItems: 0 }, 'MaxItems 0 is out of range (allowed: 1–10000)'],
    [{ FunctionVersion: 'LATEST' }, 'FunctionVersion "LATEST" is not supported (allowed: ALL)'],
    [{ Marker: '***' }, 'Marker "***" is invalid (allowed: a NextMarker returned by the previous call)'],
  ])('rejects %j', (request, message) => {
    expectError(() => listFunctions(functions, request), InvalidParameterValueException, message);
  });
});
