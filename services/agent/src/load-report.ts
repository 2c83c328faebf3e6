/**
 * Load reports: what the router builds its routing table from and the scaler
 * its decisions. Several times a second (default every 250 ms) the agent
 * publishes, on the live subject `instance.<instanceId>.load`, the complete set
 * of its live EEs with their exact in-flight counts, limits, CPU and memory; an
 * EE absent from a report is gone, and an EE whose reports stop is to be aged
 * out by the reader. A report also goes out at once when an EE becomes Ready or
 * leaves Ready (stopping, failed, stopped), so the router neither waits to use
 * a new EE nor keeps sending to a dead one.
 */
import type { Logger } from '@hearth/telemetry';
import type { EnvironmentLoadReport, LoadReport } from '@hearth/fleet/agent-wire';
import { loadReportSubject } from '@hearth/fleet/agent-wire';
import type { HeartbeatPublisher } from './heartbeat.js';

export type { EnvironmentLoadReport, LoadReport } from '@hearth/fleet/agent-wire';
export { loadReportSubject } from '@hearth/fleet/agent-wire';

/** What a report reads of one EE. */
export interface ReportedEnvironment {
  readonly id: string;
  /** The state as reported (`Starting`, `Ready`, `Stopping`); undefined leaves the EE out (failed, stopped). */
  readonly reportedState: string | undefined;
  readonly functionName: string;
  readonly version: string;
  readonly functionArn: string;
  readonly revisionId: string | undefined;
  readonly inFlight: number;
  readonly maxConcurrency: number;
  readonly cpuPercent: number;
  readonly memoryMiB: number;
  /** Refusals since the EE began, all reasons. */
  readonly rejectedTotal: number;
  /** Admissions since the EE began. */
  readonly admittedTotal: number;
}

/** What a report reads of the instance. */
export interface ReportedInstance {
  readonly instanceId: string;
  readonly zone: string;
  readonly capacityProviderArn: string;
  readonly memoryMib: number;
  /** CPU of the agent and EEs over the window, percent of the instance's vCPUs. */
  cpuPercent(): number;
  /** CPU of the EEs alone over the window, percent of the instance's vCPUs. */
  environmentsCpuPercent(): number;
  /** Resident memory of the agent and EEs, MiB. */
  memoryMiB(): number;
}

/** Options of startLoadReports. */
export interface LoadReportOptions {
  bus: HeartbeatPublisher;
  instance: ReportedInstance;
  /** host:port of this agent's gRPC server. */
  agentAddress: string;
  /** Interval, ms (`HEARTH_LOAD_REPORT_INTERVAL_MS`). Default 250. */
  intervalMs?: number;
  environments(): Iterable<ReportedEnvironment>;
  logger: Logger;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
}

/** Running load reports. */
export interface LoadReports {
  /** Publishes a report now (coalesced within one turn of the event loop), e.g. when an EE became or stopped being Ready. */
  now(): void;
  /** Stops the loop after one last report with no EEs, so readers drop the instance at once. Idempotent. */
  stop(): void;
}

const round1 = (value: number): number => Math.round(value * 10) / 10;
const clampPercent = (value: number): number => Math.min(100, Math.max(0, round1(value)));

/**
 * Publishes the instance's load report every interval, at once on Ready
 * transitions, and an empty one when stopped. A publish that fails (NATS down)
 * is skipped and logged sparsely: the next report supersedes it.
 */
export function startLoadReports(options: LoadReportOptions): LoadReports {
  const subject = loadReportSubject(options.instance.instanceId);
  const clock = options.now ?? Date.now;
  /** Per EE id, its rejectedTotal and admittedTotal at the previous published report. */
  const reportedRejections = new Map<string, number>();
  const reportedAdmissions = new Map<string, number>();
  let stopped = false;
  let immediate: NodeJS.Immediate | undefined;
  let failures = 0;

  const build = (includeEnvironments: boolean): LoadReport => {
    const { instance } = options;
    const environments: EnvironmentLoadReport[] = [];
    const seen = new Set<string>();
    if (includeEnvironments) {
      for (const environment of options.environments()) {
        const state = environment.reportedState;
        if (state === undefined) continue;
        const total = environment.rejectedTotal;
        const rejected = total - (reportedRejections.get(environment.id) ?? 0);
        const admittedTotal = environment.admittedTotal;
        const admitted = admittedTotal - (reportedAdmissions.get(environment.id) ?? 0);
        seen.add(environment.id);
        reportedRejections.set(environment.id, total);
        reportedAdmissions.set(environment.id, admittedTotal);
        const entry: EnvironmentLoadReport = {
          environmentId: environment.id,
          functionName: environment.functionName,
          version: environment.version,
          functionArn: environment.functionArn,
          state,
          inFlight: environment.inFlight,
          maxConcurrency: environment.maxConcurrency,
          cpuPercent: round1(environment.cpuPercent),
          memoryMiB: round1(environment.memoryMiB),
          rejectedSinceLastReport: rejected,
          admittedSinceLastReport: admitted,
        };
        if (environment.revisionId !== undefined) entry.revisionId = environment.revisionId;
        environments.push(entry);
      }
    }
    for (const id of reportedRejections.keys()) if (!seen.has(id)) reportedRejections.delete(id);
    for (const id of reportedAdmissions.keys()) if (!seen.has(id)) reportedAdmissions.delete(id);
    return {
      instanceId: instance.instanceId,
      agentAddress: options.agentAddress,
      zone: instance.zone,
      capacityProviderArn: instance.capacityProviderArn,
      at: clock(),
      cpu: { usedPercent: clampPercent(instance.cpuPercent()), environmentsPercent: clampPercent(instance.environmentsCpuPercent()) },
      memory: { usedMiB: round1(instance.memoryMiB()), capacityMiB: instance.memoryMib },
      environments,
    };
  };

  const publish = (includeEnvironments = true): void => {
    try {
      options.bus.publishLive(subject, build(includeEnvironments));
    } catch (error) {
      failures += 1;
      // One line per 240 failures (a minute at the default interval): a NATS outage must not flood the log.
      if (failures % 240 === 1) options.logger.warn({ err: error, failures }, 'load report not published');
    }
  };

  const timer = setInterval(publish, options.intervalMs ?? 250);
  timer.unref();
  publish();

  return {
    now() {
      if (stopped || immediate) return;
      immediate = setImmediate(() => {
        immediate = undefined;
        if (!stopped) publish();
      });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (immediate) clearImmediate(immediate);
      publish(false);
    },
  };
}
