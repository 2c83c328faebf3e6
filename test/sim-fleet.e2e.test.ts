/**
 * End to end with the `sim` instance provider (issue #5 §4): the whole cluster
 * runs, but instances and EEs are simulated in the instance-manager's process.
 * A function published onto sim instances answers invocations through the AWS
 * SDK after its simulated latency with its payload echoed, and a synthetic
 * load set on `<prefix>.sim.load` saturates its EEs so the real scaler scales
 * the version out.
 *
 * The scaler's windows are shortened as in test/scaling.e2e.test.ts; its
 * scale-down delay is long, so nothing shrinks while the test looks.
 */
import { CreateFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary, createClient } from '@hearth/grpc';
import { instanceManager } from '@hearth/proto';
import { startTestCluster, type TestCluster } from '@hearth/testing';
import { createActiveProvider, testRole, testSubnetZonesEnv, zipOf } from './support/fleet-setup.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let cluster: TestCluster;
let lambda: LambdaClient;
let nats: NatsConnection;

interface SimStats {
  instances: number;
  environments: { Starting: number; Ready: number; Stopping: number; Failed: number };
  loads: Array<{ functionName: string; offered: number; admitted: number; rejected: number; readyEnvironments: number }>;
  functions?: Record<string, { ready: number; starting: number; inFlight: number }>;
}

async function simRequest<T>(subject: string, body: unknown): Promise<T> {
  const reply = await nats.request(`${cluster.natsPrefix}.${subject}`, JSON.stringify(body), { timeout: 5_000 });
  return reply.json<T>();
}

beforeAll(async () => {
  cluster = await startTestCluster({
    env: {
      HEARTH_INSTANCE_PROVIDER: 'sim',
      HEARTH_SIM_INSTANCE_BOOT_MS: '100',
      HEARTH_SIM_INIT_MS: '50',
      HEARTH_SUBNET_ZONES: testSubnetZonesEnv,
      HEARTH_SCALER_INTERVAL_MS: '500',
      HEARTH_SCALER_STABLE_WINDOW_MS: '6000',
      HEARTH_SCALER_BURST_WINDOW_MS: '2000',
      HEARTH_SCALER_SCALE_DOWN_DELAY_MS: '300000',
    },
  });
  lambda = new LambdaClient({ endpoint: cluster.httpEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  nats = await connect({ servers: cluster.infra.natsUrl });
}, 180_000);

afterAll(async () => {
  await nats?.close();
  lambda?.destroy();
  await cluster?.stop();
});

describe('sim instance provider', () => {
  it('publishes onto simulated instances, answers invocations with the simulated latency, and scales out under synthetic load', { timeout: 120_000 }, async () => {
    const providerArn = await createActiveProvider(lambda, 'sim-provider');
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'sim-fn',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: testRole,
        Timeout: 5,
        // Never run: the sim reads only the variables.
        Code: { ZipFile: zipOf({ 'index.mjs': 'export const handler = async (event) => event;\n' }) },
        Environment: { Variables: { HEARTH_SIM_LATENCY_MS: '150', HEARTH_SIM_CPU_MS: '5' } },
        Publish: true,
        CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn, PerExecutionEnvironmentMaxConcurrency: 4 } },
      }),
    );
    for (let deadline = Date.now() + 60_000; ; await sleep(100)) {
      const { State, StateReasonCode, StateReason } = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'sim-fn', Qualifier: '1' }));
      if (State === 'Active') break;
      if (State !== 'Pending' || Date.now() > deadline) throw new Error(`sim-fn:1 is ${State} (${StateReasonCode}: ${StateReason})`);
    }

    // The instances are the sim's: Running with an agent address, no process behind them.
    const instances = createClient(instanceManager.InstanceManagerServiceClient, cluster.grpcEndpoints['instance-manager']);
    const { instances: listed } = await callUnary(instances, instances.listInstances, { capacityProviderArn: providerArn, includeTerminated: false });
    instances.close();
    expect(listed.length).toBeGreaterThanOrEqual(1);
    for (const instance of listed) {
      expect(instance).toMatchObject({ state: 'Running', agentPid: 0 });
      expect(instance.agentAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    }
    const before = await simRequest<SimStats>('sim.stats', { functionNames: ['sim-fn'] });
    expect(before.instances).toBe(listed.length);
    expect(before.functions!['sim-fn']!.ready).toBe(3);

    // A real invocation through the api and the router to a simulated EE.
    const started = performance.now();
    const answer = await lambda.send(new InvokeCommand({ FunctionName: 'sim-fn', Qualifier: '1', Payload: Buffer.from('{"hello":"sim"}') }));
    const elapsedMs = performance.now() - started;
    expect(answer.StatusCode).toBe(200);
    expect(answer.FunctionError).toBeUndefined();
    expect(Buffer.from(answer.Payload!).toString()).toBe('{"hello":"sim"}');
    expect(elapsedMs).toBeGreaterThanOrEqual(150);

    // A malformed load is refused with the field named.
    expect(await simRequest('sim.load', { functionName: 'sim-fn', ratePerSecond: 'lots' })).toEqual({
      error: 'InvalidParameterValueException',
      message: 'ratePerSecond must be a number in 0–10000000',
    });

    // 3 EEs × 4 slots / 150 ms serve 80/s; 240/s saturates them until the scaler adds EEs.
    await simRequest('sim.load', { functionName: 'sim-fn', version: '1', ratePerSecond: 240 });
    let scaled: SimStats | undefined;
    for (let deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(250)) {
      const stats = await simRequest<SimStats>('sim.stats', { functionNames: ['sim-fn'] });
      if (stats.functions!['sim-fn']!.ready > 3) {
        scaled = stats;
        break;
      }
    }
    const totals = await simRequest<SimStats['loads'][number]>('sim.load', { functionName: 'sim-fn', version: '1', ratePerSecond: 0 });
    console.log(`sim scale-out: ${JSON.stringify({ ready: scaled?.functions?.['sim-fn'], instances: scaled?.instances, load: totals })}`);
    expect(scaled).toBeDefined();
    expect(totals.rejected).toBeGreaterThan(0);
    expect(totals.admitted).toBeGreaterThan(0);
  });
});
