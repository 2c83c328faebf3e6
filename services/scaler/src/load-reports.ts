/**
 * The latest load report of every instance, as the scaler reads them. Agents
 * publish on `instance.<id>.load` every 250 ms (services/agent/src/load-report.ts);
 * the shape is repeated structurally here because services are not libraries.
 * Gauges (in-flight, CPU, state) come from each instance's latest report;
 * rejections are summed over every report received since the previous step,
 * since a step spans several reports.
 */
import type { EnvironmentLoad } from './decisions/index.js';

/** One EE in a load report: the members the scaler reads. */
export interface ReportedEnvironment extends EnvironmentLoad {
  readonly environmentId: string;
  readonly functionName: string;
  /** A version number or `$LATEST.PUBLISHED`. */
  readonly version: string;
}

/** What an agent publishes on `instance.<instanceId>.load`. */
export interface LoadReport {
  readonly instanceId: string;
  readonly capacityProviderArn?: string;
  /** Epoch ms when the agent took it. */
  readonly at: number;
  readonly environments: readonly ReportedEnvironment[];
}

/** The live subject matching every instance's load reports. */
export const allLoadSubjects = 'instance.*.load';

const isString = (value: unknown): value is string => typeof value === 'string' && value !== '';
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** Checks a report; returns it typed (entries the scaler cannot read dropped) or a sentence saying what is wrong. */
export function parseLoadReport(data: unknown): LoadReport | string {
  if (typeof data !== 'object' || data === null) return 'not an object';
  const report = data as Partial<LoadReport>;
  if (!isString(report.instanceId)) return 'no instanceId';
  if (!isCount(report.at)) return 'no at';
  if (!Array.isArray(report.environments)) return 'no environments';
  const environments = (report.environments as Partial<ReportedEnvironment>[]).filter(
    (environment): environment is ReportedEnvironment =>
      typeof environment === 'object' &&
      environment !== null &&
      isString(environment.environmentId) &&
      isString(environment.functionArn) &&
      isString(environment.functionName) &&
      isString(environment.version) &&
      isString(environment.state) &&
      isCount(environment.inFlight) &&
      isCount(environment.maxConcurrency),
  ).map((environment) => ({
    ...environment,
    cpuPercent: isCount(environment.cpuPercent) ? environment.cpuPercent : 0,
    rejectedSinceLastReport: isCount(environment.rejectedSinceLastReport) ? environment.rejectedSinceLastReport : 0,
    ...(isCount(environment.admittedSinceLastReport) ? { admittedSinceLastReport: environment.admittedSinceLastReport } : {}),
  }));
  return { instanceId: report.instanceId, ...(isString(report.capacityProviderArn) ? { capacityProviderArn: report.capacityProviderArn } : {}), at: report.at, environments };
}

/** What one step reads of the table. */
export interface LoadSnapshot {
  /** EE entries of every fresh report, with the report's provider. */
  readonly environments: ReadonlyArray<ReportedEnvironment & { readonly capacityProviderArn: string | undefined }>;
  /** Rejections per version (functionArn) summed over every report since the previous snapshot. */
  readonly rejected: ReadonlyMap<string, number>;
  /**
   * Admissions per version summed the same way, for the versions whose every
   * entry since the previous snapshot carried them (agents older than the
   * count leave a version out: its demand is estimated instead).
   */
  readonly admitted: ReadonlyMap<string, number>;
}

/** The latest report per instance, bounded; not thread-safe (one event loop). */
export class LoadReportTable {
  private readonly latest = new Map<string, { report: LoadReport; receivedAt: number }>();
  private rejected = new Map<string, number>();
  /** Admissions per version since the previous snapshot; NaN once an entry lacked the count. */
  private admitted = new Map<string, number>();
  /** Reports dropped because they were malformed. */
  malformed = 0;

  constructor(private readonly options: { maxInstances: number; maxAgeMs: number; now?: () => number }) {}

  /** Size of the table. */
  get size(): number {
    return this.latest.size;
  }

  /** Takes one report (raw JSON); returns the reason when it was dropped. */
  ingest(data: unknown): string | undefined {
    const parsed = parseLoadReport(data);
    if (typeof parsed === 'string') {
      this.malformed += 1;
      return parsed;
    }
    const now = (this.options.now ?? Date.now)();
    const previous = this.latest.get(parsed.instanceId);
    if (previous !== undefined && previous.report.at > parsed.at) return 'out of order';
    for (const environment of parsed.environments) {
      if (environment.rejectedSinceLastReport > 0) {
        this.rejected.set(environment.functionArn, (this.rejected.get(environment.functionArn) ?? 0) + environment.rejectedSinceLastReport);
      }
      this.admitted.set(environment.functionArn, (this.admitted.get(environment.functionArn) ?? 0) + (environment.admittedSinceLastReport ?? Number.NaN));
    }
    // Re-inserted so the map's order is least recently reported first: the bound evicts the stalest.
    this.latest.delete(parsed.instanceId);
    this.latest.set(parsed.instanceId, { report: parsed, receivedAt: now });
    while (this.latest.size > this.options.maxInstances) {
      const oldest = this.latest.keys().next().value as string;
      this.latest.delete(oldest);
    }
    return undefined;
  }

  /**
   * The entries of every report received within `maxAgeMs` (older ones are
   * forgotten), and the rejections since the previous snapshot (reset).
   */
  snapshot(): LoadSnapshot {
    const now = (this.options.now ?? Date.now)();
    const environments: Array<ReportedEnvironment & { capacityProviderArn: string | undefined }> = [];
    for (const [instanceId, { report, receivedAt }] of this.latest) {
      if (now - receivedAt > this.options.maxAgeMs) {
        this.latest.delete(instanceId);
        continue;
      }
      for (const environment of report.environments) environments.push({ ...environment, capacityProviderArn: report.capacityProviderArn });
    }
    const rejected = this.rejected;
    this.rejected = new Map();
    const admitted = new Map([...this.admitted].filter(([, count]) => !Number.isNaN(count)));
    this.admitted = new Map();
    return { environments, rejected, admitted };
  }
}
