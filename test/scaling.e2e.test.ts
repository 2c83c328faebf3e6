/**
 * End to end, issue #5: the scaler grows a version under sustained load and
 * shrinks it back to its min once the load is gone, without failing a request.
 *
 * The autoscaler's windows are shortened through the scaler's environment
 * (services/scaler/src/scaler-config.ts): a step every 500 ms
 * (`HEARTH_SCALER_INTERVAL_MS`), a 6-s stable window
 * (`HEARTH_SCALER_STABLE_WINDOW_MS`), a 2-s burst window
 * (`HEARTH_SCALER_BURST_WINDOW_MS`) and an 8-s scale-down delay
 * (`HEARTH_SCALER_SCALE_DOWN_DELAY_MS`), instead of 2 s, 60 s, 6 s and 5 min.
 *
 * The Ready EEs are counted from the agents' load reports on NATS, as the
 * router and the scaler see them. Throttles (429) are allowed and reported;
 * any other non-200 answer fails the test.
 */
import { cpSync } from 'node:fs';
import {
  CreateCapacityProviderCommand,
  CreateFunctionCommand,
  GetCapacityProviderCommand,
  GetFunctionConfigurationCommand,
  GetFunctionScalingConfigCommand,
  InvokeCommand,
  LambdaClient,
  PutFunctionScalingConfigCommand,
  UpdateCapacityProviderCommand,
} from '@aws-sdk/client-lambda';
import { callUnary, createClient } from '@hearth/grpc';
import { instanceManager } from '@hearth/proto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRole, testSubnetZonesEnv, testZones } from './support/fleet-setup.js';
import { startTestCluster, type TestCluster } from '@hearth/testing';

const role = testRole;
const zones = testZones;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let cluster: TestCluster;
let lambda: LambdaClient;
let nats: NatsConnection;
let instancesClient: instanceManager.InstanceManagerServiceClient;

const handler = `
export const handler = async (event) => {
  await new Promise((resolve) => setTimeout(resolve, event.sleepMs ?? 0));
  return { ok: true };
};`;

/** Ready EEs of one version, from the latest load report of every instance (reports older than 2 s ignored). */
function readyCounter(functionArn: string) {
  const latest = new Map<string, { at: number; ready: number }>();
  const subscription = nats.subscribe(`${cluster.natsPrefix}.live.instance.*.load`, {
    callback: (_error, msg) => {
      const report = msg.json<{ instanceId: string; environments: Array<{ functionArn: string; state: string }> }>();
      latest.set(report.instanceId, {
        at: Date.now(),
        ready: report.environments.filter((environment) => environment.functionArn === functionArn && environment.state === 'Ready').length,
      });
    },
  });
  return {
    ready(): number {
      const now = Date.now();
      let sum = 0;
      for (const entry of latest.values()) if (now - entry.at <= 2_000) sum += entry.ready;
      return sum;
    },
    stop: () => subscription.unsubscribe(),
  };
}

/** Callers that invoke in a loop until stopped, counting the answers. */
function load(functionName: string, callers: number, qualifier = '1') {
  const counts = { ok: 0, throttled: 0, failed: 0, failures: [] as string[] };
  let running = true;
  const caller = async () => {
    while (running) {
      try {
        const output = await lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: qualifier, Payload: Buffer.from(JSON.stringify({ sleepMs: 300 })) }));
        if (output.StatusCode === 200 && output.FunctionError === undefined) counts.ok += 1;
        else {
          counts.failed += 1;
          counts.failures.push(`${output.StatusCode} ${output.FunctionError ?? ''} ${Buffer.from(output.Payload ?? new Uint8Array()).toString()}`);
        }
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 429) {
          counts.throttled += 1;
          // A throttled client backs off briefly, as the SDK's retry would.
          await sleep(50);
        } else {
          counts.failed += 1;
          counts.failures.push(`${status ?? 'no status'} ${(error as Error).name}: ${(error as Error).message}`);
        }
      }
    }
  };
  const all = Promise.all(Array.from({ length: callers }, caller));
  return {
    counts,
    async stop() {
      running = false;
      await all;
    },
  };
}

beforeAll(async () => {
  cluster = await startTestCluster({
    env: {
      HEARTH_SUBNET_ZONES: testSubnetZonesEnv,
      HEARTH_SCALER_INTERVAL_MS: '500',
      HEARTH_SCALER_STABLE_WINDOW_MS: '6000',
      HEARTH_SCALER_BURST_WINDOW_MS: '2000',
      HEARTH_SCALER_SCALE_DOWN_DELAY_MS: '8000',
    },
  });
  lambda = new LambdaClient({ endpoint: cluster.httpEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  nats = await connect({ servers: cluster.infra.natsUrl });
  instancesClient = createClient(instanceManager.InstanceManagerServiceClient, cluster.grpcEndpoints['instance-manager']);
}, 180_000);

afterAll(async () => {
  // HEARTH_TEST_KEEP_LOGS=<dir> keeps the cluster's service logs (the scaler's decisions) after the run.
  if (process.env.HEARTH_TEST_KEEP_LOGS && cluster) cpSync(cluster.logsDir, process.env.HEARTH_TEST_KEEP_LOGS, { recursive: true });
  await nats?.close();
  instancesClient?.close();
  lambda?.destroy();
  await cluster?.stop();
});

describe('scaling', () => {
  it('grows a saturated version beyond its 3 EEs and shrinks it back to 3 after the load, failing no request', { timeout: 240_000 }, async () => {
    const { CapacityProvider } = await lambda.send(
      new CreateCapacityProviderCommand({
        CapacityProviderName: 'scaling',
        VpcConfig: { SubnetIds: ['subnet-zone1', 'subnet-zone2', 'subnet-zone3'], SecurityGroupIds: [] },
        PermissionsConfig: { CapacityProviderOperatorRoleArn: role },
      }),
    );
    for (let deadline = Date.now() + 10_000; ; await sleep(50)) {
      const { CapacityProvider: read } = await lambda.send(new GetCapacityProviderCommand({ CapacityProviderName: 'scaling' }));
      if (read?.State === 'Active') break;
      if (Date.now() > deadline) throw new Error('capacity provider did not become Active');
    }
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'scaled-fn',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: role,
        Timeout: 5,
        Code: { ZipFile: zipSync({ 'index.mjs': strToU8(handler) }) },
        Publish: true,
        CapacityProviderConfig: {
          LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: CapacityProvider!.CapacityProviderArn!, PerExecutionEnvironmentMaxConcurrency: 2 },
        },
      }),
    );
    let versionArn = '';
    for (let deadline = Date.now() + 90_000; ; await sleep(200)) {
      const { State, StateReasonCode, FunctionArn } = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'scaled-fn', Qualifier: '1' }));
      versionArn = FunctionArn!;
      if (State === 'Active') break;
      if (State !== 'Pending' || Date.now() > deadline) throw new Error(`scaled-fn:1 is ${State} (${StateReasonCode})`);
    }
    expect(created.Version).toBe('1');
    const counter = readyCounter(versionArn);
    await sleep(1_000);
    expect(counter.ready()).toBe(3);

    // Sustained load: 12 callers of a 300-ms function on 3 × 2 slots.
    const loadStart = Date.now();
    const heavy = load('scaled-fn', 12);
    let scaledOutAfterMs: number | undefined;
    let peak = 3;
    while (Date.now() - loadStart < 20_000) {
      const ready = counter.ready();
      if (ready > 3 && scaledOutAfterMs === undefined) scaledOutAfterMs = Date.now() - loadStart;
      peak = Math.max(peak, ready);
      await sleep(100);
    }
    await heavy.stop();
    const loadStop = Date.now();

    // One caller keeps running while the version shrinks: scale-in drains each environment (the agent stops
    // admitting, lets admitted invocations finish, then stops it), so no admitted request may fail.
    const trickle = load('scaled-fn', 1);
    let scaledInAfterMs: number | undefined;
    let lowest = peak;
    while (Date.now() - loadStop < 90_000) {
      const ready = counter.ready();
      peak = Math.max(peak, ready);
      lowest = Math.min(lowest, ready);
      if (ready === 3 && scaledInAfterMs === undefined) scaledInAfterMs = Date.now() - loadStop;
      if (scaledInAfterMs !== undefined && Date.now() - loadStop > scaledInAfterMs + 3_000) break;
      await sleep(100);
    }
    await trickle.stop();
    counter.stop();

    const figures = {
      scaledOutAfterMs,
      peakReady: peak,
      scaledInAfterMs,
      lowestReadyAfterLoad: lowest,
      heavy: { ok: heavy.counts.ok, throttled: heavy.counts.throttled, failed: heavy.counts.failed },
      trickle: { ok: trickle.counts.ok, throttled: trickle.counts.throttled, failed: trickle.counts.failed },
      failures: [...heavy.counts.failures, ...trickle.counts.failures].slice(0, 10),
    };
    console.log(`scaling figures: ${JSON.stringify(figures)}`);
    expect(scaledOutAfterMs).toBeDefined();
    expect(peak).toBeGreaterThan(3);
    expect(scaledInAfterMs).toBeDefined();
    expect(lowest).toBeGreaterThanOrEqual(3);
    expect(figures.failures).toEqual([]);
    expect(heavy.counts.ok).toBeGreaterThan(0);
  });
});

/** Polls `read` every 200 ms until `done` accepts its value; throws with the last value after `timeoutMs`. */
async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

describe('limits', () => {
  it(
    'holds a version within its max and its provider\'s MaxVCpuCount (saying why), and applies UpdateCapacityProvider and scaling configs live',
    { timeout: 300_000 },
    async () => {
      const { CapacityProvider } = await lambda.send(
        new CreateCapacityProviderCommand({
          CapacityProviderName: 'limits',
          VpcConfig: { SubnetIds: ['subnet-zone1', 'subnet-zone2', 'subnet-zone3'], SecurityGroupIds: [] },
          PermissionsConfig: { CapacityProviderOperatorRoleArn: role },
        }),
      );
      const providerArn = CapacityProvider!.CapacityProviderArn!;
      await until('provider state', async () => (await lambda.send(new GetCapacityProviderCommand({ CapacityProviderName: 'limits' }))).CapacityProvider?.State, (state) => state === 'Active', 10_000);
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'limited-fn',
          Runtime: 'nodejs20.x',
          Handler: 'index.handler',
          Role: role,
          Timeout: 5,
          Code: { ZipFile: zipSync({ 'index.mjs': strToU8(handler) }) },
          Publish: true,
          CapacityProviderConfig: {
            LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn, PerExecutionEnvironmentMaxConcurrency: 2 },
          },
        }),
      );
      const configuration = await until(
        'limited-fn:1',
        () => lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'limited-fn', Qualifier: '1' })),
        (read) => read.State !== 'Pending',
        90_000,
      );
      expect(configuration.State).toBe('Active');
      const counter = readyCounter(configuration.FunctionArn!);
      const scalingConfig = () => lambda.send(new GetFunctionScalingConfigCommand({ FunctionName: 'limited-fn', Qualifier: '1' }));

      // 1. A max of 4: Requested until the fleet is within it (it already is: 3 Ready), then Applied.
      await lambda.send(
        new PutFunctionScalingConfigCommand({ FunctionName: 'limited-fn', Qualifier: '1', FunctionScalingConfig: { MinExecutionEnvironments: 3, MaxExecutionEnvironments: 4 } }),
      );
      const applied = await until('scaling config', scalingConfig, (read) => read.RequestedFunctionScalingConfig === undefined, 30_000);
      expect(applied.AppliedFunctionScalingConfig).toEqual({ MinExecutionEnvironments: 3, MaxExecutionEnvironments: 4 });

      // Load that wants far more than 4 EEs: the version grows to its max and no further.
      const heavy = load('limited-fn', 16);
      let peak = 0;
      const watchPeak = setInterval(() => (peak = Math.max(peak, counter.ready())), 100);
      try {
        await until('Ready EEs at max', async () => counter.ready(), (ready) => ready === 4, 60_000);
        await sleep(4_000);
        expect(peak).toBe(4);

        // 2. Raise the max, but cut MaxVCpuCount to the vCPUs the provider runs now: the provider's limit binds
        //    and the version says why. Both changes reach the scaler at once, not after its 30-s cache.
        const { instances: running } = await callUnary(instancesClient, instancesClient.listInstances, { capacityProviderArn: providerArn, includeTerminated: false });
        const vCpusNow = running.reduce((sum, instance) => sum + instance.vcpus, 0);
        await lambda.send(new UpdateCapacityProviderCommand({ CapacityProviderName: 'limits', CapacityProviderScalingConfig: { MaxVCpuCount: vCpusNow } }));
        await lambda.send(
          new PutFunctionScalingConfigCommand({ FunctionName: 'limited-fn', Qualifier: '1', FunctionScalingConfig: { MinExecutionEnvironments: 3, MaxExecutionEnvironments: 40 } }),
        );
        const limited = await until(
          'version reason',
          () => lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'limited-fn', Qualifier: '1' })),
          (read) => read.StateReasonCode === 'CapacityProviderScalingLimitExceeded',
          30_000,
        );
        expect(limited.State).toBe('Active');
        expect(limited.StateReason).toContain(`MaxVCpuCount (${vCpusNow} vCPUs)`);
        const cappedReady = counter.ready();
        await sleep(3_000);
        const { instances: capped } = await callUnary(instancesClient, instancesClient.listInstances, { capacityProviderArn: providerArn, includeTerminated: false });
        expect(capped.reduce((sum, instance) => sum + instance.vcpus, 0)).toBeLessThanOrEqual(vCpusNow);
        // Still Requested: the fleet cannot reach what the load and the new max ask for… but min 3–max 40 holds the Ready EEs.
        expect(counter.ready()).toBeGreaterThanOrEqual(cappedReady);

        // 3. Raise MaxVCpuCount: the version grows past the old limit and the reason goes.
        await lambda.send(new UpdateCapacityProviderCommand({ CapacityProviderName: 'limits', CapacityProviderScalingConfig: { MaxVCpuCount: 400 } }));
        const grown = await until('Ready EEs past the limit', async () => counter.ready(), (ready) => ready > Math.max(4, cappedReady), 60_000);
        expect(grown).toBeGreaterThan(4);
        await until(
          'version reason cleared',
          () => lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'limited-fn', Qualifier: '1' })),
          (read) => read.StateReasonCode === undefined,
          60_000,
        );
      } finally {
        clearInterval(watchPeak);
        await heavy.stop();
        counter.stop();
      }
      expect(heavy.counts.failures).toEqual([]);
      expect(heavy.counts.ok).toBeGreaterThan(0);
      // The limited stretch throttled what was beyond the capacity.
      expect(heavy.counts.throttled).toBeGreaterThan(0);
    },
  );
});
