/**
 * The scaler loop with fakes: load reports in, workflow starts out, with the
 * control plane's limits, caching, the fleet cap and the skips.
 */
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { ReconcileVersionInput, ScaleInVersionInput, VersionRef } from '@hearth/fleet';
import { createLogger } from '@hearth/telemetry';
import { cachedReads, limitsOf, type ControlPlane, type ProviderSettings, type VersionSettings } from '../src/control-plane.js';
import { LoadReportTable, parseLoadReport } from '../src/load-reports.js';
import { createScaler } from '../src/scaler.js';
import { loadScalerConfig } from '../src/scaler-config.js';

const provider = 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:fleet';
const arn = (name: string, version: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}:${version}`;

function logs() {
  const lines: Array<Record<string, any>> = [];
  const logger = createLogger(
    'scaler-test',
    new Writable({
      write(chunk, _encoding, callback) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
        callback();
      },
    }),
  );
  return { logger, lines };
}

/** One agent's report: `ees` EEs of fn:version, each with `inFlight` busy of `max` slots. */
function report(
  instanceId: string,
  at: number,
  ees: Array<{ name?: string; version?: string; inFlight: number; max?: number; state?: string; rejected?: number; admitted?: number; cpu?: number }>,
) {
  return {
    instanceId,
    agentAddress: '127.0.0.1:1',
    zone: 'us-east-1a',
    capacityProviderArn: provider,
    at,
    environments: ees.map((ee, index) => ({
      environmentId: `ee-${instanceId}-${index}`,
      functionName: ee.name ?? 'fn',
      version: ee.version ?? '1',
      functionArn: arn(ee.name ?? 'fn', ee.version ?? '1'),
      state: ee.state ?? 'Ready',
      inFlight: ee.inFlight,
      maxConcurrency: ee.max ?? 2,
      cpuPercent: ee.cpu ?? 0,
      memoryMiB: 50,
      rejectedSinceLastReport: ee.rejected ?? 0,
      ...(ee.admitted === undefined ? {} : { admittedSinceLastReport: ee.admitted }),
    })),
  };
}

const version = (overrides: Partial<VersionSettings> = {}): VersionSettings => ({
  state: 'Active',
  capacityProviderArn: provider,
  minEnvironments: 3,
  maxEnvironments: Number.POSITIVE_INFINITY,
  limitsFrom: 'defaults',
  environment: { vCpus: 1, memoryMiB: 2048 },
  awaitingApply: false,
  limited: false,
  ...overrides,
});
const providerSettings = (overrides: Partial<ProviderSettings> = {}): ProviderSettings => ({
  targetCpuPercent: 50,
  maxVCpuCount: 400,
  instanceType: { vCpus: 4, memoryMiB: 8192 },
  ...overrides,
});

function harness(options: { version?: (ref: { functionName: string; version: string }) => VersionSettings; provider?: ProviderSettings; running?: boolean } = {}) {
  let clock = 1_000_000;
  const now = () => clock;
  const reports = new LoadReportTable({ maxInstances: 100, maxAgeMs: 2_000, now });
  const controlPlane: ControlPlane = {
    version: vi.fn(async (ref) => (options.version ?? (() => version()))(ref)),
    provider: vi.fn(async () => options.provider ?? providerSettings()),
  };
  const started = { reconcile: [] as ReconcileVersionInput[], scaleIn: [] as ScaleInVersionInput[] };
  const workflows = {
    running: vi.fn(async (_ref: VersionRef) => options.running ?? false),
    startReconcile: vi.fn(async (input: ReconcileVersionInput) => {
      started.reconcile.push(input);
      return true;
    }),
    startScaleIn: vi.fn(async (input: ScaleInVersionInput) => {
      started.scaleIn.push(input);
      return true;
    }),
  };
  const { logger, lines } = logs();
  const considered: Array<{ capReason?: string; allowed: number; desired: number; limited: boolean }> = [];
  const scalingReports = {
    consider: vi.fn(async (outcome: { capReason?: string; allowed: number; desired: number }, settings: VersionSettings) => {
      considered.push({ capReason: outcome.capReason, allowed: outcome.allowed, desired: outcome.desired, limited: settings.limited });
    }),
    retain: vi.fn(),
  };
  const scaler = createScaler({
    reports,
    controlPlane,
    workflows,
    logger,
    now,
    autoscaler: { stableWindowMs: 10_000, burstWindowMs: 2_000, scaleDownDelayMs: 6_000 },
    scalingReports,
  });
  return {
    considered,
    reports,
    controlPlane,
    workflows,
    started,
    lines,
    scaler,
    advance: (ms: number) => (clock += ms),
    get now() {
      return clock;
    },
  };
}

/** Three instances, one Ready EE each of fn:1, with `inFlight` each. */
const threeEes = (h: ReturnType<typeof harness>, inFlight: number, extra: Parameters<typeof report>[2][number] = { inFlight }) => {
  for (const id of ['i-a', 'i-b', 'i-c']) h.reports.ingest(report(id, h.now, [{ ...extra, inFlight }]));
};

describe('scaler loop', () => {
  it('starts reconcileVersion with the desired EEs when the version is saturated, and logs the decision with its inputs', async () => {
    const h = harness();
    threeEes(h, 2);
    const step = await h.scaler.tick();
    expect(step.versions).toHaveLength(1);
    const [decision] = step.versions;
    expect(decision).toMatchObject({ version: arn('fn', '1'), ready: 3, action: 'scale-out', reason: 'PanicScaleUp' });
    // 6 in flight over 3 × 2 slots at a target of 0.5: 6 EEs.
    expect(decision!.desired).toBe(6);
    expect(h.started.reconcile).toEqual([{ version: { functionName: 'fn', version: '1' }, desiredEnvironments: 6, reason: 'scale out: PanicScaleUp' }]);
    const line = h.lines.find((entry) => entry.event === 'scaler.decision');
    expect(line).toMatchObject({ version: arn('fn', '1'), ready: 3, desired: 6, allowed: 6, action: 'scale-out', limits: { min: 3, from: 'defaults' } });
    expect(line!.inputs.observation).toEqual({ readyEnvironments: 3, inFlight: 6, capacity: 6, cpuPercent: 0, rejected: 0 });
  });

  it('does nothing at steady load, and skips a version whose fleet workflow runs', async () => {
    const h = harness();
    threeEes(h, 0);
    expect((await h.scaler.tick()).versions[0]!.action).toBe('none');
    expect(h.workflows.running).not.toHaveBeenCalled();

    const busy = harness({ running: true });
    threeEes(busy, 2);
    expect((await busy.scaler.tick()).versions[0]!.action).toBe('busy');
    expect(busy.started.reconcile).toEqual([]);
  });

  it('resumes from the Ready EEs after a restart, and scales in only after the scale-down delay, never below min', async () => {
    const h = harness();
    // A fresh scaler finds 8 Ready EEs, idle: it must not drop them at once.
    const eight = () => {
      for (let index = 0; index < 8; index++) h.reports.ingest(report(`i-${index}`, h.now, [{ inFlight: 0 }]));
    };
    eight();
    let step = await h.scaler.tick();
    expect(step.versions[0]).toMatchObject({ ready: 8, desired: 8, action: 'none' });
    for (let t = 0; t < 2; t++) {
      h.advance(2_000);
      eight();
      step = await h.scaler.tick();
      expect(step.versions[0]!.action).toBe('none');
      expect(step.versions[0]!.reason).toBe('ScaleDownDelayed');
    }
    h.advance(2_000);
    eight();
    step = await h.scaler.tick();
    expect(step.versions[0]).toMatchObject({ reason: 'ScaleDown', desired: 4, action: 'scale-in' });
    expect(h.started.scaleIn).toEqual([{ version: { functionName: 'fn', version: '1' }, desiredEnvironments: 4, reason: 'scale in: ScaleDown' }]);
    // Next step halves again but the min (3) holds.
    h.advance(2_000);
    for (let index = 0; index < 4; index++) h.reports.ingest(report(`i-${index}`, h.now, [{ inFlight: 0 }]));
    step = await h.scaler.tick();
    expect(step.versions[0]!.desired).toBe(3);
  });

  it('uses the scaling config limits and the provider CPU target', async () => {
    const h = harness({ version: () => version({ minEnvironments: 3, maxEnvironments: 4, limitsFrom: 'scaling-config' }), provider: providerSettings({ targetCpuPercent: 20 }) });
    threeEes(h, 0, { inFlight: 0, cpu: 60 });
    const step = await h.scaler.tick();
    // CPU 60 % × 3 EEs at a 20 % target wants 9, the max is 4.
    expect(step.versions[0]).toMatchObject({ desired: 4, reason: 'AtMaximum', action: 'scale-out' });
    expect(h.started.reconcile[0]!.desiredEnvironments).toBe(4);
  });

  it('caps the versions of a provider to its MaxVCpuCount', async () => {
    // A 4-vCPU instance holds 3 one-vCPU EEs: 4/3 vCPU each; 8 vCPUs allow 6 EEs.
    const h = harness({ provider: providerSettings({ maxVCpuCount: 8 }) });
    for (const id of ['i-a', 'i-b', 'i-c']) h.reports.ingest(report(id, h.now, [{ inFlight: 2 }]));
    h.reports.ingest(report('i-d', h.now, [{ inFlight: 2 }, { inFlight: 2 }]));
    const step = await h.scaler.tick();
    expect(step.versions[0]).toMatchObject({ ready: 5, allowed: 6, capReason: 'CapacityProviderScalingLimitExceeded' });
    expect(step.versions[0]!.desired).toBeGreaterThan(6);
    expect(h.started.reconcile[0]!.desiredEnvironments).toBe(6);
    // The step's outcome goes to the reports, which tell the api the version is limited.
    expect(h.considered).toEqual([{ capReason: 'CapacityProviderScalingLimitExceeded', allowed: 6, desired: step.versions[0]!.desired, limited: false }]);
  });

  it('leaves alone versions that are not Active, have no reports, or whose reports are stale', async () => {
    const h = harness({ version: (ref) => version({ state: ref.version === '2' ? 'Pending' : 'Active' }) });
    h.reports.ingest(report('i-a', h.now, [{ version: '2', inFlight: 2 }]));
    let step = await h.scaler.tick();
    expect(step.versions).toEqual([]);
    expect(step.skipped).toEqual([{ version: arn('fn', '2'), why: 'state Pending' }]);

    threeEes(h, 2);
    h.advance(2_001);
    step = await h.scaler.tick();
    expect(step.versions).toEqual([]);
    expect(h.started.reconcile).toEqual([]);
  });

  it('reads each version and provider through the cache once per TTL', async () => {
    let calls = 0;
    let clock = 0;
    const reads = cachedReads(async (key) => `${key}:${++calls}`, { ttlMs: 30_000, now: () => clock });
    expect(await Promise.all([reads.get('a'), reads.get('a')])).toEqual(['a:1', 'a:1']);
    clock += 29_999;
    expect(await reads.get('a')).toBe('a:1');
    clock += 1;
    expect(await reads.get('a')).toBe('a:2');
    // A failed refresh keeps the last value.
    const flaky = cachedReads(async () => {
      if (++calls > 3) throw new Error('api down');
      return 'ok';
    }, { ttlMs: 10, now: () => clock });
    expect(await flaky.get('x')).toBe('ok');
    clock += 20;
    expect(await flaky.get('x')).toBe('ok');
  });

  it('with staleWhileRevalidate answers an expired value at once and refreshes it behind', async () => {
    let calls = 0;
    let clock = 0;
    let release: () => void = () => {};
    const reads = cachedReads(
      async (key) => {
        calls += 1;
        if (calls > 1) await new Promise<void>((resolve) => (release = resolve));
        return `${key}:${calls}`;
      },
      { ttlMs: 1_000, now: () => clock, staleWhileRevalidate: true },
    );
    expect(await reads.get('a')).toBe('a:1');
    clock += 1_000;
    // Expired: the old value now, one refresh started (and joined, not repeated).
    expect(await reads.get('a')).toBe('a:1');
    expect(await reads.get('a')).toBe('a:1');
    expect(calls).toBe(2);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await reads.get('a')).toBe('a:2');
    // A forgotten key has no value to serve: it is read before it answers.
    reads.delete('a');
    const fresh = reads.get('a');
    release();
    expect(await fresh).toBe('a:3');
  });

  it('sums rejections over every report since the previous step and drops malformed or out-of-order reports', async () => {
    const h = harness();
    h.reports.ingest(report('i-a', h.now, [{ inFlight: 2, rejected: 3 }]));
    h.reports.ingest(report('i-a', h.now + 250, [{ inFlight: 2, rejected: 4 }]));
    expect(h.reports.ingest(report('i-a', h.now + 100, [{ inFlight: 2, rejected: 9 }]))).toBe('out of order');
    expect(h.reports.ingest({ nope: true })).toBe('no instanceId');
    const snapshot = h.reports.snapshot();
    expect(snapshot.rejected.get(arn('fn', '1'))).toBe(7);
    expect(snapshot.environments).toHaveLength(1);
    expect(h.reports.snapshot().rejected.size).toBe(0);
    expect(typeof parseLoadReport(null)).toBe('string');
  });

  it('sums admissions like rejections, only for versions whose every entry carried them', () => {
    const h = harness();
    h.reports.ingest(report('i-a', h.now, [{ inFlight: 2, admitted: 10 }, { name: 'old', inFlight: 1, admitted: 4 }]));
    h.reports.ingest(report('i-b', h.now + 250, [{ inFlight: 2, admitted: 5 }, { name: 'old', inFlight: 1 }]));
    const snapshot = h.reports.snapshot();
    expect([...snapshot.admitted]).toEqual([[arn('fn', '1'), 15]]);
    expect(h.reports.snapshot().admitted.size).toBe(0);
  });

  it('bounds the report table', () => {
    const table = new LoadReportTable({ maxInstances: 2, maxAgeMs: 2_000 });
    for (const id of ['i-1', 'i-2', 'i-3']) table.ingest(report(id, Date.now(), [{ inFlight: 0 }]));
    expect(table.size).toBe(2);
  });

  it('reads limits from a scaling config and its environment settings', () => {
    expect(limitsOf(undefined)).toBeUndefined();
    expect(limitsOf({ MinExecutionEnvironments: 5, MaxExecutionEnvironments: 10 })).toEqual({ minEnvironments: 5, maxEnvironments: 10 });
    expect(limitsOf({ MinExecutionEnvironments: 0, MaxExecutionEnvironments: 0 })).toEqual({ minEnvironments: 0, maxEnvironments: 0 });
    expect(limitsOf({ MinExecutionEnvironments: 0, MaxExecutionEnvironments: 5 })).toBeUndefined();
    const config = loadScalerConfig({ HEARTH_SCALER_INTERVAL_MS: '500', HEARTH_SCALER_SCALE_DOWN_DELAY_MS: '5000', HEARTH_SCALER_STABLE_WINDOW_MS: '6000' });
    expect(config).toMatchObject({ intervalMs: 500, reportMaxAgeMs: 2_000, configTtlMs: 30_000, autoscaler: { scaleDownDelayMs: 5_000, stableWindowMs: 6_000, firstStepIntervalMs: 500 } });
    expect(loadScalerConfig({}).autoscaler).toEqual({ firstStepIntervalMs: 2_000 });
  });
});
