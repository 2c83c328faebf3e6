/**
 * End to end, issue #5 item 3: a maximum instance lifetime rotates instances
 * without dropping requests. The cluster runs with an 8 s lifetime: the
 * instance-manager records InstanceRotationDue on each instance that reaches
 * it, placement's `rotateInstance` workflow brings the version's size up on
 * other instances first, drains and stops the old environments, then
 * terminates the instance — while a caller keeps invoking the version.
 */
import { CreateFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActiveProvider, testRole, testSubnetZonesEnv, zipOf } from './support/fleet-setup.js';
import { rotationTerminateReason } from '@hearth/fleet';
import { callUnary, createClient } from '@hearth/grpc';
import { agent, instanceManager } from '@hearth/proto';
import { startTestCluster, type TestCluster } from '@hearth/testing';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let cluster: TestCluster;
let lambda: LambdaClient;
let instances: instanceManager.InstanceManagerServiceClient;

/** Ready EEs of version 1 of `functionArn` on each live instance of the provider, asked of the agents at once. */
async function readyByInstance(providerArn: string, functionArn: string): Promise<Map<string, number>> {
  const { instances: list } = await callUnary(instances, instances.listInstances, { capacityProviderArn: providerArn, includeTerminated: false });
  const counts = await Promise.all(
    list
      .filter((instance) => instance.agentAddress)
      .map(async (instance) => {
        const client = createClient(agent.AgentServiceClient, instance.agentAddress);
        try {
          const { environments } = await callUnary(client, client.listEnvironments, {}, { deadlineMs: 2_000 });
          const ready = environments.filter((e) => e.state === 'Ready' && e.functionArn.startsWith(functionArn.replace(/:1$/, '')) && e.version === '1').length;
          return [instance.instanceId, ready] as const;
        } catch {
          // An agent being terminated answers no more: it serves nothing.
          return [instance.instanceId, 0] as const;
        } finally {
          client.close();
        }
      }),
  );
  return new Map(counts);
}

/** One caller invoking in a loop until stopped, counting the answers (429s are allowed, counted apart). */
function caller(functionName: string) {
  const counts = { ok: 0, throttled: 0, failed: 0, failures: [] as string[] };
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const output = await lambda.send(
          new InvokeCommand({ FunctionName: functionName, Qualifier: '1', Payload: Buffer.from(JSON.stringify({ sleepMs: 50 })) }),
        );
        if (output.StatusCode === 200 && output.FunctionError === undefined) counts.ok += 1;
        else {
          counts.failed += 1;
          counts.failures.push(`${output.StatusCode} ${output.FunctionError ?? ''} ${Buffer.from(output.Payload ?? new Uint8Array()).toString()}`);
        }
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 429) {
          counts.throttled += 1;
          await sleep(50);
        } else {
          counts.failed += 1;
          counts.failures.push(`${status ?? 'no status'} ${(error as Error).name}: ${(error as Error).message}`);
        }
      }
    }
  })();
  return {
    counts,
    async stop() {
      running = false;
      await loop;
    },
  };
}

beforeAll(async () => {
  cluster = await startTestCluster({
    env: {
      HEARTH_SUBNET_ZONES: testSubnetZonesEnv,
      HEARTH_INSTANCE_MAX_AGE_MS: '8000',
    },
  });
  lambda = new LambdaClient({ endpoint: cluster.httpEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  instances = createClient(instanceManager.InstanceManagerServiceClient, cluster.grpcEndpoints['instance-manager']);
}, 180_000);

afterAll(async () => {
  instances?.close();
  lambda?.destroy();
  await cluster?.stop();
});

describe('instance rotation', () => {
  it('replaces every instance past its maximum lifetime, new capacity first, failing no invocation', { timeout: 120_000 }, async () => {
    const providerArn = await createActiveProvider(lambda, 'rotation');
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'rotate-fn',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: testRole,
        Code: {
          ZipFile: zipOf({
            'index.mjs': 'export const handler = async (event) => { await new Promise((r) => setTimeout(r, event.sleepMs ?? 0)); return { ok: true }; };',
          }),
        },
        CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn } },
        Publish: true,
      }),
    );
    let functionArn = '';
    for (const deadline = Date.now() + 60_000; ; await sleep(200)) {
      const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'rotate-fn', Qualifier: '1' }));
      if (configuration.State === 'Active') {
        functionArn = configuration.FunctionArn!;
        break;
      }
      if (configuration.State === 'Failed' || Date.now() > deadline) throw new Error(`rotate-fn:1 did not become Active: ${configuration.State} ${configuration.StateReason ?? ''}`);
    }

    const initial = await readyByInstance(providerArn, functionArn);
    const originals = [...initial].filter(([, ready]) => ready > 0).map(([instanceId]) => instanceId);
    expect(originals).toHaveLength(3);
    expect([...initial.values()].reduce((a, b) => a + b, 0)).toBe(3);

    const load = caller('rotate-fn');
    const started = Date.now();
    let minReady = Number.POSITIVE_INFINITY;
    let rotatedAt: number | undefined;
    let final: Map<string, number> | undefined;
    try {
      for (const deadline = started + 60_000; ; await sleep(250)) {
        const ready = await readyByInstance(providerArn, functionArn);
        const total = [...ready.values()].reduce((a, b) => a + b, 0);
        minReady = Math.min(minReady, total);
        const { instances: all } = await callUnary(instances, instances.listInstances, { capacityProviderArn: providerArn, includeTerminated: true });
        const rotated = originals.every((id) => {
          const instance = all.find((candidate) => candidate.instanceId === id);
          return instance?.state === 'Terminated' && instance.stateReason === rotationTerminateReason;
        });
        if (rotated) rotatedAt ??= Date.now();
        // New instances reach the 8 s lifetime too and rotate in turn: wait for a settled moment.
        const onOriginals = originals.reduce((sum, id) => sum + (ready.get(id) ?? 0), 0);
        if (rotated && total === 3 && onOriginals === 0) {
          final = ready;
          break;
        }
        if (Date.now() > deadline) {
          const states = originals.map((id) => {
            const instance = all.find((candidate) => candidate.instanceId === id);
            return `${id}: ${instance?.state} (${instance?.stateReason ?? ''})`;
          });
          throw new Error(`rotation did not settle within 60 s: ready ${JSON.stringify([...ready])}; originals ${states.join('; ')}`);
        }
      }
    } finally {
      await load.stop();
    }

    console.log(
      `rotation: originals rotated after ${rotatedAt! - started} ms; settled after ${Date.now() - started} ms; ` +
        `invocations ok ${load.counts.ok}, throttled ${load.counts.throttled}, failed ${load.counts.failed}; fewest Ready seen ${minReady}`,
    );
    expect([...final!.entries()].filter(([, ready]) => ready > 0).every(([id]) => !originals.includes(id))).toBe(true);
    expect(load.counts.failures).toEqual([]);
    expect(load.counts.ok).toBeGreaterThan(0);
    // New capacity first: the version never had fewer Ready environments than its size.
    expect(minReady).toBeGreaterThanOrEqual(3);
  });
});
