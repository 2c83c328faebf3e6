/**
 * End to end: a whole Hearth cluster (six service processes on real Postgres,
 * NATS and Temporal) driven by the official AWS SDK for JavaScript and by a
 * gRPC client, as a user would drive it.
 */
import { Metadata } from '@grpc/grpc-js';
import {
  CreateAliasCommand,
  CreateCapacityProviderCommand,
  CreateFunctionCommand,
  DeleteCapacityProviderCommand,
  DeleteFunctionCommand,
  GetCapacityProviderCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvalidParameterValueException,
  LambdaClient,
  ListCapacityProvidersCommand,
  ListFunctionsCommand,
  ListFunctionVersionsByCapacityProviderCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  UpdateCapacityProviderCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type CreateCapacityProviderCommandInput,
  type CreateFunctionCommandInput,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { strToU8, zipSync } from 'fflate';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, fromEventPayload, type Bus } from '@hearth/bus';
import { checkHealth, callUnary, createClient } from '@hearth/grpc';
import { api } from '@hearth/proto';
import { supervisedServiceNames } from '@hearth/config';
import { createLogger } from '@hearth/telemetry';
import { startTestCluster, type TestCluster } from '@hearth/testing';

const role = 'arn:aws:iam::000000000000:role/hearth-test';
const zip = zipSync({ 'index.mjs': strToU8('export const handler = async (event) => ({ ok: true, event });') });

function providerInput(name: string, overrides: Partial<CreateCapacityProviderCommandInput> = {}): CreateCapacityProviderCommandInput {
  return {
    CapacityProviderName: name,
    VpcConfig: { SubnetIds: ['subnet-aaa1', 'subnet-bbb2', 'subnet-ccc3'], SecurityGroupIds: ['sg-123'] },
    PermissionsConfig: { CapacityProviderOperatorRoleArn: role },
    ...overrides,
  };
}

let cluster: TestCluster;
let lambda: LambdaClient;
let sql: postgres.Sql;

async function eventCount(): Promise<number> {
  const rows = await sql`SELECT count(*)::int AS n FROM hearth.events`;
  return rows[0]!.n as number;
}

/** Runs `call`, expects it to fail with `Exception`, and checks that it appended no event. */
async function expectRefused(call: () => Promise<unknown>, Exception: abstract new (...args: never[]) => Error, message: RegExp) {
  const before = await eventCount();
  const error = await call().then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(error, 'the call should have failed').toBeInstanceOf(Exception);
  expect(error!.message).toMatch(message);
  expect(await eventCount()).toBe(before);
}

async function waitForState(name: string, state: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { CapacityProvider } = await lambda.send(new GetCapacityProviderCommand({ CapacityProviderName: name }));
    if (CapacityProvider?.State === state) return;
    if (Date.now() > deadline) throw new Error(`capacity provider ${name} stayed ${CapacityProvider?.State}, wanted ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  cluster = await startTestCluster();
  lambda = new LambdaClient({
    endpoint: cluster.httpEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'hearth', secretAccessKey: 'hearth' },
    maxAttempts: 1,
  });
  sql = postgres(cluster.database.url, { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  lambda?.destroy();
  await sql?.end();
  await cluster?.stop();
});

describe('a started cluster', () => {
  it('runs the five long-lived services, each reporting SERVING on the standard health service', async () => {
    // The sixth, the agent, runs once per instance; the fleet tests start instances.
    for (const name of supervisedServiceNames) {
      expect(await checkHealth(cluster.grpcEndpoints[name]), name).toBe('SERVING');
    }
  });
});

describe('capacity providers through the AWS SDK', () => {
  it('creates a provider Pending with every default, which then becomes Active', async () => {
    const { CapacityProvider } = await lambda.send(new CreateCapacityProviderCommand(providerInput('alpha')));
    expect(CapacityProvider).toMatchObject({
      CapacityProviderArn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:alpha',
      State: 'Pending',
      InstanceRequirements: { Architectures: ['x86_64'] },
      CapacityProviderScalingConfig: { MaxVCpuCount: 400, ScalingMode: 'Auto' },
    });
    await waitForState('alpha', 'Active');
    const byArn = await lambda.send(new GetCapacityProviderCommand({ CapacityProviderName: CapacityProvider!.CapacityProviderArn }));
    expect(byArn.CapacityProvider?.State).toBe('Active');
  });

  it('refuses bad input with the exact exception, naming the field, and changes nothing', async () => {
    await expectRefused(
      () => lambda.send(new CreateCapacityProviderCommand(providerInput('bad name!'))),
      InvalidParameterValueException,
      /CapacityProviderName/,
    );
    await expectRefused(
      () => lambda.send(new CreateCapacityProviderCommand(providerInput('toomany', { VpcConfig: { SubnetIds: Array.from({ length: 17 }, (_, i) => `subnet-${i}`), SecurityGroupIds: [] } }))),
      InvalidParameterValueException,
      /SubnetIds.*1–16/,
    );
    await expectRefused(
      () =>
        lambda.send(
          new CreateCapacityProviderCommand(providerInput('vcpu', { CapacityProviderScalingConfig: { MaxVCpuCount: 1 } })),
        ),
      InvalidParameterValueException,
      /MaxVCpuCount 1 .*2–15000/,
    );
    await expectRefused(
      () =>
        lambda.send(
          new CreateCapacityProviderCommand(
            providerInput('both', { InstanceRequirements: { AllowedInstanceTypes: ['m7g.*'], ExcludedInstanceTypes: ['c5.large'] } }),
          ),
        ),
      InvalidParameterValueException,
      /AllowedInstanceTypes|ExcludedInstanceTypes/,
    );
    await expectRefused(
      () => lambda.send(new CreateCapacityProviderCommand(providerInput('alpha'))),
      ResourceConflictException,
      /already exists/,
    );
    await expectRefused(
      () => lambda.send(new GetCapacityProviderCommand({ CapacityProviderName: 'missing' })),
      ResourceNotFoundException,
      /capacity-provider:missing/,
    );
  });

  it('updates only what Lambda allows and keeps the rest', async () => {
    const { CapacityProvider } = await lambda.send(
      new UpdateCapacityProviderCommand({
        CapacityProviderName: 'alpha',
        CapacityProviderScalingConfig: {
          MaxVCpuCount: 64,
          ScalingMode: 'Manual',
          ScalingPolicies: [{ PredefinedMetricType: 'LambdaCapacityProviderAverageCPUUtilization', TargetValue: 40 }],
        },
      }),
    );
    expect(CapacityProvider?.CapacityProviderScalingConfig).toMatchObject({ MaxVCpuCount: 64, ScalingMode: 'Manual' });
    expect(CapacityProvider?.VpcConfig?.SubnetIds).toEqual(['subnet-aaa1', 'subnet-bbb2', 'subnet-ccc3']);
  });

  it('answers concurrent updates with one success and ResourceConflictException, never a lost update', async () => {
    const updates = [10, 20, 30, 40, 50, 60].map((MaxVCpuCount) =>
      lambda.send(new UpdateCapacityProviderCommand({ CapacityProviderName: 'alpha', CapacityProviderScalingConfig: { MaxVCpuCount } })),
    );
    const results = await Promise.allSettled(updates);
    const won = results.filter((result) => result.status === 'fulfilled');
    const lost = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    expect(won.length).toBeGreaterThanOrEqual(1);
    for (const failure of lost) expect(failure.reason).toBeInstanceOf(ResourceConflictException);
    // Whatever won is what is stored: every update that succeeded is in the log, in order.
    const { CapacityProvider } = await lambda.send(new GetCapacityProviderCommand({ CapacityProviderName: 'alpha' }));
    const rows = await sql`SELECT data FROM hearth.events WHERE stream_id = 'capacityProvider:alpha' AND type = 'CapacityProviderUpdated' ORDER BY stream_version DESC LIMIT 1`;
    const last = rows[0]!.data as { changes: { CapacityProviderScalingConfig: { MaxVCpuCount: number } } };
    expect(CapacityProvider?.CapacityProviderScalingConfig?.MaxVCpuCount).toBe(last.changes.CapacityProviderScalingConfig.MaxVCpuCount);
  });

  it('pages ListCapacityProviders with Marker and MaxItems', async () => {
    for (const name of ['beta', 'gamma', 'delta']) {
      await lambda.send(new CreateCapacityProviderCommand(providerInput(name)));
      // Activation is a second event appended after the response; wait for it so the event count is stable.
      await waitForState(name, 'Active');
    }
    const first = await lambda.send(new ListCapacityProvidersCommand({ MaxItems: 2 }));
    expect(first.CapacityProviders).toHaveLength(2);
    expect(first.NextMarker).toBeTypeOf('string');
    const rest = await lambda.send(new ListCapacityProvidersCommand({ MaxItems: 2, Marker: first.NextMarker }));
    const names = [...first.CapacityProviders!, ...rest.CapacityProviders!].map((p) => p.CapacityProviderArn!.split(':').pop());
    expect(names).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    await expectRefused(() => lambda.send(new ListCapacityProvidersCommand({ MaxItems: 51 })), InvalidParameterValueException, /MaxItems/);
  });
});

describe('functions through the AWS SDK', () => {
  const alphaArn = 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:alpha';
  const managed = (arn = alphaArn) => ({ LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: arn } });

  it('creates a function on a provider, stores its package content-addressed and serves it back', async () => {
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'hello',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: role,
        Code: { ZipFile: zip },
        Environment: { Variables: { GREETING: 'hi' } },
        CapacityProviderConfig: managed(),
      }),
    );
    expect(created).toMatchObject({
      FunctionName: 'hello',
      Version: '$LATEST',
      State: 'ActiveNonInvocable',
      MemorySize: 2048,
      Timeout: 3,
      CodeSize: zip.byteLength,
      PackageType: 'Zip',
    });
    const { Configuration, Code } = await lambda.send(new GetFunctionCommand({ FunctionName: 'hello' }));
    expect(Configuration?.CodeSha256).toBe(created.CodeSha256);
    const download = await fetch(Code!.Location!);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(Buffer.from(zip))).toBe(true);
  });

  it('creates a python3.11 function too', async () => {
    const pyZip = zipSync({ 'app.py': strToU8('def handler(event, context):\n    return event\n') });
    const created = await lambda.send(
      new CreateFunctionCommand({ FunctionName: 'py', Runtime: 'python3.11', Handler: 'app.handler', Role: role, Code: { ZipFile: pyZip }, CapacityProviderConfig: managed() }),
    );
    expect(created.Runtime).toBe('python3.11');
  });

  it('refuses bad functions with the exact exception and changes nothing', async () => {
    const base: CreateFunctionCommandInput = { FunctionName: 'bad', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: role, Code: { ZipFile: zip }, CapacityProviderConfig: managed() };
    await expectRefused(() => lambda.send(new CreateFunctionCommand({ ...base, Runtime: 'cobol9' as Runtime })), InvalidParameterValueException, /nodejs20\.x/);
    await expectRefused(() => lambda.send(new CreateFunctionCommand({ ...base, MemorySize: 3000 })), InvalidParameterValueException, /MemorySize 3000/);
    await expectRefused(() => lambda.send(new CreateFunctionCommand({ ...base, Code: { ZipFile: strToU8('not a zip') } })), InvalidParameterValueException, /unzip/);
    await expectRefused(
      () => lambda.send(new CreateFunctionCommand({ ...base, CapacityProviderConfig: undefined })),
      InvalidParameterValueException,
      /CapacityProviderConfig/,
    );
    await expectRefused(
      () =>
        lambda.send(
          new CreateFunctionCommand({
            ...base,
            CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: alphaArn, PerExecutionEnvironmentMaxConcurrency: 1601 } },
          }),
        ),
      InvalidParameterValueException,
      /PerExecutionEnvironmentMaxConcurrency/,
    );
    await expectRefused(() => lambda.send(new CreateFunctionCommand({ ...base, FunctionName: 'hello' })), ResourceConflictException, /hello/);
    await expectRefused(() => lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'nope' })), ResourceNotFoundException, /function:nope/);
  });

  it('updates configuration and code, keeping RevisionId as the guard against lost updates', async () => {
    const before = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'hello' }));
    const updated = await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'hello', MemorySize: 4096, Timeout: 30, RevisionId: before.RevisionId }),
    );
    expect(updated).toMatchObject({ MemorySize: 4096, Timeout: 30 });
    expect(updated.RevisionId).not.toBe(before.RevisionId);
    const stale = lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'hello', Timeout: 5, RevisionId: before.RevisionId }));
    await expect(stale).rejects.toMatchObject({ name: 'PreconditionFailedException', $metadata: { httpStatusCode: 412 } });

    const newZip = zipSync({ 'index.mjs': strToU8('export const handler = async () => 2;') });
    const code = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'hello', ZipFile: newZip }));
    expect(code.CodeSize).toBe(newZip.byteLength);
    expect(code.CodeSha256).not.toBe(before.CodeSha256);
  });

  it('lists functions and the versions a provider carries; refuses to delete a provider in use', async () => {
    const { Functions } = await lambda.send(new ListFunctionsCommand({}));
    expect(Functions?.map((f) => f.FunctionName)).toEqual(['hello', 'py']);
    const { FunctionVersions } = await lambda.send(new ListFunctionVersionsByCapacityProviderCommand({ CapacityProviderName: 'alpha' }));
    expect(FunctionVersions?.map((v) => v.FunctionArn)).toEqual([
      'arn:aws:lambda:us-east-1:000000000000:function:hello:$LATEST',
      'arn:aws:lambda:us-east-1:000000000000:function:py:$LATEST',
    ]);
    await expectRefused(() => lambda.send(new DeleteCapacityProviderCommand({ CapacityProviderName: 'alpha' })), ResourceConflictException, /function:hello/);
  });

  it('deletes functions and then the provider, which passes through Deleting and is gone', async () => {
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'hello' }));
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'py' }));
    await expectRefused(() => lambda.send(new GetFunctionCommand({ FunctionName: 'hello' })), ResourceNotFoundException, /hello/);
    const { CapacityProvider } = await lambda.send(new DeleteCapacityProviderCommand({ CapacityProviderName: 'alpha' }));
    expect(CapacityProvider?.State).toBe('Deleting');
    const deadline = Date.now() + 10_000;
    for (;;) {
      const gone = await lambda.send(new GetCapacityProviderCommand({ CapacityProviderName: 'alpha' })).then(
        () => false,
        (error: unknown) => error instanceof ResourceNotFoundException,
      );
      if (gone) break;
      if (Date.now() > deadline) throw new Error('capacity provider alpha was not deleted');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  it('says plainly that an operation is not built yet', async () => {
    await expect(lambda.send(new CreateAliasCommand({ FunctionName: 'hello', Name: 'live', FunctionVersion: '1' }))).rejects.toMatchObject({
      name: 'UnsupportedOperationException',
      $metadata: { httpStatusCode: 400 },
    });
  });
});

describe('the HTTP API with malformed requests', () => {
  it('answers malformed JSON with 400 InvalidRequestContentException, not a 500', async () => {
    const response = await fetch(`${cluster.httpEndpoint}/2025-11-30/capacity-providers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"CapacityProviderName": ',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
  });

  it('answers an oversized body with 413 RequestTooLargeException', async () => {
    const response = await fetch(`${cluster.httpEndpoint}/2025-11-30/capacity-providers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ CapacityProviderName: 'big', Padding: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('x-amzn-errortype')).toBe('RequestTooLargeException');
  });
});

describe('the gRPC surface', () => {
  it('serves the same operations with typed errors carried in trailers', async () => {
    const client = createClient(api.CapacityProviderServiceClient, cluster.grpcEndpoints.api);
    try {
      const created = await callUnary(client, client.createCapacityProvider, {
        CapacityProviderName: 'viagrpc',
        VpcConfig: { SubnetIds: ['subnet-g1'], SecurityGroupIds: [] },
        PermissionsConfig: { CapacityProviderOperatorRoleArn: role },
        Tags: {},
      } as api.CreateCapacityProviderRequest);
      expect(created.CapacityProvider?.State).toBe('Pending');
      const { CapacityProvider } = await lambda.send(new GetCapacityProviderCommand({ CapacityProviderName: 'viagrpc' }));
      expect(CapacityProvider?.CapacityProviderArn).toBe(created.CapacityProvider?.CapacityProviderArn);

      const missing = callUnary(client, client.getCapacityProvider, { CapacityProviderName: 'nobody' }, { metadata: new Metadata() });
      await expect(missing).rejects.toBeInstanceOf((await import('@hearth/errors')).ResourceNotFoundException);
    } finally {
      client.close();
    }
  });
});

describe('events', () => {
  let bus: Bus | undefined;
  afterAll(async () => bus?.close());

  it('are in Postgres in commit order and on the JetStream stream in the same order, each exactly once', async () => {
    bus = await connectBus({ url: cluster.infra.natsUrl, name: 'e2e-reader', prefix: cluster.natsPrefix, logger: createLogger('e2e') });
    // Activations are appended just after their create returns; read both sides until the relay has caught up.
    const deadline = Date.now() + 10_000;
    let rows = await sql`SELECT position FROM hearth.events ORDER BY position`;
    let info = await bus.jsm.streams.info(bus.eventStreamName);
    while (info.state.messages !== rows.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      rows = await sql`SELECT position FROM hearth.events ORDER BY position`;
      info = await bus.jsm.streams.info(bus.eventStreamName);
    }
    expect(rows.length).toBeGreaterThan(10);
    expect(info.state.messages).toBe(rows.length);
    const published: number[] = [];
    for (let seq = 1; seq <= info.state.last_seq; seq += 1) {
      const message = await bus.jsm.streams.getMessage(bus.eventStreamName, { seq });
      if (message) published.push(fromEventPayload(message.data).position);
    }
    expect(published).toEqual(rows.map((row) => Number(row.position)));
  });
});
