/**
 * Goodput protection, decided from fed samples: the admission policy's rules,
 * the CPU window that makes "sustained" mean sustained, the resource monitor
 * turning group samples into EE and instance usage, and the /proc sampler over
 * a fake procfs.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyUsage, goodputAdmission, type EnvironmentLoad, type ResourceUsage } from '../src/admission.js';
import { InvocationBroker, type Invocation, type InvocationSink } from '../src/invocation-broker.js';
import { createProcfsSampler, parseStat, type GroupSample, type ProcessSampler } from '../src/proc-sampler.js';
import { ResourceMonitor, UtilizationWindow, type MonitoredEnvironment } from '../src/resource-monitor.js';

function load(overrides: Partial<EnvironmentLoad> & { usage?: ResourceUsage; instance?: ResourceUsage } = {}): EnvironmentLoad {
  return { environmentId: 'ee-1', maxConcurrency: 4, occupied: 1, waitingPollers: 0, usage: emptyUsage(), instance: emptyUsage(), ...overrides };
}

const usage = (cpuPercent: number, memoryPercent = 0): ResourceUsage => ({ cpuPercent, memoryPercent, memoryMiB: memoryPercent * 20 });

describe('goodputAdmission', () => {
  const policy = goodputAdmission();

  it('admits below every threshold', () => {
    expect(policy.decide(load({ usage: usage(50, 50), instance: usage(50, 50) }))).toEqual({ admit: true });
  });

  it('refuses at max concurrency first, whatever the pressure', () => {
    expect(policy.decide(load({ occupied: 4, usage: usage(100, 99) }))).toMatchObject({ admit: false, reason: 'ConcurrencyLimit' });
  });

  it('refuses on memory pressure of the EE or the instance, even when idle', () => {
    expect(policy.decide(load({ occupied: 0, usage: usage(0, 90) }))).toMatchObject({
      admit: false,
      reason: 'MemoryPressure',
      message: expect.stringContaining('uses 90% of its memory (limit 90%)'),
    });
    expect(policy.decide(load({ occupied: 0, instance: usage(0, 95) }))).toMatchObject({ reason: 'MemoryPressure', message: expect.stringContaining('instance') });
    expect(policy.decide(load({ usage: usage(0, 89.9) }))).toEqual({ admit: true });
  });

  it('refuses on CPU pressure only while the EE has work in flight', () => {
    expect(policy.decide(load({ occupied: 2, usage: usage(96) }))).toMatchObject({
      admit: false,
      reason: 'CPUPressure',
      message: expect.stringContaining('96% of its vCPU share with 2 in flight (limit 95%)'),
    });
    expect(policy.decide(load({ occupied: 0, usage: usage(300) }))).toEqual({ admit: true });
    expect(policy.decide(load({ occupied: 1, instance: usage(95) }))).toMatchObject({ reason: 'CPUPressure', message: expect.stringContaining('instance') });
    expect(policy.decide(load({ occupied: 1, usage: usage(94.9), instance: usage(94.9) }))).toEqual({ admit: true });
  });

  it('takes its thresholds from options', () => {
    const strict = goodputAdmission({ cpuRejectPercent: 50, memoryRejectPercent: 60 });
    expect(strict.decide(load({ usage: usage(55) }))).toMatchObject({ reason: 'CPUPressure' });
    expect(strict.decide(load({ usage: usage(0, 61) }))).toMatchObject({ reason: 'MemoryPressure' });
  });
});

describe('UtilizationWindow', () => {
  it('averages CPU over the whole window, counting missing history as idle', () => {
    const window = new UtilizationWindow(4, 1_000);
    window.push(250, 250);
    // One busy interval out of a 1 s window is 25%, not 100%: a spike is not sustained.
    expect(window.percentOf(1)).toBeCloseTo(25);
    for (let i = 0; i < 3; i += 1) window.push(250, 250);
    expect(window.percentOf(1)).toBeCloseTo(100);
    expect(window.percentOf(2)).toBeCloseTo(50);
    // Old samples leave the window.
    for (let i = 0; i < 4; i += 1) window.push(0, 250);
    expect(window.percentOf(1)).toBeCloseTo(0);
  });
});

/** A sampler fed by the test: each sample() returns what was queued for each group. */
class FedSampler implements ProcessSampler {
  next = new Map<number, GroupSample>();
  asked: number[][] = [];
  sample(pgids: ReadonlySet<number>): Map<number, GroupSample> {
    this.asked.push([...pgids]);
    const result = new Map([...this.next].filter(([pgid]) => pgids.has(pgid)));
    return result;
  }
}

function environment(processGroup: number | undefined, vcpus = 1, memorySizeMb = 2048): MonitoredEnvironment {
  return { processGroup, vcpus, memorySizeMb, usage: emptyUsage() };
}

describe('ResourceMonitor', () => {
  it('turns group samples into EE and instance usage over the window', () => {
    const sampler = new FedSampler();
    let clock = 0;
    let selfCpu = 0;
    const busy = environment(100, 1, 2048);
    const idle = environment(200, 2, 4096);
    const stopped = environment(undefined);
    const instance = { vcpus: 4, memoryMib: 8192, usage: emptyUsage() };
    const monitor = new ResourceMonitor({
      sampler,
      environments: () => [busy, idle, stopped],
      instance,
      self: () => ({ cpuMs: selfCpu, rssBytes: 100 * 1024 * 1024 }),
      intervalMs: 250,
      windowMs: 1_000,
      now: () => clock,
    });
    for (let i = 0; i < 4; i += 1) {
      clock += 250;
      selfCpu += 25;
      sampler.next = new Map([
        [100, { cpuMs: 250, rssBytes: 1024 * 1024 * 1024, members: 1 }],
        [200, { cpuMs: 50, rssBytes: 512 * 1024 * 1024, members: 3 }],
      ]);
      monitor.tick();
    }
    expect(sampler.asked.at(-1)?.sort()).toEqual([100, 200]);
    expect(busy.usage.cpuPercent).toBeCloseTo(100);
    expect(busy.usage.memoryMiB).toBeCloseTo(1024);
    expect(busy.usage.memoryPercent).toBeCloseTo(50);
    expect(idle.usage.cpuPercent).toBeCloseTo(10);
    expect(idle.usage.memoryPercent).toBeCloseTo(12.5);
    expect(stopped.usage).toEqual({ cpuPercent: 0, memoryMiB: 0, memoryPercent: 0 });
    // (250 + 50) ms of EE CPU per 250 ms over 4 vCPUs = 30%; with the agent's 25 ms, 32.5%.
    expect(monitor.environmentsCpuPercent).toBeCloseTo(30);
    expect(instance.usage.cpuPercent).toBeCloseTo(32.5);
    expect(instance.usage.memoryMiB).toBeCloseTo(1024 + 512 + 100);
    expect(instance.usage.memoryPercent).toBeCloseTo((100 * 1636) / 8192);
  });

  it('drives admission: a busy EE with work in flight refuses with CPUPressure, the same EE idle admits, and it cools down', () => {
    const sampler = new FedSampler();
    let clock = 0;
    const ee = environment(100, 1);
    const instance = { vcpus: 2, memoryMib: 4096, usage: emptyUsage() };
    const monitor = new ResourceMonitor({ sampler, environments: () => [ee], instance, self: () => ({ cpuMs: 0, rssBytes: 0 }), now: () => clock });
    const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 8, admission: goodputAdmission(), usage: ee.usage, instanceUsage: instance.usage });
    const tick = (cpuMs: number) => {
      clock += 250;
      sampler.next = new Map([[100, { cpuMs, rssBytes: 0, members: 1 }]]);
      monitor.tick();
    };
    const sink: InvocationSink = { complete() {}, refuse() {} };
    const inv = (requestId: string): Invocation => ({ requestId, payload: Buffer.alloc(0), deadlineMs: Date.now() + 60_000, timeoutMs: 60_000, traceHeader: '' });

    // A burst shorter than the window does not throttle.
    tick(250);
    expect(broker.admit(inv('running'), sink)).toEqual({ admit: true });
    expect(broker.admit(inv('second'), sink)).toEqual({ admit: true });
    // Sustained for the whole window, with work in flight: refuse.
    tick(250);
    tick(250);
    tick(250);
    expect(ee.usage.cpuPercent).toBeCloseTo(100);
    expect(broker.admit(inv('third'), sink)).toMatchObject({ admit: false, reason: 'CPUPressure' });
    expect(broker.stats.rejected).toEqual({ CPUPressure: 1 });
    // The work in flight is not touched; once it is done, an idle EE admits even while still hot.
    broker.cancel('running');
    broker.cancel('second');
    expect(broker.occupied).toBe(0);
    expect(broker.admit(inv('after'), sink)).toEqual({ admit: true });
    // As the window cools below the threshold, a second one in flight is admitted again.
    tick(0);
    expect(broker.admit(inv('cooled'), sink)).toEqual({ admit: true });
    monitor.stop();
  });
});

describe('the /proc sampler', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** `/proc/<pid>/stat` with the given pgrp, utime + stime ticks and rss pages; the command holds spaces and parentheses. */
  const stat = (pid: number, pgrp: number, utime: number, stime: number, rssPages: number, state = 'S'): string => {
    const fields = [state, '1', String(pgrp), String(pgrp), '0', '-1', '4194560', '0', '0', '0', '0', String(utime), String(stime)];
    while (fields.length < 21) fields.push('0');
    fields.push(String(rssPages), '18446744073709551615');
    return `${pid} (node (worker) 1) ${fields.join(' ')}\n`;
  };

  it('parses /proc/<pid>/stat past a command name with spaces and parentheses', () => {
    expect(parseStat(stat(42, 40, 120, 30, 2560))).toEqual({ pgrp: 40, ticks: 150, rssPages: 2560, exited: false });
    expect(parseStat(stat(42, 40, 120, 30, 2560, 'Z'))).toEqual({ pgrp: 40, ticks: 150, rssPages: 0, exited: true });
    expect(parseStat('garbage')).toBeUndefined();
  });

  it('sums CPU deltas and RSS over a group, finds forked members, and forgets exited ones', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-fake-proc-'));
    const put = async (pid: number, text: string) => {
      await mkdir(join(dir!, String(pid)), { recursive: true });
      await writeFile(join(dir!, String(pid), 'stat'), text);
    };
    // /proc/self/stat for the page size detection.
    await put(1, stat(1, 1, 0, 0, 100));
    await mkdir(join(dir, 'self'), { recursive: true });
    await writeFile(join(dir, 'self', 'stat'), stat(1, 1, 0, 0, 0));
    await put(500, stat(500, 500, 10, 5, 1000));
    await put(777, stat(777, 777, 99, 99, 99));
    let clock = 0;
    const sampler = createProcfsSampler({ procDir: dir, rescanIntervalMs: 1_000, now: () => clock });
    const first = sampler.sample(new Set([500]));
    // The first sample counts everything since the group started: 15 ticks = 150 ms.
    expect(first.get(500)).toEqual({ cpuMs: 150, rssBytes: 1000 * 4096, members: 1 });

    // A worker forks into the group; the leader works 10 more ticks.
    await put(501, stat(501, 500, 20, 0, 500));
    await put(500, stat(500, 500, 20, 5, 1000));
    clock += 250;
    // Between rescans only known members are read.
    expect(sampler.sample(new Set([500])).get(500)).toEqual({ cpuMs: 100, rssBytes: 1000 * 4096, members: 1 });
    clock += 1_000;
    expect(sampler.sample(new Set([500])).get(500)).toEqual({ cpuMs: 200, rssBytes: 1500 * 4096, members: 2 });

    // The worker exits after 5 more ticks: they count, then it is forgotten.
    await put(501, stat(501, 500, 25, 0, 500, 'Z'));
    await put(500, stat(500, 500, 21, 5, 1000));
    clock += 250;
    expect(sampler.sample(new Set([500])).get(500)).toEqual({ cpuMs: 60, rssBytes: 1000 * 4096, members: 1 });
    await rm(join(dir, '501'), { recursive: true });
    clock += 250;
    expect(sampler.sample(new Set([500])).get(500)).toEqual({ cpuMs: 0, rssBytes: 1000 * 4096, members: 1 });
    // A group no longer asked for is dropped.
    expect(sampler.sample(new Set()).size).toBe(0);
  });
});
