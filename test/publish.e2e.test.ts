/**
 * End to end, issue #3: a published version becomes real capacity — instances
 * in three zones, execution environments initialised on them — through the
 * Temporal publish workflow, and every fault ends in the right state and reason.
 */
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  ResourceNotFoundException,
  UpdateFunctionCodeCommand,
  type CreateFunctionCommandInput,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActiveProvider, testRole, testSubnetZonesEnv, testZones, zipOf, fleetOf as fleetOfProvider } from './support/fleet-setup.js';
import { workflowIds } from '@hearth/fleet';
import { callUnary, createClient } from '@hearth/grpc';
import { agent, instanceManager } from '@hearth/proto';
import { startTestCluster, type TestCluster } from '@hearth/testing';

const role = testRole;
const zones = testZones;

let cluster: TestCluster;
let lambda: LambdaClient;
let instances: instanceManager.InstanceManagerServiceClient;


const createProvider = (name: string, maxVCpuCount?: number) =>
  createActiveProvider(lambda, name, maxVCpuCount ? { maxVCpuCount } : {});

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

/** Polls the version until it leaves Pending; returns its configuration. */
async function settled(functionName: string, version: string, timeoutMs = 90_000): Promise<FunctionConfiguration> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version }));
    if (configuration.State !== 'Pending') return configuration;
    if (Date.now() > deadline) throw new Error(`${functionName}:${version} still Pending after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Running instances of a provider and the environments each agent reports. */
const fleetOf = (providerArn: string) => fleetOfProvider(instances, providerArn);

async function invokeOnce(agentAddress: string, environmentId: string, payload: unknown) {
  const client = createClient(agent.AgentServiceClient, agentAddress);
  try {
    const result = await callUnary(client, client.invokeEnvironment, {
      environmentId,
      requestId: `req-${Date.now()}`,
      payload: Buffer.from(JSON.stringify(payload)),
      timeoutMs: 10_000,
    });
    return { ...result, body: JSON.parse(Buffer.from(result.payload).toString()) as unknown };
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  cluster = await startTestCluster({
    env: {
      HEARTH_SUBNET_ZONES: testSubnetZonesEnv,
      // A short init deadline keeps the InitTimeout case quick; Lambda's is max(130 s, timeout).
      HEARTH_INIT_TIMEOUT_MS: '4000',
    },
  });
  lambda = new LambdaClient({ endpoint: cluster.httpEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  instances = createClient(instanceManager.InstanceManagerServiceClient, cluster.grpcEndpoints['instance-manager']);
});

afterAll(async () => {
  instances?.close();
  lambda?.destroy();
  await cluster?.stop();
});

describe('publishing a version', () => {
  let providerArn: string;

  it('makes a Node.js version Active with three environments on instances in three zones', async () => {
    providerArn = await createProvider('fleet');
    const started = Date.now();
    const created = await lambda.send(new CreateFunctionCommand(functionInput('node-fn', providerArn)));
    expect(created).toMatchObject({ Version: '1', State: 'Pending', StateReasonCode: 'Creating' });
    const version = await settled('node-fn', '1');
    expect(version.State).toBe('Active');
    console.log(`publish → Active: ${Date.now() - started} ms`);

    const fleet = await fleetOf(providerArn);
    const ready = fleet.flatMap(({ instance, environments }) =>
      environments.filter((e) => e.state === 'Ready' && e.version === '1').map((e) => ({ zone: instance.zone, agentAddress: instance.agentAddress, environmentId: e.environmentId })),
    );
    expect(ready).toHaveLength(3);
    expect(new Set(ready.map((e) => e.zone))).toEqual(new Set(zones));

    const result = await invokeOnce(ready[0]!.agentAddress, ready[0]!.environmentId, { hello: 'world' });
    expect(result.functionError).toBeUndefined();
    expect(result.body).toEqual({ echo: { hello: 'world' }, version: '1' });

    // The deployment is a Temporal workflow whose history shows it completed with the version Active.
    const connection = await Connection.connect({ address: cluster.infra.temporalAddress });
    try {
      const handle = new Client({ connection }).workflow.getHandle(workflowIds.publishVersion({ functionName: 'node-fn', version: '1' }));
      expect((await handle.describe()).status.name).toBe('COMPLETED');
      expect(await handle.result()).toMatchObject({ state: 'Active', environments: 3 });
    } finally {
      await connection.close();
    }
  });

  it('makes a Python version Active on the same instances (packing before launching)', async () => {
    const before = (await fleetOf(providerArn)).length;
    await lambda.send(
      new CreateFunctionCommand(
        functionInput('py-fn', providerArn, {
          Runtime: 'python3.11',
          Handler: 'app.handler',
          Code: { ZipFile: zipOf({ 'app.py': 'def handler(event, context):\n    return {"py": event, "name": context.function_name}\n' }) },
        }),
      ),
    );
    expect((await settled('py-fn', '1')).State).toBe('Active');
    const fleet = await fleetOf(providerArn);
    expect(fleet.length).toBe(before);
    const py = fleet.flatMap(({ instance, environments }) =>
      environments.filter((e) => e.state === 'Ready' && e.functionArn.includes(':py-fn:')).map((e) => ({ agentAddress: instance.agentAddress, environmentId: e.environmentId })),
    );
    expect(py).toHaveLength(3);
    const result = await invokeOnce(py[0]!.agentAddress, py[0]!.environmentId, { n: 1 });
    expect(result.body).toEqual({ py: { n: 1 }, name: 'py-fn' });
  });

  it('lists versions and returns the existing version when nothing changed', async () => {
    const again = await lambda.send(new PublishVersionCommand({ FunctionName: 'node-fn' }));
    expect(again.Version).toBe('1');
    const { Versions } = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'node-fn' }));
    expect(Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1']);
  });
});

describe('$LATEST.PUBLISHED', () => {
  it('republishes in place: new code on new environments, then the old ones retire', async () => {
    const providerArn = await createProvider('rolling');
    const code = (answer: string) => ({ ZipFile: zipOf({ 'index.mjs': `export const handler = async () => '${answer}';` }) });
    await lambda.send(new CreateFunctionCommand(functionInput('rolling-fn', providerArn, { Code: code('old'), Publish: false })));
    const first = await lambda.send(new PublishVersionCommand({ FunctionName: 'rolling-fn', PublishTo: 'LATEST_PUBLISHED' }));
    expect(first.Version).toBe('$LATEST.PUBLISHED');
    expect((await settled('rolling-fn', '$LATEST.PUBLISHED')).State).toBe('Active');

    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'rolling-fn', ZipFile: code('new').ZipFile, Publish: true, PublishTo: 'LATEST_PUBLISHED' }));
    const deadline = Date.now() + 60_000;
    let configuration: FunctionConfiguration;
    do {
      await new Promise((resolve) => setTimeout(resolve, 200));
      configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'rolling-fn', Qualifier: '$LATEST.PUBLISHED' }));
      if (Date.now() > deadline) throw new Error('the republish did not finish');
    } while (configuration.LastUpdateStatus === 'InProgress');
    expect(configuration).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful' });

    // The old environments retire right after the activation; wait for the rollout to finish.
    const readyOf = async () =>
      (await fleetOf(providerArn)).flatMap(({ instance, environments }) =>
        environments.filter((e) => e.state === 'Ready' && e.functionArn.includes(':rolling-fn:')).map((e) => ({ agentAddress: instance.agentAddress, environmentId: e.environmentId })),
      );
    let live = await readyOf();
    while (live.length !== 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      live = await readyOf();
    }
    expect(live).toHaveLength(3);
    for (const environment of live) {
      expect((await invokeOnce(environment.agentAddress, environment.environmentId, {})).body).toBe('new');
    }
  });
});

describe('publish faults', () => {
  let providerArn: string;
  beforeAll(async () => {
    providerArn = await createProvider('faults');
  });

  const cases: Array<[string, Record<string, string>, string]> = [
    ['a handler that throws at init', { 'index.mjs': 'throw new Error("boom at init");\nexport const handler = async () => 1;' }, 'FunctionError.RuntimeInitError'],
    ['a handler name that is not exported', { 'index.mjs': 'export const other = async () => 1;' }, 'FunctionError.InvalidEntryPoint'],
    ['an init slower than the limit', { 'index.mjs': 'await new Promise((r) => setTimeout(r, 60_000));\nexport const handler = async () => 1;' }, 'FunctionError.InitTimeout'],
  ];
  it.each(cases)('fails the version with %s', async (_label, files, reasonCode) => {
    const name = `fault-${reasonCode.replace(/\W/g, '').toLowerCase()}`;
    await lambda.send(new CreateFunctionCommand(functionInput(name, providerArn, { Code: { ZipFile: zipOf(files) } })));
    const version = await settled(name, '1');
    expect(version).toMatchObject({ State: 'Failed', StateReasonCode: reasonCode });
    // Compensation: nothing of the failed version keeps running.
    const left = (await fleetOf(providerArn)).flatMap(({ environments }) => environments.filter((e) => e.functionArn.includes(`:${name}:`) && e.state !== 'Stopped'));
    expect(left).toEqual([]);
  });

  it('fails with a capacity reason when MaxVCpuCount cannot hold three environments', async () => {
    const tiny = await createProvider('tiny', 2);
    await lambda.send(new CreateFunctionCommand(functionInput('too-big', tiny, { MemorySize: 8192 })));
    const version = await settled('too-big', '1');
    expect(version.State).toBe('Failed');
    expect(['CapacityProviderScalingLimitExceeded', 'VcpuLimitExceeded', 'InsufficientCapacity']).toContain(version.StateReasonCode);
    expect(version.StateReason).toMatch(/vCPU|MaxVCpuCount/);
  });
});

describe('durability and recovery', () => {
  it('completes a publish after the placement service is killed in the middle of it', async () => {
    const providerArn = await createProvider('durable');
    await lambda.send(new CreateFunctionCommand(functionInput('durable-fn', providerArn)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const placement = cluster.status().find((service) => service.name === 'placement')!;
    process.kill(placement.pid!, 'SIGKILL');
    expect((await settled('durable-fn', '1')).State).toBe('Active');
  });

  it('replaces an instance whose agent dies after the version is Active', async () => {
    const providerArn = await createProvider('recover');
    await lambda.send(new CreateFunctionCommand(functionInput('recover-fn', providerArn)));
    expect((await settled('recover-fn', '1')).State).toBe('Active');
    const before = await fleetOf(providerArn);
    const victim = before[0]!.instance;
    expect(before[0]!.environments.length).toBeGreaterThan(0);
    expect(victim.agentPid).toBeGreaterThan(0);
    // A crash, as the instance-manager would see it: the agent dies without a word.
    process.kill(victim.agentPid, 'SIGKILL');

    const deadline = Date.now() + 60_000;
    for (;;) {
      const fleet = await fleetOf(providerArn).catch(() => []);
      const ready = fleet
        .filter(({ instance }) => instance.instanceId !== victim.instanceId && instance.state === 'Running')
        .flatMap(({ environments: list }) => list.filter((e) => e.state === 'Ready' && e.functionArn.includes(':recover-fn:')));
      if (ready.length === 3) break;
      if (Date.now() > deadline) throw new Error(`recover-fn has ${ready.length} Ready environments after the loss, wanted 3`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  });
});

describe('deleting', () => {
  it('tears down the environments and instances of a deleted function, leaving nothing running', async () => {
    const providerArn = await createProvider('doomed');
    await lambda.send(new CreateFunctionCommand(functionInput('doomed-fn', providerArn)));
    expect((await settled('doomed-fn', '1')).State).toBe('Active');
    const { StatusCode } = await lambda.send(new DeleteFunctionCommand({ FunctionName: 'doomed-fn' }));
    expect([202, 204]).toContain(StatusCode);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const gone = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'doomed-fn' })).then(
        () => false,
        (error: unknown) => error instanceof ResourceNotFoundException,
      );
      const { instances: running } = await callUnary(instances, instances.listInstances, { capacityProviderArn: providerArn, includeTerminated: false });
      if (gone && running.length === 0) break;
      if (Date.now() > deadline) throw new Error(`after delete: function gone=${gone}, ${running.length} instances still running`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  });
});
