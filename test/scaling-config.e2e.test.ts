/**
 * End to end, issue #5 item 1: FunctionScalingConfig over the Lambda API —
 * defaults, validation, a min/max pair, deactivation (0/0: Deactivating →
 * Deactivated, environments stopped and idle instances released, invocations
 * refused), reactivation by a non-zero config, and the conflicts.
 */
import {
  CreateFunctionCommand,
  GetFunctionConfigurationCommand,
  GetFunctionScalingConfigCommand,
  InvokeCommand,
  LambdaClient,
  PutFunctionScalingConfigCommand,
  type CreateFunctionCommandInput,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActiveProvider, testRole, testSubnetZonesEnv, testZones, zipOf, fleetOf as fleetOfProvider } from './support/fleet-setup.js';
import { callUnary, createClient } from '@hearth/grpc';
import { api, instanceManager } from '@hearth/proto';
import { startTestCluster, type TestCluster } from '@hearth/testing';

const role = testRole;
const zones = testZones;
const qualifierAllowed = '(allowed: $LATEST.PUBLISHED or a version number)';

let cluster: TestCluster;
let lambda: LambdaClient;
let instances: instanceManager.InstanceManagerServiceClient;


const createProvider = (name: string) => createActiveProvider(lambda, name);

function functionInput(name: string, providerArn: string, overrides: Partial<CreateFunctionCommandInput> = {}): CreateFunctionCommandInput {
  return {
    FunctionName: name,
    Runtime: 'nodejs20.x',
    Handler: 'index.handler',
    Role: role,
    Code: { ZipFile: zipOf({ 'index.mjs': 'export const handler = async (event, context) => ({ echo: event, version: context.functionVersion });' }) },
    CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn } },
    Publish: true,
    ...overrides,
  };
}

/** Polls the version until its State is not one of `transient`; returns its configuration. */
async function settled(functionName: string, version: string, transient: string[] = ['Pending'], timeoutMs = 90_000): Promise<FunctionConfiguration> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version }));
    if (!transient.includes(configuration.State ?? '')) return configuration;
    if (Date.now() > deadline) throw new Error(`${functionName}:${version} still ${configuration.State} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Running instances of a provider and the environments each agent reports. */
const fleetOf = (providerArn: string) => fleetOfProvider(instances, providerArn);

const readyOf = async (providerArn: string, functionName: string) =>
  (await fleetOf(providerArn)).flatMap(({ environments }) =>
    environments.filter((e) => e.state === 'Ready' && e.functionArn.includes(`:${functionName}:`)),
  );

const rejection = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as Error & { $metadata?: { httpStatusCode?: number } });

beforeAll(async () => {
  cluster = await startTestCluster({
    env: { HEARTH_SUBNET_ZONES: testSubnetZonesEnv, HEARTH_INIT_TIMEOUT_MS: '4000' },
  });
  lambda = new LambdaClient({ endpoint: cluster.httpEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  instances = createClient(instanceManager.InstanceManagerServiceClient, cluster.grpcEndpoints['instance-manager']);
});

afterAll(async () => {
  instances?.close();
  lambda?.destroy();
  await cluster?.stop();
});

/** Polls GetFunctionScalingConfig until Requested is gone (the fleet converged); 60-s deadline. */
async function appliedConfig(functionName: string, qualifier: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const config = await lambda.send(new GetFunctionScalingConfigCommand({ FunctionName: functionName, Qualifier: qualifier }));
    if (config.RequestedFunctionScalingConfig === undefined) return config;
    if (Date.now() > deadline) throw new Error(`${functionName}:${qualifier} did not converge: ${JSON.stringify(config)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('FunctionScalingConfig', () => {
  let providerArn: string;
  let functionArn: string;

  it('defaults to min 3 and no max on a fresh version', async () => {
    providerArn = await createProvider('scaling');
    const created = await lambda.send(new CreateFunctionCommand(functionInput('scaled-fn', providerArn)));
    functionArn = created.FunctionArn!.replace(/:1$/, '');
    expect((await settled('scaled-fn', '1')).State).toBe('Active');
    const config = await lambda.send(new GetFunctionScalingConfigCommand({ FunctionName: 'scaled-fn', Qualifier: '1' }));
    expect(config.FunctionArn).toBe(`${functionArn}:1`);
    expect(config.AppliedFunctionScalingConfig).toEqual({ MinExecutionEnvironments: 3 });
    expect(config.RequestedFunctionScalingConfig).toBeUndefined();
    expect(await readyOf(providerArn, 'scaled-fn')).toHaveLength(3);
  });

  it('validates the request with exact messages', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ Qualifier: '1', FunctionScalingConfig: { MinExecutionEnvironments: 15001 } }, 'FunctionScalingConfig.MinExecutionEnvironments 15001 is out of range (allowed: 0–15000)'],
      [
        { Qualifier: '1', FunctionScalingConfig: { MinExecutionEnvironments: 5, MaxExecutionEnvironments: 2 } },
        'FunctionScalingConfig.MinExecutionEnvironments 5 is greater than FunctionScalingConfig.MaxExecutionEnvironments 2 (allowed: MinExecutionEnvironments ≤ MaxExecutionEnvironments)',
      ],
      [
        { Qualifier: '1', FunctionScalingConfig: { MinExecutionEnvironments: 0, MaxExecutionEnvironments: 3 } },
        'FunctionScalingConfig.MinExecutionEnvironments 0 requires FunctionScalingConfig.MaxExecutionEnvironments 0, which deactivates the version; got MaxExecutionEnvironments 3 (allowed: MinExecutionEnvironments 1–15000, or 0 together with MaxExecutionEnvironments 0)',
      ],
      [{ Qualifier: '$LATEST', FunctionScalingConfig: { MinExecutionEnvironments: 1 } }, `Qualifier "$LATEST" is invalid ${qualifierAllowed}`],
      [{ FunctionScalingConfig: { MinExecutionEnvironments: 1 } }, `Qualifier is required ${qualifierAllowed}`],
    ];
    for (const [input, message] of cases) {
      const error = await rejection(lambda.send(new PutFunctionScalingConfigCommand({ FunctionName: 'scaled-fn', ...input } as never)));
      expect(error, message).toMatchObject({ name: 'InvalidParameterValueException', message, $metadata: { httpStatusCode: 400 } });
    }
    const missing = await rejection(lambda.send(new GetFunctionScalingConfigCommand({ FunctionName: 'scaled-fn' } as never)));
    expect(missing).toMatchObject({ name: 'InvalidParameterValueException', message: `Qualifier is required ${qualifierAllowed}` });
    const absent = await rejection(lambda.send(new GetFunctionScalingConfigCommand({ FunctionName: 'scaled-fn', Qualifier: '9' })));
    expect(absent).toMatchObject({ name: 'ResourceNotFoundException', message: `Function not found: ${functionArn}:9` });
  });

  it('shows a pair as Requested until the fleet is within it, then as Applied', async () => {
    const put = await lambda.send(
      new PutFunctionScalingConfigCommand({ FunctionName: 'scaled-fn', Qualifier: '1', FunctionScalingConfig: { MinExecutionEnvironments: 5, MaxExecutionEnvironments: 5 } }),
    );
    expect(put.$metadata.httpStatusCode).toBe(202);
    expect(put.FunctionState).toBe('Active');
    // Three EEs run; five are asked for: Requested until the scaler has brought two more up.
    const requested = await lambda.send(new GetFunctionScalingConfigCommand({ FunctionName: 'scaled-fn', Qualifier: '1' }));
    expect(requested.AppliedFunctionScalingConfig).toEqual({ MinExecutionEnvironments: 3 });
    expect(requested.RequestedFunctionScalingConfig).toEqual({ MinExecutionEnvironments: 5, MaxExecutionEnvironments: 5 });
    const applied = await appliedConfig('scaled-fn', '1');
    expect(applied.AppliedFunctionScalingConfig).toEqual({ MinExecutionEnvironments: 5, MaxExecutionEnvironments: 5 });
    expect((await readyOf(providerArn, 'scaled-fn')).length).toBe(5);

    // Five Ready are within 1–5 already: applied at the scaler's next step.
    await lambda.send(
      new PutFunctionScalingConfigCommand({ FunctionName: 'scaled-fn', Qualifier: '1', FunctionScalingConfig: { MinExecutionEnvironments: 1, MaxExecutionEnvironments: 5 } }),
    );
    expect((await appliedConfig('scaled-fn', '1')).AppliedFunctionScalingConfig).toEqual({ MinExecutionEnvironments: 1, MaxExecutionEnvironments: 5 });
  });

  it('deactivates on 0/0: Deactivating → Deactivated, environments gone, instances released, invocations refused', async () => {
    const put = await lambda.send(
      new PutFunctionScalingConfigCommand({ FunctionName: 'scaled-fn', Qualifier: '1', FunctionScalingConfig: { MinExecutionEnvironments: 0, MaxExecutionEnvironments: 0 } }),
    );
    expect(put.FunctionState).toBe('Deactivating');
    const version = await settled('scaled-fn', '1', ['Deactivating'], 30_000);
    expect(version.State).toBe('Deactivated');
    expect(await readyOf(providerArn, 'scaled-fn')).toHaveLength(0);
    // The provider carried only this function: its instances are idle and terminated.
    expect(await fleetOf(providerArn)).toHaveLength(0);
    const config = await lambda.send(new GetFunctionScalingConfigCommand({ FunctionName: 'scaled-fn', Qualifier: '1' }));
    expect(config.AppliedFunctionScalingConfig).toEqual({ MinExecutionEnvironments: 0, MaxExecutionEnvironments: 0 });
    expect(config.RequestedFunctionScalingConfig).toBeUndefined();

    const refused = await rejection(lambda.send(new InvokeCommand({ FunctionName: 'scaled-fn', Qualifier: '1', Payload: Buffer.from('{}') })));
    expect(refused).toMatchObject({
      name: 'ResourceConflictException',
      message: 'The operation cannot be performed at this time. The function is currently in the following state: Deactivated',
      $metadata: { httpStatusCode: 409 },
    });
  });

  it('reactivates on a non-zero config: Pending → Active with min environments, invocable again', async () => {
    const put = await lambda.send(
      new PutFunctionScalingConfigCommand({ FunctionName: 'scaled-fn', Qualifier: '1', FunctionScalingConfig: { MinExecutionEnvironments: 1, MaxExecutionEnvironments: 4 } }),
    );
    expect(put.FunctionState).toBe('Pending');
    expect((await settled('scaled-fn', '1')).State).toBe('Active');
    expect((await readyOf(providerArn, 'scaled-fn')).length).toBeGreaterThanOrEqual(1);
    const config = await lambda.send(new GetFunctionScalingConfigCommand({ FunctionName: 'scaled-fn', Qualifier: '1' }));
    expect(config.AppliedFunctionScalingConfig).toEqual({ MinExecutionEnvironments: 1, MaxExecutionEnvironments: 4 });
    const response = await lambda.send(new InvokeCommand({ FunctionName: 'scaled-fn', Qualifier: '1', Payload: Buffer.from('{"n":1}') }));
    expect(JSON.parse(Buffer.from(response.Payload!).toString())).toEqual({ echo: { n: 1 }, version: '1' });
  });

  it('is also served over gRPC (hearth.v1.FunctionService), as the scaler reads it', async () => {
    const client = createClient(api.FunctionServiceClient, cluster.grpcEndpoints.api);
    try {
      const put = await callUnary(
        client,
        client.putFunctionScalingConfig,
        api.PutFunctionScalingConfigRequest.fromPartial({
          FunctionName: 'scaled-fn',
          Qualifier: '1',
          FunctionScalingConfig: { MinExecutionEnvironments: 2, MaxExecutionEnvironments: 6 },
        }),
      );
      expect(put).toEqual({ FunctionState: 'Active' });
      await appliedConfig('scaled-fn', '1');
      const got = await callUnary(client, client.getFunctionScalingConfig, api.GetFunctionScalingConfigRequest.fromPartial({ FunctionName: 'scaled-fn', Qualifier: '1' }));
      expect(got).toMatchObject({
        FunctionArn: `${functionArn}:1`,
        AppliedFunctionScalingConfig: { MinExecutionEnvironments: 2, MaxExecutionEnvironments: 6 },
      });
      expect(got.RequestedFunctionScalingConfig).toBeUndefined();
      const missing = await rejection(callUnary(client, client.getFunctionScalingConfig, api.GetFunctionScalingConfigRequest.fromPartial({ FunctionName: 'scaled-fn' })));
      expect(missing?.message).toContain(`Qualifier is required ${qualifierAllowed}`);
    } finally {
      client.close();
    }
  });

  it('refuses a Failed version with ResourceConflictException', async () => {
    await lambda.send(
      new CreateFunctionCommand(functionInput('broken-fn', providerArn, { Code: { ZipFile: zipOf({ 'index.mjs': 'throw new Error("boom at init");\nexport const handler = async () => 1;' }) } })),
    );
    expect((await settled('broken-fn', '1')).State).toBe('Failed');
    const error = await rejection(
      lambda.send(new PutFunctionScalingConfigCommand({ FunctionName: 'broken-fn', Qualifier: '1', FunctionScalingConfig: { MinExecutionEnvironments: 1, MaxExecutionEnvironments: 2 } })),
    );
    expect(error).toMatchObject({
      name: 'ResourceConflictException',
      message: 'The operation cannot be performed at this time. The function is currently in the following state: Failed',
      $metadata: { httpStatusCode: 409 },
    });
  });
});
