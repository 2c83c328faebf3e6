/**
 * Keeps the CPU and memory use of every EE and of the whole instance current,
 * for admission (goodput protection), load reports and metrics. A timer samples
 * every interval (default 250 ms); CPU is averaged over a sliding window
 * (default 1 s) so one busy sample does not throttle, and a sustained one does.
 */
import type { ResourceUsage } from './admission.js';
import type { GroupSample, ProcessSampler } from './proc-sampler.js';

/** An EE as the monitor sees it. */
export interface MonitoredEnvironment {
  /** The EE's process group while it has one running (Starting or Ready), else undefined. */
  readonly processGroup: number | undefined;
  /** The EE's vCPU share. */
  readonly vcpus: number;
  /** The EE's MemorySize, MiB. */
  readonly memorySizeMb: number;
  /** Written by the monitor at each sample. */
  readonly usage: ResourceUsage;
}

/** The instance as the monitor sees it. */
export interface MonitoredInstance {
  /** vCPUs of the instance (`HEARTH_INSTANCE_VCPUS`). */
  readonly vcpus: number;
  /** Memory of the instance, MiB (`HEARTH_INSTANCE_MEMORY_MIB`). */
  readonly memoryMib: number;
  /** Written by the monitor: the agent and all its EEs. */
  readonly usage: ResourceUsage;
}

/** CPU (cumulative, ms) and resident memory (bytes) of the agent process itself. */
export type SelfSampler = () => { cpuMs: number; rssBytes: number };

/** Options of ResourceMonitor. */
export interface ResourceMonitorOptions {
  sampler: ProcessSampler;
  environments(): Iterable<MonitoredEnvironment>;
  instance: MonitoredInstance;
  /** The agent's own use. Default process.cpuUsage() and process.memoryUsage.rss(). */
  self?: SelfSampler;
  /** Sampling interval, ms (`HEARTH_LOAD_SAMPLE_INTERVAL_MS`). Default 250. */
  intervalMs?: number;
  /** Window CPU is averaged over, ms (`HEARTH_CPU_WINDOW_MS`). Default 1000. */
  windowMs?: number;
  /** Clock, ms. Default performance.now. */
  now?: () => number;
}

/**
 * CPU time over a sliding window of samples. The window counts as full from the
 * start (missing history is idle), so a value at the threshold means the
 * threshold was held for the whole window: "sustained", not a spike.
 */
export class UtilizationWindow {
  private readonly cpu: Float64Array;
  private readonly wall: Float64Array;
  private next = 0;
  private cpuSum = 0;
  private wallSum = 0;

  constructor(
    slots: number,
    private readonly windowMs: number,
  ) {
    this.cpu = new Float64Array(Math.max(1, slots));
    this.wall = new Float64Array(Math.max(1, slots));
  }

  /** Adds one interval: `cpuMs` of CPU used over `wallMs` of time. */
  push(cpuMs: number, wallMs: number): void {
    const slot = this.next;
    this.cpuSum += cpuMs - (this.cpu[slot] ?? 0);
    this.wallSum += wallMs - (this.wall[slot] ?? 0);
    this.cpu[slot] = cpuMs;
    this.wall[slot] = wallMs;
    this.next = (slot + 1) % this.cpu.length;
  }

  /** CPU over the window, percent of `vcpus` cores. */
  percentOf(vcpus: number): number {
    const wall = Math.max(this.wallSum, this.windowMs);
    if (!(vcpus > 0) || wall <= 0) return 0;
    return Math.max(0, (100 * this.cpuSum) / (wall * vcpus));
  }
}

const mib = 1024 * 1024;

function defaultSelf(): { cpuMs: number; rssBytes: number } {
  const cpu = process.cpuUsage();
  return { cpuMs: (cpu.user + cpu.system) / 1000, rssBytes: process.memoryUsage.rss() };
}

/**
 * Samples the EEs' process groups and the agent itself every interval and
 * writes each EE's `usage` (CPU % of its vCPU share over the window, RSS and
 * RSS % of its MemorySize) and the instance's (agent + EEs against the
 * instance's vCPUs and memory). Never throws into the agent: a failed sample is
 * skipped.
 */
export class ResourceMonitor {
  /** CPU of the EEs alone over the window, percent of the instance's vCPUs. */
  environmentsCpuPercent = 0;
  /** Samples taken, and the time they took (ms), for the agent's own overhead. */
  samples = 0;
  sampleMs = 0;

  private readonly options: ResourceMonitorOptions;
  private readonly intervalMs: number;
  private readonly windowMs: number;
  private readonly slots: number;
  private readonly now: () => number;
  private readonly self: SelfSampler;
  private readonly windows = new Map<MonitoredEnvironment, UtilizationWindow>();
  private readonly instanceWindow: UtilizationWindow;
  private readonly environmentsWindow: UtilizationWindow;
  private lastAt: number;
  private lastSelfCpuMs: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly wanted = new Set<number>();

  constructor(options: ResourceMonitorOptions) {
    this.options = options;
    this.intervalMs = options.intervalMs ?? 250;
    this.windowMs = options.windowMs ?? 1_000;
    this.slots = Math.max(1, Math.round(this.windowMs / this.intervalMs));
    this.now = options.now ?? (() => performance.now());
    this.self = options.self ?? defaultSelf;
    this.instanceWindow = new UtilizationWindow(this.slots, this.windowMs);
    this.environmentsWindow = new UtilizationWindow(this.slots, this.windowMs);
    this.lastAt = this.now();
    this.lastSelfCpuMs = this.self().cpuMs;
  }

  /** Takes a first sample (so memory figures are there from the start) and samples every interval after. Idempotent. */
  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops sampling and releases the sampler. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.options.sampler.close?.();
  }

  /** Takes one sample now and updates every usage. */
  tick(): void {
    const started = this.now();
    const wallMs = started - this.lastAt;
    if (wallMs <= 0) return;
    this.lastAt = started;
    const { instance } = this.options;

    this.wanted.clear();
    const current: MonitoredEnvironment[] = [];
    for (const environment of this.options.environments()) {
      current.push(environment);
      if (environment.processGroup !== undefined) this.wanted.add(environment.processGroup);
    }
    let samples: Map<number, GroupSample>;
    try {
      samples = this.options.sampler.sample(this.wanted);
    } catch {
      samples = new Map();
    }

    let environmentsCpuMs = 0;
    let environmentsRss = 0;
    const seen = new Set<MonitoredEnvironment>();
    for (const environment of current) {
      seen.add(environment);
      let window = this.windows.get(environment);
      if (!window) {
        window = new UtilizationWindow(this.slots, this.windowMs);
        this.windows.set(environment, window);
      }
      const sample = environment.processGroup === undefined ? undefined : samples.get(environment.processGroup);
      const cpuMs = sample?.cpuMs ?? 0;
      const rssBytes = sample?.rssBytes ?? 0;
      window.push(cpuMs, wallMs);
      environmentsCpuMs += cpuMs;
      environmentsRss += rssBytes;
      const usage = environment.usage;
      usage.cpuPercent = window.percentOf(environment.vcpus);
      usage.memoryMiB = rssBytes / mib;
      usage.memoryPercent = environment.memorySizeMb > 0 ? (100 * usage.memoryMiB) / environment.memorySizeMb : 0;
    }
    for (const environment of this.windows.keys()) if (!seen.has(environment)) this.windows.delete(environment);

    const self = this.self();
    const selfCpuMs = Math.max(0, self.cpuMs - this.lastSelfCpuMs);
    this.lastSelfCpuMs = self.cpuMs;
    this.environmentsWindow.push(environmentsCpuMs, wallMs);
    this.instanceWindow.push(environmentsCpuMs + selfCpuMs, wallMs);
    this.environmentsCpuPercent = this.environmentsWindow.percentOf(instance.vcpus);
    instance.usage.cpuPercent = this.instanceWindow.percentOf(instance.vcpus);
    instance.usage.memoryMiB = (environmentsRss + self.rssBytes) / mib;
    instance.usage.memoryPercent = instance.memoryMib > 0 ? (100 * instance.usage.memoryMiB) / instance.memoryMib : 0;
    this.samples += 1;
    this.sampleMs += this.now() - started;
  }
}
