/**
 * What the autoscaler sees of a version at one step: aggregates over the EEs
 * in the agents' load reports (services/agent/src/load-report.ts), which every
 * agent publishes on `instance.<id>.load` every 250 ms. The shape of one EE's
 * entry is repeated here structurally because services are not libraries: an
 * agent's `EnvironmentLoadReport` is assignable to {@link EnvironmentLoad}.
 */

/** The members of an agent's per-EE load report entry the scaler reads. */
export interface EnvironmentLoad {
  /** Qualified ARN of the version: the key observations are grouped by. */
  readonly functionArn: string;
  /** `Starting`, `Ready` or `Stopping`; only Ready EEs take invocations. */
  readonly state: string;
  readonly inFlight: number;
  /** PerExecutionEnvironmentMaxConcurrency. */
  readonly maxConcurrency: number;
  /** Percent of the EE's vCPUs; may exceed 100 (EEs have no cgroup). */
  readonly cpuPercent: number;
  readonly rejectedSinceLastReport: number;
  /**
   * Invocations admitted since the previous report. Not in the agent's report
   * today; when every EE of a version carries it, the autoscaler measures how
   * much demand the rejections stand for instead of estimating it.
   */
  readonly admittedSinceLastReport?: number;
}

/** One version at one step. */
export interface VersionObservation {
  /** EEs of the version in state Ready. */
  readonly readyEnvironments: number;
  /** Sum of in-flight invocations over the Ready EEs. */
  readonly inFlight: number;
  /** Sum of maxConcurrency over the Ready EEs: the slots the version has. */
  readonly capacity: number;
  /** Mean CPU % over the Ready EEs (percent of one EE's vCPUs); 0 without Ready EEs. */
  readonly cpuPercent: number;
  /** Invocations refused (throttles, agent rejections) since the previous step, by any of the version's EEs. */
  readonly rejected: number;
  /**
   * Invocations admitted since the previous step, when known. With it the
   * offered load is measured as (admitted + rejected) / admitted times the
   * admitted one; without it, estimated (see AutoscalerConfig.rejectionHoldSeconds).
   */
  readonly admitted?: number;
}

/** A version with nothing reported: no Ready EE, no load. */
export const emptyObservation: VersionObservation = Object.freeze({ readyEnvironments: 0, inFlight: 0, capacity: 0, cpuPercent: 0, rejected: 0 });

interface Accumulator {
  ready: number;
  inFlight: number;
  capacity: number;
  cpuSum: number;
  rejected: number;
  /** Undefined as soon as one EE's entry lacks the count: a partial sum would overstate the rejections' share. */
  admitted: number | undefined;
}

/** Counts summed by the caller over every report since the previous step, per version. */
export interface SinceLastStep {
  /** Rejections per version; replaces those of the entries. */
  readonly rejected?: ReadonlyMap<string, number>;
  /** Admissions per version; replaces those of the entries. */
  readonly admitted?: ReadonlyMap<string, number>;
}

/**
 * Builds one observation per version from EE entries. Pass the entries of
 * each instance's latest report: gauges (in-flight, CPU) are read from them.
 * Rejections (and admissions, when reported) are summed from the same entries
 * unless `sinceLastStep` gives them per version: a report covers 250 ms and a
 * step usually spans several, so the caller that sums the counts over every
 * report received since the previous step passes those sums here. Counts come
 * from EEs in any state: a Stopping EE that refuses work is evidence of
 * demand too. Versions appear in the order their first entry does.
 */
export function observeVersions(environments: Iterable<EnvironmentLoad>, sinceLastStep: SinceLastStep = {}): Map<string, VersionObservation> {
  const byVersion = new Map<string, Accumulator>();
  for (const environment of environments) {
    let entry = byVersion.get(environment.functionArn);
    if (entry === undefined) {
      entry = { ready: 0, inFlight: 0, capacity: 0, cpuSum: 0, rejected: 0, admitted: 0 };
      byVersion.set(environment.functionArn, entry);
    }
    entry.rejected += environment.rejectedSinceLastReport;
    entry.admitted = environment.admittedSinceLastReport === undefined || entry.admitted === undefined ? undefined : entry.admitted + environment.admittedSinceLastReport;
    if (environment.state !== 'Ready') continue;
    entry.ready += 1;
    entry.inFlight += environment.inFlight;
    entry.capacity += environment.maxConcurrency;
    entry.cpuSum += environment.cpuPercent;
  }
  const { rejected, admitted } = sinceLastStep;
  const observations = new Map<string, VersionObservation>();
  for (const [version, entry] of byVersion) {
    const admittedCount = admitted === undefined ? entry.admitted : admitted.get(version);
    const observation: VersionObservation = {
      readyEnvironments: entry.ready,
      inFlight: entry.inFlight,
      capacity: entry.capacity,
      cpuPercent: entry.ready > 0 ? entry.cpuSum / entry.ready : 0,
      rejected: rejected === undefined ? entry.rejected : (rejected.get(version) ?? 0),
    };
    observations.set(version, admittedCount === undefined ? observation : { ...observation, admitted: admittedCount });
  }
  if (rejected !== undefined) {
    // A version whose EEs all left still had its refusals counted: they are demand.
    for (const [version, count] of rejected) {
      if (!observations.has(version) && count > 0) observations.set(version, { ...emptyObservation, rejected: count });
    }
  }
  return observations;
}
