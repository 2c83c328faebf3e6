/**
 * The fleet workflows on the real Temporal server, with activities faked in
 * the test (the workflows' contract is the activity interface; the real
 * activities are placement's and are covered end to end). What is checked is
 * the order of effects each workflow promises: rotation brings new capacity up
 * before it drains the old and terminates the instance last; a failed rotation
 * leaves the old environments serving; publish compensates in reverse and
 * fails the version with the reason code; scale-in drains before it
 * terminates emptied instances.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/activity';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testInfra } from '@hearth/testing';
import { workflowNames, type CapacityPlan, type FleetActivities, type RotationVersion } from '../src/index.js';

const taskQueue = `fleet-workflows-test-${randomUUID()}`;
const version = { functionName: 'fn', version: '1', revisionId: 'r1' };

/** A scripted fleet: what each activity answers, and the log of every call. */
interface Script {
  rotation?: RotationVersion[][];
  plan?: CapacityPlan;
  failStart?: string;
}
let script: Script = {};
let calls: string[] = [];

const activities: FleetActivities = {
  async planVersionCapacity({ desiredEnvironments, excludeInstanceIds }) {
    calls.push(`plan ${desiredEnvironments}${excludeInstanceIds ? ` excluding ${excludeInstanceIds.join(',')}` : ''}`);
    return script.plan ?? { instancesToLaunch: [], environments: [], alreadyReady: desiredEnvironments };
  },
  async launchInstance(instance) {
    calls.push(`launch ${instance.instanceId}`);
    return { agentAddress: `${instance.instanceId}:1` };
  },
  async startEnvironment({ environment }) {
    calls.push(`start ${environment.environmentId}`);
    if (script.failStart === environment.environmentId) {
      throw ApplicationFailure.nonRetryable('init failed', 'FunctionError.RuntimeInitError');
    }
  },
  async stopEnvironment({ environmentId }) {
    calls.push(`stop ${environmentId}`);
  },
  async terminateIdleInstance({ instanceId }) {
    calls.push(`terminate-idle ${instanceId}`);
  },
  async listEnvironments() {
    return [];
  },
  async currentRevision() {
    return 'r1';
  },
  async activateVersion() {
    calls.push('activate');
  },
  async retireStaleEnvironments() {
    calls.push('retire-stale');
    return 0;
  },
  async failVersion({ reasonCode }) {
    calls.push(`fail ${reasonCode}`);
  },
  async completeTeardown() {
    calls.push('complete-teardown');
  },
  async planScaleIn({ desiredEnvironments }) {
    calls.push(`plan-scale-in ${desiredEnvironments}`);
    return {
      environments: [
        { environmentId: 'ee-b', instanceId: 'i-2', zone: 'z2' },
        { environmentId: 'ee-c', instanceId: 'i-2', zone: 'z2' },
      ],
      emptiedInstances: ['i-2'],
      present: 5,
      keep: 3,
    };
  },
  async drainEnvironment({ environmentId }) {
    calls.push(`drain ${environmentId}`);
    return { drained: true, inFlightAtStop: 0, waitedMs: 1 };
  },
  async rotationVersions({ instanceId }) {
    calls.push(`rotation-versions ${instanceId}`);
    return script.rotation?.shift() ?? [];
  },
  async terminateInstance({ instanceId }) {
    calls.push(`terminate ${instanceId}`);
  },
};

let worker: Worker;
let running: Promise<void>;
let client: Client;
let connection: Connection;

beforeAll(async () => {
  // Warnings and errors only: the worker's state changes are not this test's subject.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const { temporalAddress } = testInfra();
  const nativeConnection = await NativeConnection.connect({ address: temporalAddress });
  worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    // The built module, as the placement worker bundles it (`npm test` builds before it runs).
    workflowsPath: fileURLToPath(new URL('../dist/workflows.js', import.meta.url)),
    activities,
  });
  running = worker.run();
  connection = await Connection.connect({ address: temporalAddress });
  client = new Client({ connection });
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
});

async function run<T>(workflow: string, input: unknown): Promise<T> {
  calls = [];
  return client.workflow.execute(workflow, { taskQueue, workflowId: `${workflow}-${randomUUID()}`, args: [input], workflowExecutionTimeout: '60 s' });
}

const newCapacity: CapacityPlan = {
  instancesToLaunch: [{ instanceId: 'i-new', capacityProviderArn: 'arn', instanceType: 'm7g.large', zone: 'z1', architecture: 'arm64', vcpus: 2, memoryMib: 8192 }],
  environments: [{ environmentId: 'ee-new', instanceId: 'i-new', zone: 'z1' }],
  alreadyReady: 2,
};

describe('rotateInstance', () => {
  it('brings new capacity up on other instances, then drains the old environments, then terminates the instance', async () => {
    script = {
      plan: newCapacity,
      rotation: [[{ version, environmentIds: ['ee-old'], size: 3, state: 'Active' }], []],
    };
    const result = await run<{ moved: number; versions: number }>(workflowNames.rotateInstance, { instanceId: 'i-old', reason: 'max lifetime' });
    expect(result).toEqual({ moved: 1, versions: 1 });
    expect(calls).toEqual([
      'rotation-versions i-old',
      'plan 3 excluding i-old',
      'launch i-new',
      'start ee-new',
      'drain ee-old',
      'rotation-versions i-old',
      'terminate i-old',
    ]);
  });

  it('only drains versions that are not Active, and terminates when nothing is left', async () => {
    script = { rotation: [[{ version, environmentIds: ['ee-x'], size: 1, state: 'NotFound' }], []] };
    await run(workflowNames.rotateInstance, { instanceId: 'i-old', reason: 'max lifetime' });
    expect(calls).toEqual(['rotation-versions i-old', 'drain ee-x', 'rotation-versions i-old', 'terminate i-old']);
  });

  it('leaves the old environments serving when the new capacity fails, compensating what it started', async () => {
    script = {
      plan: newCapacity,
      failStart: 'ee-new',
      rotation: [[{ version, environmentIds: ['ee-old'], size: 3, state: 'Active' }]],
    };
    await expect(run(workflowNames.rotateInstance, { instanceId: 'i-old', reason: 'max lifetime' })).rejects.toThrow();
    expect(calls).toEqual(['rotation-versions i-old', 'plan 3 excluding i-old', 'launch i-new', 'start ee-new', 'stop ee-new', 'terminate-idle i-new']);
    expect(calls).not.toContain('drain ee-old');
    expect(calls).not.toContain('terminate i-old');
  });
});

describe('publishVersion', () => {
  it('activates after the environments are up, then retires stale ones', async () => {
    script = { plan: newCapacity };
    const result = await run(workflowNames.publishVersion, { version, desiredEnvironments: 3 });
    expect(result).toEqual({ state: 'Active', environments: 3 });
    expect(calls).toEqual(['plan 3', 'launch i-new', 'start ee-new', 'activate', 'retire-stale']);
  });

  it('compensates in reverse and fails the version with the init reason code', async () => {
    script = { plan: newCapacity, failStart: 'ee-new' };
    const result = await run(workflowNames.publishVersion, { version, desiredEnvironments: 3 });
    expect(result).toMatchObject({ state: 'Failed', environments: 0, stateReasonCode: 'FunctionError.RuntimeInitError' });
    expect(calls).toEqual(['plan 3', 'launch i-new', 'start ee-new', 'stop ee-new', 'terminate-idle i-new', 'fail FunctionError.RuntimeInitError']);
  });
});

describe('scaleInVersion', () => {
  it('drains every planned environment before it terminates the emptied instances', async () => {
    const result = await run(workflowNames.scaleInVersion, { version, desiredEnvironments: 3, reason: 'scale in' });
    expect(result).toEqual({ stopped: 2, keep: 3 });
    expect(calls.slice(0, 1)).toEqual(['plan-scale-in 3']);
    expect(new Set(calls.slice(1, 3))).toEqual(new Set(['drain ee-b', 'drain ee-c']));
    expect(calls.slice(3)).toEqual(['terminate-idle i-2']);
  });
});
