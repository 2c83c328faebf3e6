import { afterEach, describe, expect, it } from 'vitest';
import type { agent } from '@hearth/proto';
import { createLogger } from '@hearth/telemetry';
import { SimAgent } from '../src/sim/sim-agent.js';
import { SimFleet } from '../src/sim/sim-fleet.js';
import type { SimSettings } from '../src/sim/sim-settings.js';
import type { SimLoadReport } from '../src/sim/sim-wire.js';
import { specOf } from './sim-support.js';

const logger = createLogger('sim-agent-test');
const settings: SimSettings = {
  instanceBootMs: 0,
  initMs: 5,
  latencyMs: 20,
  cpuMs: 1,
  loadReportIntervalMs: 60_000,
  heartbeatIntervalMs: 60_000,
  tickMs: 100,
  cpuRejectPercent: 95,
  cpuWindowMs: 1_000,
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


const agents: SimAgent[] = [];
afterEach(() => {
  for (const simAgent of agents.splice(0)) simAgent.kill();
});

function fixture() {
  const published: Array<{ subject: string; data: unknown }> = [];
  const fleet = new SimFleet(settings);
  const simAgent = new SimAgent({
    instance: { instanceId: 'i-sim', capacityProviderArn: 'arn:cp', instanceType: 'c7g.2xlarge', zone: 'us-east-1a', architecture: 'arm64', vcpus: 8, memoryMib: 16_384 },
    publisher: { publishLive: (subject, data) => published.push({ subject, data }) },
    settings,
    hooks: fleet,
    logger,
  });
  agents.push(simAgent);
  fleet.add(simAgent);
  simAgent.startReporting('127.0.0.1:1');
  const reports = () => published.filter((entry) => entry.subject === 'instance.i-sim.load').map((entry) => entry.data as SimLoadReport);
  return { fleet, simAgent, published, reports };
}

describe('SimAgent', () => {
  it('starts an EE Ready after its init time, idempotently, and refuses a different function under the same id', async () => {
    const { simAgent } = fixture();
    const status = await simAgent.startEnvironment(specOf('ee-1'));
    expect(status).toMatchObject({ environmentId: 'ee-1', state: 'Ready', maxConcurrency: 2, functionArn: specOf('ee-1').functionArn, inFlight: 0 });
    expect((await simAgent.startEnvironment(specOf('ee-1'))).state).toBe('Ready');
    await expect(simAgent.startEnvironment(specOf('ee-1', { functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:other:1' }))).rejects.toThrow(
      'Environment ee-1 already runs arn:aws:lambda:us-east-1:000000000000:function:fn:1',
    );
    await expect(simAgent.startEnvironment(specOf('bad id'))).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
  });

  it('fails an EE as a runtime would: a malformed model at once, an init longer than its deadline with InitTimeout', async () => {
    const { simAgent } = fixture();
    const bad = await simAgent.startEnvironment(specOf('ee-bad', { variables: { HEARTH_SIM_LATENCY_MS: 'soon' } }));
    expect(bad).toMatchObject({ state: 'Failed', reasonCode: 'FunctionError.RuntimeInitError' });
    expect(bad.reason).toContain('HEARTH_SIM_LATENCY_MS="soon"');
    const slow = await simAgent.startEnvironment(specOf('ee-slow', { initTimeoutMs: 30, variables: { HEARTH_SIM_INIT_MS: '5000' } }));
    expect(slow).toMatchObject({ state: 'Failed', reasonCode: 'FunctionError.InitTimeout' });
  });

  it('answers a real invocation after the simulated latency with its payload echoed, refuses beyond max concurrency, times out past the deadline', async () => {
    const { simAgent } = fixture();
    await simAgent.startEnvironment(specOf('ee-1', { variables: { HEARTH_SIM_LATENCY_MS: '60' } }));
    const environment = simAgent.environments.get('ee-1')!;
    const outcomes: agent.InvokeEnvironmentResponse[] = [];
    const started = performance.now();
    const request = (requestId: string, deadlineUnixMs = 0) => ({ requestId, payload: Buffer.from(`{"n":"${requestId}"}`), deadlineUnixMs });
    expect('cancel' in environment.invoke(request('r1'), (outcome) => outcomes.push(outcome))).toBe(true);
    expect('cancel' in environment.invoke(request('r2', Date.now() + 20), (outcome) => outcomes.push(outcome))).toBe(true);
    expect(environment.invoke(request('r3'), () => {})).toMatchObject({ reason: 'ConcurrencyLimit' });
    expect(simAgent.listEnvironments()[0]!.inFlight).toBe(2);
    while (outcomes.length < 2) await sleep(5);
    const timedOut = outcomes.find((outcome) => outcome.functionError === 'Unhandled')!;
    expect(JSON.parse(Buffer.from(timedOut.payload).toString())).toMatchObject({ errorType: 'Sandbox.Timedout' });
    const echoed = outcomes.find((outcome) => outcome.functionError === undefined)!;
    expect(Buffer.from(echoed.payload).toString()).toBe('{"n":"r1"}');
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    // The timed-out invocation keeps its slot until its simulated run ends, as in LMI.
    await sleep(80);
    expect(environment.model.inFlight).toBe(0);
  });

  it('drains an EE on stop, reports it Stopping then leaves it out, and answers Stopped for unknown ids', async () => {
    const { simAgent, reports } = fixture();
    await simAgent.startEnvironment(specOf('ee-1', { variables: { HEARTH_SIM_LATENCY_MS: '50' } }));
    let answered: agent.InvokeEnvironmentResponse | undefined;
    simAgent.environments.get('ee-1')!.invoke({ requestId: 'r1', payload: Buffer.from('{}'), deadlineUnixMs: 0 }, (outcome) => (answered = outcome));
    const stopping = simAgent.stopEnvironment('ee-1', 2_000);
    await sleep(5);
    expect(reports().at(-1)!.environments).toMatchObject([{ environmentId: 'ee-1', state: 'Stopping', inFlight: 1 }]);
    expect((await stopping).state).toBe('Stopped');
    expect(answered?.functionError).toBeUndefined();
    await sleep(5);
    expect(reports().at(-1)!.environments).toEqual([]);
    expect(await simAgent.stopEnvironment('ee-unknown', 0)).toMatchObject({ environmentId: 'ee-unknown', state: 'Stopped' });
  });

  it('publishes load reports in the agent’s shape, counting rejections since the previous report', async () => {
    const { simAgent, published } = fixture();
    await simAgent.startEnvironment(specOf('ee-1', { maxConcurrency: 1, variables: { HEARTH_SIM_LATENCY_MS: '100' } }));
    const environment = simAgent.environments.get('ee-1')!;
    environment.invoke({ requestId: 'r1', payload: Buffer.from('{}'), deadlineUnixMs: 0 }, () => {});
    environment.invoke({ requestId: 'r2', payload: Buffer.from('{}'), deadlineUnixMs: 0 }, () => {});
    environment.invoke({ requestId: 'r3', payload: Buffer.from('{}'), deadlineUnixMs: 0 }, () => {});
    const first = simAgent.buildLoadReport(true);
    expect(first).toMatchObject({
      instanceId: 'i-sim',
      agentAddress: '127.0.0.1:1',
      zone: 'us-east-1a',
      capacityProviderArn: 'arn:cp',
      memory: { capacityMiB: 16_384 },
      environments: [{ environmentId: 'ee-1', functionName: 'fn', version: '1', revisionId: 'rev-1', state: 'Ready', inFlight: 1, maxConcurrency: 1, rejectedSinceLastReport: 2 }],
    });
    expect(simAgent.buildLoadReport(true).environments[0]!.rejectedSinceLastReport).toBe(0);
    await sleep(5);
    const beat = published.filter((entry) => entry.subject === 'instance.i-sim.heartbeat').at(-1)!.data;
    expect(beat).toMatchObject({ instanceId: 'i-sim', environments: [{ environmentId: 'ee-1', state: 'Ready', maxConcurrency: 1 }] });
  });
});

describe('SimFleet synthetic load', () => {
  it('refuses a malformed load with the field and what is allowed', () => {
    const { fleet } = fixture();
    expect(fleet.setLoad({ functionName: '', ratePerSecond: 1 })).toBe('functionName must be a non-empty string');
    expect(fleet.setLoad({ functionName: 'fn', ratePerSecond: -1 })).toBe('ratePerSecond must be a number in 0–10000000');
    expect(fleet.setLoad({ functionName: 'fn', version: 3, ratePerSecond: 1 })).toBe('version must be a non-empty string when given');
    expect(fleet.setLoad('x')).toBe('the request must be a JSON object {functionName, version?, ratePerSecond}');
  });

  it('counts a load with no Ready EE as unserved, then spreads it over the version’s Ready EEs', async () => {
    const { fleet, simAgent } = fixture();
    fleet.setLoad({ functionName: 'fn', version: '1', ratePerSecond: 100 });
    fleet.tick();
    await sleep(20);
    fleet.tick();
    expect(fleet.stats().loads[0]).toMatchObject({ functionName: 'fn', version: '1', readyEnvironments: 0, admitted: 0 });
    expect(fleet.stats().loads[0]!.unserved).toBeGreaterThan(0);
    await Promise.all(['ee-1', 'ee-2'].map((id) => simAgent.startEnvironment(specOf(id, { maxConcurrency: 64 }))));
    fleet.tick();
    for (const id of ['ee-1', 'ee-2']) expect(simAgent.environments.get(id)!.model.offeredPerSecond).toBe(50);
    expect(fleet.stats().loads[0]!.readyEnvironments).toBe(2);
    expect(fleet.stats(['fn']).functions).toEqual({ fn: { ready: 2, starting: 0, inFlight: expect.any(Number) } });
  });

  it('saturates the EEs of an overloaded version: refusals in the totals and in the load reports', async () => {
    const { fleet, simAgent } = fixture();
    await simAgent.startEnvironment(specOf('ee-1', { maxConcurrency: 2, variables: { HEARTH_SIM_LATENCY_MS: '200', HEARTH_SIM_CPU_MS: '1' } }));
    // 2 slots of 200 ms serve 10/s; 100/s is offered.
    fleet.setLoad({ functionName: 'fn', ratePerSecond: 100 });
    for (let i = 0; i < 20; i++) {
      await sleep(25);
      fleet.tick();
    }
    const [totals] = fleet.stats().loads;
    expect(totals!.rejected).toBeGreaterThan(totals!.admitted);
    expect(Math.abs(totals!.offered - totals!.admitted - totals!.rejected)).toBeLessThanOrEqual(2);
    expect(totals!.lastRefusedAt).toBeGreaterThan(0);
    const entry = simAgent.buildLoadReport(true).environments[0]!;
    expect(entry.inFlight).toBe(2);
    expect(entry.rejectedSinceLastReport).toBeGreaterThan(0);
    // Removing the load answers its totals and forgets it.
    expect(fleet.setLoad({ functionName: 'fn', ratePerSecond: 0 })).toMatchObject({ functionName: 'fn', ratePerSecond: 0 });
    expect(fleet.stats().loads).toEqual([]);
  });
});
