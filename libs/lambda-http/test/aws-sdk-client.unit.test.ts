/**
 * Drives the server with the real `@aws-sdk/client-lambda`: every operation's
 * request must reach its handler with the members the caller gave, every
 * result must come back as the SDK's typed output, and every error as the
 * SDK's typed exception.
 */
import {
  CreateAliasCommand,
  CreateCapacityProviderCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteCapacityProviderCommand,
  DeleteFunctionCommand,
  DeleteFunctionEventInvokeConfigCommand,
  GetAccountSettingsCommand,
  GetAliasCommand,
  GetCapacityProviderCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  GetFunctionScalingConfigCommand,
  InvokeAsyncCommand,
  InvokeCommand,
  InvokeWithResponseStreamCommand,
  LambdaClient,
  LambdaServiceException,
  ListAliasesCommand,
  ListCapacityProvidersCommand,
  ListFunctionEventInvokeConfigsCommand,
  ListFunctionsCommand,
  ListFunctionVersionsByCapacityProviderCommand,
  ListTagsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  PutFunctionEventInvokeConfigCommand,
  PutFunctionScalingConfigCommand,
  RequestTooLargeException as SdkRequestTooLargeException,
  ResourceNotFoundException as SdkResourceNotFoundException,
  ServiceException as SdkServiceException,
  TagResourceCommand,
  TooManyRequestsException as SdkTooManyRequestsException,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateCapacityProviderCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceConflictException, ResourceNotFoundException, TooManyRequestsException } from '@hearth/errors';
import { operationNames, type OperationHandlers, type OperationName } from '../src/index.js';
import { accessLogs, startTestServer, type TestServer } from './test-server.js';

const fnArn = 'arn:aws:lambda:us-east-1:123456789012:function:my-fn';
const cpArn = 'arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp-1';
const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0xff]);
const cp = { CapacityProviderArn: cpArn, State: 'Active' };
const fnConfig = { FunctionName: 'my-fn', FunctionArn: fnArn, Version: '$LATEST', MemorySize: 2048 };

interface OperationCase {
  command: { constructor: { name: string } } & object;
  /** What the handler must receive. */
  expected: Record<string, unknown>;
  /** What the handler returns. Default: {}. */
  result?: unknown;
  /** Checks on the SDK's output. */
  check?: (output: Record<string, unknown>) => void | Promise<void>;
}

const cases: Record<OperationName, OperationCase> = {
  CreateAlias: {
    command: new CreateAliasCommand({ FunctionName: fnArn, Name: 'live', FunctionVersion: '3', Description: 'd' }),
    expected: { FunctionName: fnArn, Name: 'live', FunctionVersion: '3', Description: 'd' },
    result: { AliasArn: `${fnArn}:live`, Name: 'live', FunctionVersion: '3' },
    check: (output) => expect(output.AliasArn).toBe(`${fnArn}:live`),
  },
  CreateCapacityProvider: {
    command: new CreateCapacityProviderCommand({
      CapacityProviderName: 'cp-1',
      VpcConfig: { SubnetIds: ['subnet-1'], SecurityGroupIds: ['sg-1'] },
      PermissionsConfig: { CapacityProviderOperatorRoleArn: 'arn:aws:iam::123456789012:role/op' },
      Tags: { team: 'a' },
    }),
    expected: {
      CapacityProviderName: 'cp-1',
      VpcConfig: { SubnetIds: ['subnet-1'], SecurityGroupIds: ['sg-1'] },
      PermissionsConfig: { CapacityProviderOperatorRoleArn: 'arn:aws:iam::123456789012:role/op' },
      Tags: { team: 'a' },
    },
    result: { CapacityProvider: cp },
    check: (output) => expect(output.CapacityProvider).toEqual(cp),
  },
  CreateFunction: {
    command: new CreateFunctionCommand({
      FunctionName: 'my-fn',
      Role: 'arn:aws:iam::123456789012:role/r',
      Code: { ZipFile: zip },
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
      MemorySize: 2048,
      Timeout: 30,
      Environment: { Variables: { A: '1' } },
      CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: cpArn } },
      Publish: true,
      PublishTo: 'LATEST_PUBLISHED',
    }),
    expected: {
      FunctionName: 'my-fn',
      Role: 'arn:aws:iam::123456789012:role/r',
      Code: { ZipFile: Buffer.from(zip).toString('base64') },
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
      MemorySize: 2048,
      Timeout: 30,
      Environment: { Variables: { A: '1' } },
      CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: cpArn } },
      Publish: true,
      PublishTo: 'LATEST_PUBLISHED',
    },
    result: fnConfig,
    check: (output) => expect(output).toMatchObject(fnConfig),
  },
  DeleteAlias: {
    command: new DeleteAliasCommand({ FunctionName: 'my-fn', Name: 'live' }),
    expected: { FunctionName: 'my-fn', Name: 'live' },
  },
  DeleteCapacityProvider: {
    command: new DeleteCapacityProviderCommand({ CapacityProviderName: cpArn }),
    expected: { CapacityProviderName: cpArn },
    result: { CapacityProvider: { ...cp, State: 'Deleting' } },
    check: (output) => expect(output.CapacityProvider).toMatchObject({ State: 'Deleting' }),
  },
  DeleteFunction: {
    command: new DeleteFunctionCommand({ FunctionName: fnArn, Qualifier: '3' }),
    expected: { FunctionName: fnArn, Qualifier: '3' },
    result: { StatusCode: 202 },
    check: (output) => expect(output.StatusCode).toBe(202),
  },
  DeleteFunctionEventInvokeConfig: {
    command: new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'my-fn', Qualifier: 'live' }),
    expected: { FunctionName: 'my-fn', Qualifier: 'live' },
  },
  GetAccountSettings: {
    command: new GetAccountSettingsCommand({}),
    expected: {},
    result: { AccountLimit: { ConcurrentExecutions: 1000 }, AccountUsage: { FunctionCount: 2 } },
    check: (output) => expect(output.AccountLimit).toEqual({ ConcurrentExecutions: 1000 }),
  },
  GetAlias: {
    command: new GetAliasCommand({ FunctionName: 'my-fn', Name: 'live' }),
    expected: { FunctionName: 'my-fn', Name: 'live' },
    result: { Name: 'live', FunctionVersion: '3' },
    check: (output) => expect(output.FunctionVersion).toBe('3'),
  },
  GetCapacityProvider: {
    command: new GetCapacityProviderCommand({ CapacityProviderName: 'cp-1' }),
    expected: { CapacityProviderName: 'cp-1' },
    result: { CapacityProvider: cp },
    check: (output) => expect(output.CapacityProvider).toEqual(cp),
  },
  GetFunction: {
    command: new GetFunctionCommand({ FunctionName: `${fnArn}:live`, Qualifier: 'live' }),
    expected: { FunctionName: `${fnArn}:live`, Qualifier: 'live' },
    result: { Configuration: fnConfig, Code: { RepositoryType: 'S3', Location: 'http://x/hearth/code/abc' }, Tags: { a: 'b' } },
    check: (output) => {
      expect(output.Configuration).toMatchObject(fnConfig);
      expect(output.Tags).toEqual({ a: 'b' });
    },
  },
  GetFunctionConfiguration: {
    command: new GetFunctionConfigurationCommand({ FunctionName: 'my-fn', Qualifier: '$LATEST.PUBLISHED' }),
    expected: { FunctionName: 'my-fn', Qualifier: '$LATEST.PUBLISHED' },
    result: fnConfig,
    check: (output) => expect(output.MemorySize).toBe(2048),
  },
  GetFunctionEventInvokeConfig: {
    command: new GetFunctionEventInvokeConfigCommand({ FunctionName: 'my-fn' }),
    expected: { FunctionName: 'my-fn' },
    result: { FunctionArn: fnArn, MaximumRetryAttempts: 1, LastModified: new Date('2026-01-02T03:04:05Z') },
    check: (output) => expect(output.LastModified).toEqual(new Date('2026-01-02T03:04:05Z')),
  },
  GetFunctionScalingConfig: {
    command: new GetFunctionScalingConfigCommand({ FunctionName: 'my-fn', Qualifier: '$LATEST.PUBLISHED' }),
    expected: { FunctionName: 'my-fn', Qualifier: '$LATEST.PUBLISHED' },
    result: { FunctionArn: fnArn, AppliedFunctionScalingConfig: { MinExecutionEnvironments: 3 } },
    check: (output) => expect(output.AppliedFunctionScalingConfig).toEqual({ MinExecutionEnvironments: 3 }),
  },
  Invoke: {
    command: new InvokeCommand({
      FunctionName: fnArn,
      Qualifier: 'live',
      InvocationType: 'RequestResponse',
      LogType: 'None',
      ClientContext: Buffer.from('{"custom":{}}').toString('base64'),
      TenantId: 'tenant-1',
      Payload: new TextEncoder().encode('{"n":1}'),
    }),
    expected: {
      FunctionName: fnArn,
      Qualifier: 'live',
      InvocationType: 'RequestResponse',
      LogType: 'None',
      ClientContext: Buffer.from('{"custom":{}}').toString('base64'),
      TenantId: 'tenant-1',
      Payload: Buffer.from('{"n":1}'),
    },
    result: {
      Payload: Buffer.from('{"errorMessage":"boom","errorType":"Error"}'),
      FunctionError: 'Unhandled',
      ExecutedVersion: '3',
      LogResult: Buffer.from('log tail').toString('base64'),
    },
    check: (output) => {
      expect(output.StatusCode).toBe(200);
      expect(output.FunctionError).toBe('Unhandled');
      expect(output.ExecutedVersion).toBe('3');
      expect(output.LogResult).toBe(Buffer.from('log tail').toString('base64'));
      expect(Buffer.from(output.Payload as Uint8Array).toString()).toBe('{"errorMessage":"boom","errorType":"Error"}');
    },
  },
  InvokeAsync: {
    command: new InvokeAsyncCommand({ FunctionName: 'my-fn', InvokeArgs: Buffer.from('{"async":true}') }),
    expected: { FunctionName: 'my-fn', InvokeArgs: Buffer.from('{"async":true}') },
    check: (output) => expect(output.Status).toBe(202),
  },
  InvokeWithResponseStream: {
    command: new InvokeWithResponseStreamCommand({
      FunctionName: 'my-fn',
      Qualifier: '3',
      LogType: 'None',
      Payload: new TextEncoder().encode('{"stream":true}'),
    }),
    expected: {
      FunctionName: 'my-fn',
      Qualifier: '3',
      InvocationType: 'RequestResponse',
      LogType: 'None',
      Payload: Buffer.from('{"stream":true}'),
    },
    result: {
      ExecutedVersion: '3',
      PayloadChunks: (async function* () {
        yield Buffer.from('hello ');
        yield new TextEncoder().encode('world');
      })(),
      complete: () => ({ LogResult: 'dGFpbA==' }),
    },
    check: async (output) => {
      expect(output.StatusCode).toBe(200);
      expect(output.ExecutedVersion).toBe('3');
      const chunks: string[] = [];
      let complete: unknown;
      for await (const event of output.EventStream as AsyncIterable<Record<string, { Payload?: Uint8Array }>>) {
        if (event.PayloadChunk) chunks.push(Buffer.from(event.PayloadChunk.Payload ?? []).toString());
        if (event.InvokeComplete) complete = event.InvokeComplete;
      }
      expect(chunks.join('')).toBe('hello world');
      expect(complete).toEqual({ LogResult: 'dGFpbA==' });
    },
  },
  ListAliases: {
    command: new ListAliasesCommand({ FunctionName: 'my-fn', FunctionVersion: '3', Marker: 'm+/=', MaxItems: 5 }),
    expected: { FunctionName: 'my-fn', FunctionVersion: '3', Marker: 'm+/=', MaxItems: 5 },
    result: { Aliases: [{ Name: 'live' }], NextMarker: 'n' },
    check: (output) => expect(output.NextMarker).toBe('n'),
  },
  ListCapacityProviders: {
    command: new ListCapacityProvidersCommand({ State: 'Active', Marker: 'a b', MaxItems: 50 }),
    expected: { State: 'Active', Marker: 'a b', MaxItems: 50 },
    result: { CapacityProviders: [cp] },
    check: (output) => expect(output.CapacityProviders).toEqual([cp]),
  },
  ListFunctionEventInvokeConfigs: {
    command: new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'my-fn', MaxItems: 2 }),
    expected: { FunctionName: 'my-fn', MaxItems: 2 },
    result: { FunctionEventInvokeConfigs: [] },
  },
  ListFunctions: {
    command: new ListFunctionsCommand({ MasterRegion: 'ALL', FunctionVersion: 'ALL', Marker: 'x', MaxItems: 10 }),
    expected: { MasterRegion: 'ALL', FunctionVersion: 'ALL', Marker: 'x', MaxItems: 10 },
    result: { Functions: [fnConfig] },
    check: (output) => expect(output.Functions).toEqual([fnConfig]),
  },
  ListFunctionVersionsByCapacityProvider: {
    command: new ListFunctionVersionsByCapacityProviderCommand({ CapacityProviderName: 'cp-1', Marker: 'x', MaxItems: 3 }),
    expected: { CapacityProviderName: 'cp-1', Marker: 'x', MaxItems: 3 },
    result: { CapacityProviderArn: cpArn, FunctionVersions: [{ FunctionArn: `${fnArn}:1`, State: 'Active' }] },
    check: (output) => expect(output.CapacityProviderArn).toBe(cpArn),
  },
  ListTags: {
    command: new ListTagsCommand({ Resource: fnArn }),
    expected: { Resource: fnArn },
    result: { Tags: { team: 'a' } },
    check: (output) => expect(output.Tags).toEqual({ team: 'a' }),
  },
  ListVersionsByFunction: {
    command: new ListVersionsByFunctionCommand({ FunctionName: 'my-fn', MaxItems: 1 }),
    expected: { FunctionName: 'my-fn', MaxItems: 1 },
    result: { Versions: [fnConfig] },
  },
  PublishVersion: {
    command: new PublishVersionCommand({ FunctionName: 'my-fn', Description: 'v', RevisionId: 'r1' }),
    expected: { FunctionName: 'my-fn', Description: 'v', RevisionId: 'r1' },
    result: { ...fnConfig, Version: '4' },
    check: (output) => expect(output.Version).toBe('4'),
  },
  PutFunctionEventInvokeConfig: {
    command: new PutFunctionEventInvokeConfigCommand({ FunctionName: 'my-fn', Qualifier: 'live', MaximumRetryAttempts: 0 }),
    expected: { FunctionName: 'my-fn', Qualifier: 'live', MaximumRetryAttempts: 0 },
    result: { FunctionArn: fnArn, MaximumRetryAttempts: 0 },
  },
  PutFunctionScalingConfig: {
    command: new PutFunctionScalingConfigCommand({
      FunctionName: 'my-fn',
      Qualifier: '$LATEST.PUBLISHED',
      FunctionScalingConfig: { MinExecutionEnvironments: 3, MaxExecutionEnvironments: 10 },
    }),
    expected: {
      FunctionName: 'my-fn',
      Qualifier: '$LATEST.PUBLISHED',
      FunctionScalingConfig: { MinExecutionEnvironments: 3, MaxExecutionEnvironments: 10 },
    },
    result: { FunctionState: 'Pending' },
    check: (output) => expect(output.FunctionState).toBe('Pending'),
  },
  TagResource: {
    command: new TagResourceCommand({ Resource: cpArn, Tags: { a: '1' } }),
    expected: { Resource: cpArn, Tags: { a: '1' } },
  },
  UntagResource: {
    command: new UntagResourceCommand({ Resource: fnArn, TagKeys: ['a', 'b c'] }),
    expected: { Resource: fnArn, TagKeys: ['a', 'b c'] },
  },
  UpdateAlias: {
    command: new UpdateAliasCommand({ FunctionName: 'my-fn', Name: 'live', FunctionVersion: '4', RevisionId: 'r' }),
    expected: { FunctionName: 'my-fn', Name: 'live', FunctionVersion: '4', RevisionId: 'r' },
    result: { Name: 'live', FunctionVersion: '4' },
  },
  UpdateCapacityProvider: {
    command: new UpdateCapacityProviderCommand({
      CapacityProviderName: 'cp-1',
      CapacityProviderScalingConfig: { MaxVCpuCount: 64, ScalingMode: 'Auto' },
    }),
    expected: { CapacityProviderName: 'cp-1', CapacityProviderScalingConfig: { MaxVCpuCount: 64, ScalingMode: 'Auto' } },
    result: { CapacityProvider: cp },
  },
  UpdateFunctionCode: {
    command: new UpdateFunctionCodeCommand({ FunctionName: 'my-fn', ZipFile: zip, Publish: true, RevisionId: 'r' }),
    expected: { FunctionName: 'my-fn', ZipFile: Buffer.from(zip).toString('base64'), Publish: true, RevisionId: 'r' },
    result: fnConfig,
  },
  UpdateFunctionConfiguration: {
    command: new UpdateFunctionConfigurationCommand({ FunctionName: 'my-fn', MemorySize: 4096, Timeout: 60 }),
    expected: { FunctionName: 'my-fn', MemorySize: 4096, Timeout: 60 },
    result: { ...fnConfig, MemorySize: 4096 },
    check: (output) => expect(output.MemorySize).toBe(4096),
  },
  UpdateFunctionEventInvokeConfig: {
    command: new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'my-fn', MaximumEventAgeInSeconds: 60 }),
    expected: { FunctionName: 'my-fn', MaximumEventAgeInSeconds: 60 },
    result: { FunctionArn: fnArn, MaximumEventAgeInSeconds: 60 },
  },
};

const received: Partial<Record<OperationName, unknown>> = {};
const handlers = Object.fromEntries(
  operationNames.map((operation) => [
    operation,
    async (input: unknown) => {
      received[operation] = input;
      return cases[operation].result ?? {};
    },
  ]),
) as OperationHandlers;

let server: TestServer;
let client: LambdaClient;

beforeAll(async () => {
  server = await startTestServer({ handlers });
  client = new LambdaClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await server.close();
});

describe('every operation through @aws-sdk/client-lambda', () => {
  for (const operation of operationNames) {
    it(`${operation} reaches its handler with the caller's members`, async () => {
      const testCase = cases[operation];
      const output = (await client.send(testCase.command as never)) as unknown as Record<string, unknown>;
      expect(received[operation]).toEqual(testCase.expected);
      expect((output.$metadata as { requestId?: string }).requestId).toMatch(/^[0-9a-f-]{36}$/);
      await testCase.check?.(output);
    });
  }

  it('logs one access line per request naming the operation', () => {
    const logged = accessLogs(server).map((line) => line.operation);
    for (const operation of operationNames) expect(logged).toContain(operation);
  });
});

describe('errors through @aws-sdk/client-lambda', () => {
  let lastLogs: Array<Record<string, unknown>> = [];

  async function failWith(handlerName: OperationName, error: unknown, command: object): Promise<unknown> {
    const errorServer = await startTestServer({
      handlers: {
        [handlerName]: async () => {
          throw error;
        },
      },
    });
    const errorClient = new LambdaClient({
      endpoint: errorServer.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      maxAttempts: 1,
    });
    try {
      await errorClient.send(command as never);
      throw new Error('expected the call to fail');
    } catch (caught) {
      return caught;
    } finally {
      errorClient.destroy();
      await errorServer.close();
      lastLogs = errorServer.logs;
    }
  }

  it('turns ResourceNotFoundException into the SDK class with status 404', async () => {
    const caught = await failWith(
      'GetFunction',
      new ResourceNotFoundException(`Function not found: ${fnArn}`),
      new GetFunctionCommand({ FunctionName: fnArn }),
    );
    expect(caught).toBeInstanceOf(SdkResourceNotFoundException);
    const error = caught as SdkResourceNotFoundException;
    expect(error.message).toBe(`Function not found: ${fnArn}`);
    expect(error.Type).toBe('User');
    expect(error.$metadata.httpStatusCode).toBe(404);
    expect(error.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('carries TooManyRequestsException Reason and Retry-After', async () => {
    const caught = await failWith(
      'Invoke',
      new TooManyRequestsException('Rate exceeded', {
        reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
        retryAfterSeconds: 3,
      }),
      new InvokeCommand({ FunctionName: 'my-fn', Payload: new Uint8Array([123, 125]) }),
    );
    expect(caught).toBeInstanceOf(SdkTooManyRequestsException);
    const error = caught as SdkTooManyRequestsException;
    expect(error.Reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    expect(error.retryAfterSeconds).toBe('3');
    expect(error.message).toBe('Rate exceeded');
    expect(error.$metadata.httpStatusCode).toBe(429);
  });

  it('hides internal errors behind ServiceException', async () => {
    const caught = await failWith(
      'ListFunctions',
      new Error('connect ECONNREFUSED postgres:5432 password=hunter2'),
      new ListFunctionsCommand({}),
    );
    expect(caught).toBeInstanceOf(SdkServiceException);
    const error = caught as SdkServiceException;
    expect(error.$metadata.httpStatusCode).toBe(500);
    expect(error.$fault).toBe('server');
    expect(error.message).not.toContain('hunter2');
    const logged = lastLogs.find((line) => line.level === 'error');
    expect(logged?.requestId).toBe(error.$metadata.requestId);
    expect(JSON.stringify(logged?.err)).toContain('password=hunter2');
  });

  it('answers an operation without a handler with a typed UnsupportedOperationException', async () => {
    const caught = await failWith('GetFunction', new Error('unused'), new GetAliasCommand({ FunctionName: 'f', Name: 'a' }));
    expect(caught).toBeInstanceOf(LambdaServiceException);
    const error = caught as LambdaServiceException;
    expect(error.name).toBe('UnsupportedOperationException');
    expect(error.message).toBe('Hearth does not support the operation GetAlias yet.');
    expect(error.$fault).toBe('client');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it('rejects an Invoke payload over 6 MB with RequestTooLargeException', async () => {
    const caught = await failWith(
      'Invoke',
      new Error('the handler must not run'),
      new InvokeCommand({ FunctionName: 'my-fn', Payload: new Uint8Array(6 * 1024 * 1024 + 1) }),
    );
    expect(caught).toBeInstanceOf(SdkRequestTooLargeException);
    expect((caught as SdkRequestTooLargeException).$metadata.httpStatusCode).toBe(413);
  });
});

describe('invoke variants through @aws-sdk/client-lambda', () => {
  let variantServer: TestServer;
  let variantClient: LambdaClient;

  beforeAll(async () => {
    variantServer = await startTestServer({
      handlers: {
        Invoke: async () => ({ Payload: Buffer.from('ignored for 204') }),
        InvokeWithResponseStream: async () => ({
          PayloadChunks: (async function* () {
            yield Buffer.from('partial');
            throw new ResourceConflictException('The function was updated mid-stream');
          })(),
        }),
      },
    });
    variantClient = new LambdaClient({
      endpoint: variantServer.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    variantClient.destroy();
    await variantServer.close();
  });

  it('answers Event with 202 and DryRun with 204 by default', async () => {
    const event = await variantClient.send(new InvokeCommand({ FunctionName: 'f', InvocationType: 'Event' }));
    expect(event.StatusCode).toBe(202);
    const dryRun = await variantClient.send(new InvokeCommand({ FunctionName: 'f', InvocationType: 'DryRun' }));
    expect(dryRun.StatusCode).toBe(204);
    expect(dryRun.Payload).toBeFalsy();
  });

  it('reports an error after the stream started in InvokeComplete', async () => {
    const output = await variantClient.send(new InvokeWithResponseStreamCommand({ FunctionName: 'f' }));
    const events: unknown[] = [];
    for await (const event of output.EventStream ?? []) {
      events.push(event.PayloadChunk ? { chunk: Buffer.from(event.PayloadChunk.Payload ?? []).toString() } : event);
    }
    expect(events).toEqual([
      { chunk: 'partial' },
      { InvokeComplete: { ErrorCode: 'ResourceConflictException', ErrorDetails: 'The function was updated mid-stream' } },
    ]);
  });
});
