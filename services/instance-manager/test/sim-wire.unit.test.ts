/**
 * The sim's load reports and heartbeats are re-declared (services are not
 * libraries): these tests feed what a simulated agent publishes through the
 * readers' own parsers — the router's, the scaler's, the instance-manager's
 * heartbeat tracker — and check at compile time that the sim's report is
 * assignable to the real agent's type, so the two cannot drift apart.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '@hearth/telemetry';
import type { LoadReport as AgentLoadReport } from '../../agent/src/load-report.js';
import type { InstanceHeartbeat as AgentHeartbeat } from '../../agent/src/heartbeat.js';
import { parseLoadReport as routerParse } from '../../router/src/load-report.js';
import { parseLoadReport as scalerParse } from '../../scaler/src/load-reports.js';
import { HeartbeatTracker } from '../src/heartbeats.js';
import { SimAgent } from '../src/sim/sim-agent.js';
import { SimFleet } from '../src/sim/sim-fleet.js';
import type { SimSettings } from '../src/sim/sim-settings.js';
import type { SimHeartbeat, SimLoadReport } from '../src/sim/sim-wire.js';
import { specOf } from './sim-support.js';

const settings: SimSettings = {
  instanceBootMs: 0,
  initMs: 0,
  latencyMs: 100,
  cpuMs: 50,
  loadReportIntervalMs: 60_000,
  heartbeatIntervalMs: 60_000,
  tickMs: 100,
  cpuRejectPercent: 95,
  cpuWindowMs: 1_000,
};

async function loadedAgent() {
  const published: Array<{ subject: string; data: unknown }> = [];
  const fleet = new SimFleet(settings);
  const simAgent = new SimAgent({
    instance: { instanceId: 'i-wire', capacityProviderArn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:cp', instanceType: 'c7g.xlarge', zone: 'us-east-1b', architecture: 'arm64', vcpus: 4, memoryMib: 8_192 },
    publisher: { publishLive: (subject, data) => published.push({ subject, data: JSON.parse(JSON.stringify(data)) as unknown }) },
    settings,
    hooks: fleet,
    logger: createLogger('sim-wire-test'),
  });
  fleet.add(simAgent);
  simAgent.startReporting('127.0.0.1:4242');
  await simAgent.startEnvironment(specOf('ee-ready', { maxConcurrency: 1 }));
  void simAgent.startEnvironment(specOf('ee-starting', { variables: { HEARTH_SIM_INIT_MS: '60000' } }));
  fleet.setLoad({ functionName: 'fn', ratePerSecond: 50 });
  fleet.tick();
  return { simAgent, published };
}

describe('sim wire format', () => {
  it('is a load report the router and the scaler parse, field for field', async () => {
    const { simAgent } = await loadedAgent();
    const report: SimLoadReport = JSON.parse(JSON.stringify(simAgent.buildLoadReport(true))) as SimLoadReport;
    // Compile-time: the sim's report has every member of the real agent's.
    const asAgents: AgentLoadReport = report;
    expect(asAgents.environments).toHaveLength(2);

    const routed = routerParse(report);
    if (typeof routed === 'string') throw new Error(`the router refused a sim report: ${routed}`);
    expect(routed).toMatchObject({ instanceId: 'i-wire', agentAddress: '127.0.0.1:4242', zone: 'us-east-1b', capacityProviderArn: report.capacityProviderArn });
    const ready = routed.environments.find((environment) => environment.environmentId === 'ee-ready')!;
    expect(ready).toMatchObject({ functionName: 'fn', version: '1', state: 'Ready', maxConcurrency: 1, revisionId: 'rev-1' });
    expect(ready.rejectedSinceLastReport).toBeGreaterThan(0);
    expect(routed.environments.find((environment) => environment.environmentId === 'ee-starting')?.state).toBe('Starting');

    const scaled = scalerParse(report);
    if (typeof scaled === 'string') throw new Error(`the scaler refused a sim report: ${scaled}`);
    // The scaler drops entries it cannot read: none may be dropped.
    expect(scaled.environments).toHaveLength(2);
    expect(scaled.environments.find((environment) => environment.environmentId === 'ee-ready')).toMatchObject({
      functionArn: specOf('x').functionArn,
      inFlight: ready.inFlight,
      cpuPercent: ready.cpuPercent,
      rejectedSinceLastReport: ready.rejectedSinceLastReport,
    });
    simAgent.kill();
  });

  it('publishes heartbeats the instance-manager records and load reports on the real subjects', async () => {
    const { simAgent, published } = await loadedAgent();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const beat = published.filter((entry) => entry.subject === 'instance.i-wire.heartbeat').at(-1)!.data as SimHeartbeat;
    const asAgents: AgentHeartbeat = beat;
    const tracker = new HeartbeatTracker();
    tracker.watch('i-wire');
    expect(tracker.record('i-wire', asAgents)).toBe(true);
    expect(tracker.malformed).toBe(0);
    expect(published.some((entry) => entry.subject === 'instance.i-wire.load')).toBe(true);
    simAgent.kill();
  });
});
