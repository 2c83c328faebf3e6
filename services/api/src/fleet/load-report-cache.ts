/**
 * The latest load report of every instance, as the fleet status reads them.
 * Agents publish on the live subject `instance.<id>.load` every 250 ms
 * (services/agent/src/load-report.ts); the members read here are repeated
 * structurally because services are not libraries. The cache is bounded (the
 * least recently reporting instance is evicted first) and an instance whose
 * reports stop is forgotten after `maxAgeMs`.
 */

/** One EE of a report, as the fleet status shows it. */
export interface CachedEnvironment {
  readonly environmentId: string;
  readonly functionName: string;
  readonly version: string;
  /** `Starting`, `Ready` or `Stopping`. */
  readonly state: string;
  readonly inFlight: number;
  readonly maxConcurrency: number;
  readonly cpuPercent: number;
  readonly memoryMiB: number;
  /** Invocations refused since the agent's previous report. */
  readonly rejectedSinceLastReport: number;
}

/** One instance's latest report. */
export interface CachedReport {
  readonly instanceId: string;
  readonly zone: string;
  readonly capacityProviderArn: string;
  /** The agent's clock when it took the report, epoch ms. */
  readonly at: number;
  /** Local time the report arrived, epoch ms. */
  readonly receivedAt: number;
  /** Instance CPU (agent and EEs), percent of its vCPUs; undefined when the report had none. */
  readonly cpuPercent: number | undefined;
  readonly memoryUsedMiB: number | undefined;
  readonly environments: readonly CachedEnvironment[];
  /** Refusals per EE over the recent window (`throttleWindowMs`), summed over every report in it. */
  readonly recentRejections: ReadonlyMap<string, number>;
}

/** Options of LoadReportCache. */
export interface LoadReportCacheOptions {
  /** Most instances kept. Default 10000. */
  maxInstances?: number;
  /** An instance with no report for this long is dropped, ms. Default 5000 (20 report intervals). */
  maxAgeMs?: number;
  /** Window over which refusals are summed for `recentRejections`, ms. Default 10000. */
  throttleWindowMs?: number;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
}

const isString = (value: unknown): value is string => typeof value === 'string' && value !== '';
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const countOr0 = (value: unknown): number => (isCount(value) ? value : 0);

/** Most refusal samples kept per instance: the window is summed from them, so memory stays bounded at any report rate. */
const maxRejectionSamples = 256;

interface Entry {
  report: Omit<CachedReport, 'recentRejections'>;
  /** Non-zero refusal counts with their arrival time, oldest first. */
  rejections: Array<{ at: number; environmentId: string; count: number }>;
}

/**
 * Parses one raw report (the members the fleet view reads); returns it or a
 * sentence saying why it was dropped. EEs with missing members are skipped,
 * not the whole report.
 */
export function parseLoadReport(data: unknown, receivedAt: number): Omit<CachedReport, 'recentRejections'> | string {
  if (typeof data !== 'object' || data === null) return 'not an object';
  const report = data as Record<string, unknown>;
  if (!isString(report.instanceId)) return 'no instanceId';
  if (!isCount(report.at)) return 'no at';
  if (!Array.isArray(report.environments)) return 'no environments';
  const environments: CachedEnvironment[] = [];
  for (const raw of report.environments as unknown[]) {
    if (typeof raw !== 'object' || raw === null) continue;
    const environment = raw as Record<string, unknown>;
    if (!isString(environment.environmentId) || !isString(environment.functionName) || !isString(environment.version) || !isString(environment.state)) {
      continue;
    }
    environments.push({
      environmentId: environment.environmentId,
      functionName: environment.functionName,
      version: environment.version,
      state: environment.state,
      inFlight: countOr0(environment.inFlight),
      maxConcurrency: countOr0(environment.maxConcurrency),
      cpuPercent: countOr0(environment.cpuPercent),
      memoryMiB: countOr0(environment.memoryMiB),
      rejectedSinceLastReport: countOr0(environment.rejectedSinceLastReport),
    });
  }
  const cpu = report.cpu as Record<string, unknown> | undefined;
  const memory = report.memory as Record<string, unknown> | undefined;
  return {
    instanceId: report.instanceId,
    zone: typeof report.zone === 'string' ? report.zone : '',
    capacityProviderArn: typeof report.capacityProviderArn === 'string' ? report.capacityProviderArn : '',
    at: report.at,
    receivedAt,
    cpuPercent: isCount(cpu?.usedPercent) ? cpu.usedPercent : undefined,
    memoryUsedMiB: isCount(memory?.usedMiB) ? memory.usedMiB : undefined,
    environments,
  };
}

/** The latest load report per instance; bounded, with expiry. One event loop, no locking. */
export class LoadReportCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxInstances: number;
  private readonly maxAgeMs: number;
  private readonly throttleWindowMs: number;
  private readonly now: () => number;
  /** Reports dropped because they were malformed. */
  malformed = 0;
  /** Reports dropped because an instance's later report had already arrived. */
  outOfOrder = 0;

  constructor(options: LoadReportCacheOptions = {}) {
    this.maxInstances = options.maxInstances ?? 10_000;
    this.maxAgeMs = options.maxAgeMs ?? 5_000;
    this.throttleWindowMs = options.throttleWindowMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Instances held (expired ones included until the next sweep). */
  get size(): number {
    return this.entries.size;
  }

  /** Takes one raw report; returns why it was dropped, or undefined. */
  ingest(data: unknown): string | undefined {
    const now = this.now();
    const parsed = parseLoadReport(data, now);
    if (typeof parsed === 'string') {
      this.malformed += 1;
      return parsed;
    }
    const previous = this.entries.get(parsed.instanceId);
    if (previous !== undefined && previous.report.at > parsed.at) {
      this.outOfOrder += 1;
      return 'out of order';
    }
    const rejections = previous?.rejections ?? [];
    for (const environment of parsed.environments) {
      if (environment.rejectedSinceLastReport > 0) rejections.push({ at: now, environmentId: environment.environmentId, count: environment.rejectedSinceLastReport });
    }
    this.pruneRejections(rejections, now);
    // Re-inserted so the map's order is least recently reported first: the bound evicts the stalest.
    this.entries.delete(parsed.instanceId);
    this.entries.set(parsed.instanceId, { report: parsed, rejections });
    while (this.entries.size > this.maxInstances) this.entries.delete(this.entries.keys().next().value as string);
    return undefined;
  }

  /** The latest report of an instance, unless it expired. */
  get(instanceId: string): CachedReport | undefined {
    const now = this.now();
    const entry = this.entries.get(instanceId);
    if (entry === undefined) return undefined;
    if (now - entry.report.receivedAt > this.maxAgeMs) {
      this.entries.delete(instanceId);
      return undefined;
    }
    return this.view(entry, now);
  }

  /** Every report that has not expired; expired ones are forgotten. */
  list(): CachedReport[] {
    const now = this.now();
    const reports: CachedReport[] = [];
    for (const [instanceId, entry] of this.entries) {
      if (now - entry.report.receivedAt > this.maxAgeMs) this.entries.delete(instanceId);
      else reports.push(this.view(entry, now));
    }
    return reports;
  }

  private view(entry: Entry, now: number): CachedReport {
    this.pruneRejections(entry.rejections, now);
    const recentRejections = new Map<string, number>();
    for (const { environmentId, count } of entry.rejections) recentRejections.set(environmentId, (recentRejections.get(environmentId) ?? 0) + count);
    return { ...entry.report, recentRejections };
  }

  private pruneRejections(rejections: Entry['rejections'], now: number): void {
    let drop = 0;
    while (drop < rejections.length && now - rejections[drop]!.at > this.throttleWindowMs) drop += 1;
    drop = Math.max(drop, rejections.length - maxRejectionSamples);
    if (drop > 0) rejections.splice(0, drop);
  }
}
