/**
 * Load reports on the real NATS of the test run: the interval, the exact
 * in-flight counts and refusals, the immediate report when an EE becomes or
 * stops being Ready, real CPU and memory figures, and the empty last report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadReport } from '../src/load-report.js';
import { openInvokeStream, startAgentFixture, type AgentFixture } from './support.js';

const sleeper = {
  'index.mjs': `export const handler = async (event) => { if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs)); return { ok: true }; };`,
};
const intervalMs = 200;
const providerArn = 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:reports';

let fx: AgentFixture;
/** Every report with the time it arrived (performance.now). */
const reports: Array<{ report: LoadReport; receivedAt: number }> = [];

beforeAll(async () => {
  fx = await startAgentFixture('load', {
    loadReportIntervalMs: intervalMs,
    sampleIntervalMs: 100,
    zone: 'us-east-1c',
    capacityProviderArn: providerArn,
    instanceVcpus: 2,
    instanceMemoryMib: 4096,
  });
  fx.bus.subscribeLive<LoadReport>(`instance.${fx.instanceId}.load`, (report) => void reports.push({ report, receivedAt: performance.now() }));
});
afterAll(async () => {
  await fx?.close();
});

const entryOf = (report: LoadReport, environmentId: string) => report.environments.find((e) => e.environmentId === environmentId);

describe('load reports', () => {
  it('report every interval, at once on Ready transitions, with exact in-flight counts and refusals', async () => {
    const spec = await fx.spec(sleeper, { maxConcurrency: 3, functionName: 'reported' });
    await fx.start(spec);
    const readyAt = performance.now();
    // The report that announces the EE is not left to the next interval.
    await expect.poll(() => reports.find(({ report }) => entryOf(report, spec.environmentId)?.state === 'Ready'), { timeout: 2_000, interval: 5 }).toBeDefined();
    const firstReady = reports.find(({ report }) => entryOf(report, spec.environmentId)?.state === 'Ready')!;
    expect(firstReady.receivedAt - readyAt).toBeLessThan(intervalMs / 2);
    expect(firstReady.report).toMatchObject({
      instanceId: fx.instanceId,
      agentAddress: fx.address,
      zone: 'us-east-1c',
      capacityProviderArn: providerArn,
      memory: { capacityMiB: 4096 },
    });
    expect(entryOf(firstReady.report, spec.environmentId)).toMatchObject({
      functionName: 'reported',
      version: '1',
      functionArn: spec.functionArn,
      inFlight: 0,
      maxConcurrency: 3,
      rejectedSinceLastReport: 0,
      admittedSinceLastReport: 0,
    });

    // Three in flight and one refused.
    const stream = openInvokeStream(fx.client);
    const running = [0, 1, 2].map((n) => stream.invoke({ requestId: `lr-${n}`, environmentId: spec.environmentId, payload: Buffer.from('{"sleepMs":1200}') }));
    const refused = await stream.invoke({ requestId: 'lr-over', environmentId: spec.environmentId });
    expect(refused.outcome?.$case).toBe('rejected');
    const since = reports.length;
    await expect.poll(() => reports.slice(since).filter(({ report }) => entryOf(report, spec.environmentId)?.inFlight === 3).length, { timeout: 2_000 }).toBeGreaterThanOrEqual(3);
    const busy = reports.slice(since).filter(({ report }) => entryOf(report, spec.environmentId)?.inFlight === 3);
    // The refusal is counted in exactly one report.
    const refusals = reports.map(({ report }) => entryOf(report, spec.environmentId)?.rejectedSinceLastReport ?? 0);
    expect(refusals.reduce((sum, n) => sum + n, 0)).toBe(1);
    // And the three admissions, each in exactly one report.
    const admissions = reports.map(({ report }) => entryOf(report, spec.environmentId)?.admittedSinceLastReport ?? 0);
    expect(admissions.reduce((sum, n) => sum + n, 0)).toBe(3);
    // Periodic reports come at the interval.
    const gaps = busy.slice(1).map(({ report }, i) => report.at - busy[i]!.report.at);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(intervalMs - 30);
      expect(gap).toBeLessThanOrEqual(intervalMs + 80);
    }
    // Real figures from /proc: a Node.js runtime holds tens of MiB; the instance holds the agent too.
    const last = busy.at(-1)!.report;
    expect(entryOf(last, spec.environmentId)!.memoryMiB).toBeGreaterThan(10);
    expect(last.memory.usedMiB).toBeGreaterThan(entryOf(last, spec.environmentId)!.memoryMiB);
    expect(last.cpu.usedPercent).toBeGreaterThanOrEqual(last.cpu.environmentsPercent);
    expect(last.cpu.usedPercent).toBeLessThanOrEqual(100);

    await Promise.all(running);
    await expect.poll(() => entryOf(reports.at(-1)!.report, spec.environmentId)?.inFlight, { timeout: 2_000 }).toBe(0);

    // Leaving Ready is reported at once too: Stopping as soon as the stop begins, then gone.
    const beforeStop = reports.length;
    const stopping = fx.stop(spec.environmentId, 2_000);
    const stopAt = performance.now();
    await expect.poll(() => reports.slice(beforeStop).find(({ report }) => entryOf(report, spec.environmentId)?.state !== 'Ready'), { timeout: 2_000, interval: 5 }).toBeDefined();
    const left = reports.slice(beforeStop).find(({ report }) => entryOf(report, spec.environmentId)?.state !== 'Ready')!;
    expect(left.receivedAt - stopAt).toBeLessThan(intervalMs / 2);
    await stopping;
    await expect.poll(() => entryOf(reports.at(-1)!.report, spec.environmentId), { timeout: 2_000 }).toBeUndefined();
    await stream.end();
  });

  it('publishes an empty report when the agent closes, so routers drop it at once', async () => {
    const other = await startAgentFixture('load-close', { loadReportIntervalMs: 10_000 });
    const got: LoadReport[] = [];
    const subscription = other.bus.subscribeLive<LoadReport>(`instance.${other.instanceId}.load`, (report) => void got.push(report));
    const spec = await other.spec(sleeper, {});
    await other.start(spec);
    await expect.poll(() => got.some((report) => entryOf(report, spec.environmentId)?.state === 'Ready')).toBe(true);
    await other.agent.close();
    await expect.poll(() => got.at(-1)?.environments).toEqual([]);
    subscription.unsubscribe();
    await other.close();
  });
});
