import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException } from '@hearth/errors';
import {
  initialCapacityProviderState,
  validateCreateFunction,
  validateUpdateFunctionConfiguration,
  type CapacityProviderStreamState,
  type FunctionDefinition,
} from '@hearth/domain';
import { createFunctionRequest, expectError, providerArn, providerState, roleArn, runtimes, scope } from './fixtures.js';

const ctx = { ...scope, supportedRuntimes: runtimes };
const active = providerState('Active');
const lmi = 'CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig';
const withLmi = (config: Record<string, unknown>) => ({
  CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn(), ...config } },
});
// Passing undefined must mean "no provider stream", so the default is spelled out rather than a default parameter.
const validate = (overrides: Record<string, unknown> = {}, ...provider: [CapacityProviderStreamState | undefined] | []) =>
  validateCreateFunction(createFunctionRequest(overrides), 'fn1', ctx, provider.length === 0 ? active : provider[0]);

const expectedDefaults: FunctionDefinition = {
  FunctionName: 'fn1',
  FunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fn1',
  Runtime: 'nodejs22.x',
  Role: roleArn,
  Handler: 'index.handler',
  Description: '',
  Timeout: 3,
  MemorySize: 2048,
  Environment: { Variables: {} },
  KMSKeyArn: '',
  TracingConfig: { Mode: 'PassThrough' },
  PackageType: 'Zip',
  Architectures: ['x86_64'],
  EphemeralStorage: { Size: 512 },
  LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO', LogGroup: '/aws/lambda/fn1' },
  CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn(), ExecutionEnvironmentMemoryGiBPerVCpu: 2 } },
};

describe('validateCreateFunction: defaults', () => {
  it('fills every default in', () => {
    expect(validate()).toEqual({ definition: expectedDefaults, Tags: {} });
  });

  it.each([
    [4, 4096],
    [8, 8192],
  ])('defaults MemorySize to one vCPU at ratio %i (%i MB)', (ratio, memory) => {
    expect(validate(withLmi({ ExecutionEnvironmentMemoryGiBPerVCpu: ratio })).definition.MemorySize).toBe(memory);
  });

  it('keeps everything a full request gives', () => {
    const result = validate({
      Description: 'd'.repeat(256),
      Timeout: 900,
      MemorySize: 32768,
      Publish: true,
      VpcConfig: { SubnetIds: [], SecurityGroupIds: [] },
      PackageType: 'Zip',
      DeadLetterConfig: {},
      Environment: { Variables: { STAGE: 'prod', Db_Url2: 'x' } },
      KMSKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/k',
      TracingConfig: { Mode: 'Active' },
      Tags: { team: 'core' },
      Layers: [],
      Architectures: ['x86_64'],
      EphemeralStorage: { Size: 10240 },
      SnapStart: { ApplyOn: 'None' },
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'DEBUG', SystemLogLevel: 'WARN', LogGroup: '/custom' },
      PublishTo: 'LATEST_PUBLISHED',
      ...withLmi({ PerExecutionEnvironmentMaxConcurrency: 1600, ExecutionEnvironmentMemoryGiBPerVCpu: 8 }),
    });
    expect(result).toEqual({
      definition: {
        ...expectedDefaults,
        Description: 'd'.repeat(256),
        Timeout: 900,
        MemorySize: 32768,
        Environment: { Variables: { STAGE: 'prod', Db_Url2: 'x' } },
        KMSKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/k',
        TracingConfig: { Mode: 'Active' },
        EphemeralStorage: { Size: 10240 },
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'DEBUG', SystemLogLevel: 'WARN', LogGroup: '/custom' },
        CapacityProviderConfig: {
          LambdaManagedInstancesCapacityProviderConfig: {
            CapacityProviderArn: providerArn(),
            ExecutionEnvironmentMemoryGiBPerVCpu: 8,
            PerExecutionEnvironmentMaxConcurrency: 1600,
          },
        },
      },
      Tags: { team: 'core' },
      Publish: true,
      PublishTo: 'LATEST_PUBLISHED',
    });
  });

  it('runs on an arm64 provider when Architectures says so', () => {
    expect(validate({ Architectures: ['arm64'] }, providerState('Active', 'arm64')).definition.Architectures).toEqual(['arm64']);
  });

  it('accepts environment variables up to 4096 bytes of JSON', () => {
    // {"A1":"…"} is 9 bytes of syntax around the value.
    expect(() => validate({ Environment: { Variables: { A1: 'x'.repeat(4096 - 9) } } })).not.toThrow();
  });
});

describe('validateCreateFunction: rules and messages', () => {
  const zip = 'Runtime and Handler are mandatory parameters for functions created with deployment packages.';
  const bigEnv = { A1: 'x'.repeat(4096 - 8) };

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a missing CapacityProviderConfig',
      { CapacityProviderConfig: undefined },
      `CapacityProviderConfig is required: Hearth runs only Lambda Managed Instances functions (allowed: ${lmi} with a CapacityProviderArn)`,
    ],
    ['an empty CapacityProviderConfig', { CapacityProviderConfig: {} }, `${lmi} is required`],
    ['a missing CapacityProviderArn', { CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: {} } }, `${lmi}.CapacityProviderArn is required`],
    [
      'a capacity provider name instead of an ARN',
      withLmi({ CapacityProviderArn: 'cp1' }),
      `${lmi}.CapacityProviderArn "cp1" is invalid (allowed: a capacity provider ARN arn:aws:lambda:<region>:<account-id>:capacity-provider:<name>)`,
    ],
    [
      'a capacity provider of another region',
      withLmi({ CapacityProviderArn: 'arn:aws:lambda:eu-west-1:123456789012:capacity-provider:cp1' }),
      `${lmi}.CapacityProviderArn "arn:aws:lambda:eu-west-1:123456789012:capacity-provider:cp1" is in another account or region (allowed: capacity providers of account 123456789012 in us-east-1)`,
    ],
    [
      'a concurrency of 0',
      withLmi({ PerExecutionEnvironmentMaxConcurrency: 0 }),
      `${lmi}.PerExecutionEnvironmentMaxConcurrency 0 is out of range (allowed: 1–1600)`,
    ],
    [
      'a concurrency of 1601',
      withLmi({ PerExecutionEnvironmentMaxConcurrency: 1601 }),
      `${lmi}.PerExecutionEnvironmentMaxConcurrency 1601 is out of range (allowed: 1–1600)`,
    ],
    [
      'a fractional concurrency',
      withLmi({ PerExecutionEnvironmentMaxConcurrency: 1.5 }),
      `${lmi}.PerExecutionEnvironmentMaxConcurrency 1.5 is not a whole number (allowed: whole numbers 1–1600)`,
    ],
    ['a ratio of 3', withLmi({ ExecutionEnvironmentMemoryGiBPerVCpu: 3 }), `${lmi}.ExecutionEnvironmentMemoryGiBPerVCpu 3 is not supported (allowed: 2, 4, 8)`],
    ['a ratio of 16', withLmi({ ExecutionEnvironmentMemoryGiBPerVCpu: 16 }), `${lmi}.ExecutionEnvironmentMemoryGiBPerVCpu 16 is out of range (allowed: 2–8)`],
    [
      'an Image package',
      { PackageType: 'Image', Runtime: undefined, Handler: undefined },
      'PackageType "Image" is not supported for Lambda Managed Instances functions in Hearth (allowed: Zip)',
    ],
    ['an unknown package type', { PackageType: 'Jar' }, 'PackageType "Jar" is not supported (allowed: Zip, Image)'],
    ['a missing Runtime', { Runtime: undefined }, `Runtime is required: ${zip}`],
    [
      'an unsupported Runtime',
      { Runtime: 'python3.12' },
      'Runtime "python3.12" is not supported for Lambda Managed Instances functions (allowed: nodejs22.x, nodejs24.x, python3.13, python3.14)',
    ],
    ['a missing Role', { Role: undefined }, 'Role is required'],
    [
      'a Role that is not a role ARN',
      { Role: 'lambda-role' },
      'Role "lambda-role" is invalid (allowed: an IAM role ARN arn:aws:iam::<account-id>:role/<name>)',
    ],
    ['a missing Handler', { Handler: undefined }, `Handler is required: ${zip}`],
    ['an empty Handler', { Handler: '' }, 'Handler "" has 0 characters (allowed: 1–128 characters)'],
    ['a Handler with a space', { Handler: 'index handler' }, 'Handler "index handler" is invalid (allowed: text without whitespace)'],
    ['a 129-character Handler', { Handler: 'h'.repeat(129) }, `Handler "${'h'.repeat(64)}…" has 129 characters (allowed: 1–128 characters)`],
    ['a 257-character Description', { Description: 'd'.repeat(257) }, `Description "${'d'.repeat(64)}…" has 257 characters (allowed: 0–256 characters)`],
    ['Timeout 0', { Timeout: 0 }, 'Timeout 0 is out of range (allowed: 1–900)'],
    ['Timeout 901', { Timeout: 901 }, 'Timeout 901 is out of range (allowed: 1–900)'],
    ['a fractional Timeout', { Timeout: 1.5 }, 'Timeout 1.5 is not a whole number (allowed: whole numbers 1–900)'],
    ['MemorySize 128', { MemorySize: 128 }, 'MemorySize 128 is out of range (allowed: 2048–32768 in steps of 2048)'],
    [
      'MemorySize 3000',
      { MemorySize: 3000 },
      'MemorySize 3000 is not a multiple of ExecutionEnvironmentMemoryGiBPerVCpu 2 GiB (allowed: 2048–32768 in steps of 2048)',
    ],
    [
      'MemorySize below one vCPU at ratio 8',
      { MemorySize: 4096, ...withLmi({ ExecutionEnvironmentMemoryGiBPerVCpu: 8 }) },
      'MemorySize 4096 is less than one vCPU at ExecutionEnvironmentMemoryGiBPerVCpu 8 GiB (allowed: 8192–32768 in steps of 8192)',
    ],
    ['Publish as text', { Publish: 'yes' }, 'Publish must be true or false (got "yes")'],
    [
      'a function-level VpcConfig',
      { VpcConfig: { SubnetIds: ['subnet-1'], SecurityGroupIds: ['sg-1'] } },
      "VpcConfig isn't supported for Lambda Managed Instances functions: they use their capacity provider's VpcConfig (allowed: no VpcConfig, or empty SubnetIds and SecurityGroupIds)",
    ],
    [
      'a dead-letter queue',
      { DeadLetterConfig: { TargetArn: 'arn:aws:sqs:us-east-1:123456789012:dlq' } },
      'DeadLetterConfig is not supported by Hearth (allowed: no DeadLetterConfig)',
    ],
    [
      'a variable name starting with a digit',
      { Environment: { Variables: { '1A': 'x' } } },
      'Environment.Variables name "1A" is invalid (allowed: pattern [a-zA-Z]([a-zA-Z0-9_])+)',
    ],
    [
      'a one-letter variable name',
      { Environment: { Variables: { A: 'x' } } },
      'Environment.Variables name "A" is invalid (allowed: pattern [a-zA-Z]([a-zA-Z0-9_])+)',
    ],
    [
      'a reserved variable',
      { Environment: { Variables: { AWS_REGION: 'x' } } },
      'Environment.Variables name "AWS_REGION" is reserved by Lambda (allowed: names other than _HANDLER, _X_AMZN_TRACE_ID, AWS_DEFAULT_REGION, AWS_REGION, AWS_EXECUTION_ENV, AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_INITIALIZATION_TYPE, AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME, AWS_LAMBDA_MAX_CONCURRENCY, AWS_ACCESS_KEY, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_LAMBDA_RUNTIME_API, LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR)',
    ],
    ['a variable that is not text', { Environment: { Variables: { SECRET: 42 } } }, 'Environment.Variables.SECRET must be a string'],
    ['variables over 4 KB', { Environment: { Variables: bigEnv } }, 'Environment.Variables take 4097 bytes (allowed: at most 4096 bytes, measured as JSON)'],
    ['a KMSKeyArn that is not an ARN', { KMSKeyArn: 'key' }, 'KMSKeyArn "key" is invalid (allowed: a KMS key ARN, or "" for the AWS-managed key)'],
    ['an unknown tracing mode', { TracingConfig: { Mode: 'On' } }, 'TracingConfig.Mode "On" is not supported (allowed: Active, PassThrough)'],
    ['a reserved tag', { Tags: { 'aws:cloudformation:stack-name': 's' } }, 'Tags key "aws:cloudformation:stack-name" is reserved (allowed: keys not starting with aws:)'],
    ['layers', { Layers: ['arn:aws:lambda:us-east-1:123456789012:layer:l:1'] }, 'Layers is not supported by Hearth (allowed: no Layers)'],
    [
      'an EFS mount',
      { FileSystemConfigs: [{ Arn: 'arn:x', LocalMountPath: '/mnt/efs' }] },
      'FileSystemConfigs is not supported by Hearth (allowed: no FileSystemConfigs)',
    ],
    ['an image config', { ImageConfig: { Command: ['app.handler'] } }, 'ImageConfig is not supported by Hearth (allowed: no ImageConfig)'],
    [
      'code signing',
      { CodeSigningConfigArn: 'arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0123456789abcdef0' },
      'CodeSigningConfigArn is not supported by Hearth (allowed: no CodeSigningConfigArn)',
    ],
    ['no architecture', { Architectures: [] }, 'Architectures has 0 items (allowed: exactly 1 item)'],
    ['an unknown architecture', { Architectures: ['ppc64'] }, 'Architectures[0] "ppc64" is not supported (allowed: x86_64, arm64)'],
    [
      'an architecture the provider lacks',
      { Architectures: ['arm64'] },
      'Architectures ["arm64"] does not match the architecture of capacity provider cp1 (allowed: ["x86_64"])',
    ],
    ['a missing storage size', { EphemeralStorage: {} }, 'EphemeralStorage.Size is required'],
    ['511 MB of storage', { EphemeralStorage: { Size: 511 } }, 'EphemeralStorage.Size 511 is out of range (allowed: 512–10240)'],
    ['10241 MB of storage', { EphemeralStorage: { Size: 10241 } }, 'EphemeralStorage.Size 10241 is out of range (allowed: 512–10240)'],
    [
      'SnapStart',
      { SnapStart: { ApplyOn: 'PublishedVersions' } },
      'SnapStart.ApplyOn "PublishedVersions" is not supported for Lambda Managed Instances functions (allowed: None)',
    ],
    [
      'Text logs',
      { LoggingConfig: { LogFormat: 'Text' } },
      'LoggingConfig.LogFormat "Text" is not supported for Lambda Managed Instances functions (allowed: JSON)',
    ],
    [
      'an unknown application log level',
      { LoggingConfig: { ApplicationLogLevel: 'VERBOSE' } },
      'LoggingConfig.ApplicationLogLevel "VERBOSE" is not supported (allowed: TRACE, DEBUG, INFO, WARN, ERROR, FATAL)',
    ],
    [
      'an unknown system log level',
      { LoggingConfig: { SystemLogLevel: 'ERROR' } },
      'LoggingConfig.SystemLogLevel "ERROR" is not supported (allowed: DEBUG, INFO, WARN)',
    ],
    ['a bad log group', { LoggingConfig: { LogGroup: 'a b' } }, 'LoggingConfig.LogGroup "a b" is invalid (allowed: pattern [\\.\\-_/#A-Za-z0-9]+)'],
    ['an unknown PublishTo', { PublishTo: 'LATEST' }, 'PublishTo "LATEST" is not supported (allowed: LATEST_PUBLISHED)'],
    ['a durable config', { DurableConfig: { ExecutionTimeout: 60 } }, 'DurableConfig is not supported by Hearth (allowed: no DurableConfig)'],
    ['a tenancy config', { TenancyConfig: { TenantIsolationMode: 'PER_TENANT' } }, 'TenancyConfig is not supported by Hearth (allowed: no TenancyConfig)'],
  ])('rejects %s', (_case, overrides, message) => {
    expectError(() => validate(overrides), InvalidParameterValueException, message);
  });

  it('rejects the x86_64 default on an arm64 provider', () => {
    expectError(
      () => validate({}, providerState('Active', 'arm64')),
      InvalidParameterValueException,
      'Architectures ["x86_64"] does not match the architecture of capacity provider cp1 (allowed: ["arm64"])',
    );
  });

  it.each<[string, CapacityProviderStreamState | undefined, string]>([
    ['no provider stream', undefined, 'does not exist (allowed: an existing capacity provider in state Active)'],
    ['a deleted provider', initialCapacityProviderState, 'does not exist (allowed: an existing capacity provider in state Active)'],
    ['a Pending provider', providerState('Pending'), 'is Pending (allowed: a capacity provider in state Active)'],
    ['a Failed provider', providerState('Failed'), 'is Failed (allowed: a capacity provider in state Active)'],
    ['a Deleting provider', providerState('Deleting'), 'is Deleting (allowed: a capacity provider in state Active)'],
  ])('rejects %s', (_case, provider, tail) => {
    expectError(() => validate({}, provider), InvalidParameterValueException, `${lmi}.CapacityProviderArn "${providerArn()}" ${tail}`);
  });

  it('refuses a provider state that belongs to another ARN', () => {
    expect(() => validate({}, providerState('Active', 'x86_64', 'other'))).toThrow(/capacity provider state of .*other was passed for .*cp1/);
  });

  it('checks PackageType and CapacityProviderConfig before the members they govern', () => {
    expectError(
      () => validate({ PackageType: 'Image', Runtime: 'python3.12', CapacityProviderConfig: undefined }),
      InvalidParameterValueException,
      'PackageType "Image" is not supported for Lambda Managed Instances functions in Hearth (allowed: Zip)',
    );
    expectError(
      () => validate({ Runtime: 'python3.12', CapacityProviderConfig: undefined }),
      InvalidParameterValueException,
      `CapacityProviderConfig is required: Hearth runs only Lambda Managed Instances functions (allowed: ${lmi} with a CapacityProviderArn)`,
    );
  });

  it('then follows botocore member order', () => {
    expectError(
      () => validate({ Role: 'x', Timeout: 0, MemorySize: 3000, LoggingConfig: { LogFormat: 'Text' } }),
      InvalidParameterValueException,
      'Role "x" is invalid (allowed: an IAM role ARN arn:aws:iam::<account-id>:role/<name>)',
    );
  });
});

describe('validateUpdateFunctionConfiguration', () => {
  const current = validate().definition;
  const update = (body: Record<string, unknown>, provider?: CapacityProviderStreamState) =>
    validateUpdateFunctionConfiguration({ FunctionName: 'fn1', ...body }, current, ctx, provider);

  it('returns the new value of each member given', () => {
    expect(update({ Timeout: 30, Description: 'x', Runtime: 'python3.13', Handler: 'app.handler' })).toEqual({
      Timeout: 30,
      Description: 'x',
      Runtime: 'python3.13',
      Handler: 'app.handler',
    });
  });

  it('merges LoggingConfig and TracingConfig, replaces Environment', () => {
    expect(update({ LoggingConfig: { ApplicationLogLevel: 'ERROR' }, TracingConfig: {}, Environment: {} })).toEqual({
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'ERROR', SystemLogLevel: 'INFO', LogGroup: '/aws/lambda/fn1' },
      TracingConfig: { Mode: 'PassThrough' },
      Environment: { Variables: {} },
    });
  });

  it('checks the current MemorySize against a new ratio', () => {
    expectError(
      () => update(withLmi({ ExecutionEnvironmentMemoryGiBPerVCpu: 4 }), active),
      InvalidParameterValueException,
      'MemorySize 2048 is less than one vCPU at ExecutionEnvironmentMemoryGiBPerVCpu 4 GiB (allowed: 4096–32768 in steps of 4096)',
    );
    expect(update({ MemorySize: 8192, ...withLmi({ ExecutionEnvironmentMemoryGiBPerVCpu: 4 }) }, active)).toEqual({
      MemorySize: 8192,
      CapacityProviderConfig: {
        LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn(), ExecutionEnvironmentMemoryGiBPerVCpu: 4 },
      },
    });
  });

  it('replaces CapacityProviderConfig whole: omitted members take their defaults', () => {
    const tuned = { ...current, CapacityProviderConfig: withLmi({ PerExecutionEnvironmentMaxConcurrency: 8, ExecutionEnvironmentMemoryGiBPerVCpu: 2 }).CapacityProviderConfig } as FunctionDefinition;
    expect(validateUpdateFunctionConfiguration({ FunctionName: 'fn1', ...withLmi({}) }, tuned, ctx, active)).toEqual({
      CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn(), ExecutionEnvironmentMemoryGiBPerVCpu: 2 } },
    });
  });

  it('moves $LATEST to another Active provider of the same architecture', () => {
    const other = providerState('Active', 'x86_64', 'cp2');
    expect(update(withLmi({ CapacityProviderArn: providerArn('cp2') }), other)).toEqual({
      CapacityProviderConfig: {
        LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn('cp2'), ExecutionEnvironmentMemoryGiBPerVCpu: 2 },
      },
    });
  });

  it.each<[string, Record<string, unknown>, CapacityProviderStreamState | undefined, string]>([
    [
      'a provider of another architecture',
      withLmi({ CapacityProviderArn: providerArn('cp2') }),
      providerState('Active', 'arm64', 'cp2'),
      'Architectures ["x86_64"] does not match the architecture of capacity provider cp2 (allowed: ["arm64"])',
    ],
    [
      'a provider that does not exist',
      withLmi({ CapacityProviderArn: providerArn('cp2') }),
      undefined,
      `${lmi}.CapacityProviderArn "${providerArn('cp2')}" does not exist (allowed: an existing capacity provider in state Active)`,
    ],
    ['removing the capacity provider', { CapacityProviderConfig: {} }, active, `${lmi} is required`],
    ['Text logs', { LoggingConfig: { LogFormat: 'Text' } }, undefined, 'LoggingConfig.LogFormat "Text" is not supported for Lambda Managed Instances functions (allowed: JSON)'],
    ['MemorySize 3000', { MemorySize: 3000 }, undefined, 'MemorySize 3000 is not a multiple of ExecutionEnvironmentMemoryGiBPerVCpu 2 GiB (allowed: 2048–32768 in steps of 2048)'],
    ['an unsupported runtime', { Runtime: 'java21' }, undefined, 'Runtime "java21" is not supported for Lambda Managed Instances functions (allowed: nodejs22.x, nodejs24.x, python3.13, python3.14)'],
    ['layers', { Layers: ['arn:aws:lambda:us-east-1:123456789012:layer:l:1'] }, undefined, 'Layers is not supported by Hearth (allowed: no Layers)'],
    ['a durable config', { DurableConfig: { RetentionPeriodInDays: 3 } }, undefined, 'DurableConfig is not supported by Hearth (allowed: no DurableConfig)'],
  ])('rejects %s', (_case, body, provider, message) => {
    expectError(() => update(body, provider), InvalidParameterValueException, message);
  });

  it('accepts KMSKeyArn "" to return to the AWS-managed key', () => {
    const encrypted = { ...current, KMSKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/k' };
    expect(validateUpdateFunctionConfiguration({ FunctionName: 'fn1', KMSKeyArn: '' }, encrypted, ctx, undefined)).toEqual({ KMSKeyArn: '' });
  });
});
