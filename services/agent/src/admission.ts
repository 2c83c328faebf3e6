/**
 * Admission of invocations to an EE: the seam where the agent decides whether an
 * EE takes one more request ("goodput protection", spec §4: Lambda "might reject
 * new invokes to protect invokes already in flight"). A decision is made at once
 * from numbers that are already at hand (slot counts, the latest CPU and memory
 * samples), never by waiting: an invocation that would not be served promptly is
 * refused with a reason so the router retries it on another EE, and the work
 * already admitted keeps its latency. Nothing is queued beyond max concurrency.
 */

/**
 * Why an invocation was refused. Every reason means it never reached the runtime,
 * so the router may run it on another EE.
 */
export const RejectionReason = {
  /** The EE has max concurrency invocations in flight. */
  ConcurrencyLimit: 'ConcurrencyLimit',
  /** The EE (or the whole instance) has used its CPU for the last window while it has work in flight. */
  CPUPressure: 'CPUPressure',
  /** The EE's resident memory (or the instance's) is above the threshold. */
  MemoryPressure: 'MemoryPressure',
  /** The EE is starting, stopping, failed or stopped. */
  NotReady: 'NotReady',
  /** No EE of that id on this instance. */
  UnknownEnvironment: 'UnknownEnvironment',
  /** The invocation itself is malformed (request id, payload size, client context); retrying it elsewhere fails too. */
  InvalidRequest: 'InvalidRequest',
  /** The caller withdrew it (cancel, or its stream broke) before it reached the runtime. */
  Cancelled: 'Cancelled',
} as const;
export type RejectionReason = (typeof RejectionReason)[keyof typeof RejectionReason];

/** Resource use of an EE or of the whole instance, as the resource monitor last sampled it. Mutated in place. */
export interface ResourceUsage {
  /** CPU over the last window, percent of the vCPUs it is entitled to (an EE's share, the instance's vCPUs); may exceed 100 for an EE. 0 until sampled. */
  cpuPercent: number;
  /** Resident memory, MiB. 0 until sampled. */
  memoryMiB: number;
  /** Resident memory, percent of the memory it is entitled to (an EE's MemorySize, the instance's memory). 0 until sampled. */
  memoryPercent: number;
}

/** A fresh usage record with nothing sampled yet. */
export function emptyUsage(): ResourceUsage {
  return { cpuPercent: 0, memoryMiB: 0, memoryPercent: 0 };
}

/**
 * What an admission policy sees of an EE at the moment an invocation arrives.
 * The broker reuses one object per EE: a policy must not keep it.
 */
export interface EnvironmentLoad {
  readonly environmentId: string;
  /** The EE's PerExecutionEnvironmentMaxConcurrency. */
  readonly maxConcurrency: number;
  /** Slots taken: invocations queued, running, or timed out but not yet answered by the runtime. */
  readonly occupied: number;
  /** /next long-polls waiting for work right now. */
  readonly waitingPollers: number;
  /** The EE's own resource use (its process group against its vCPU share and MemorySize). */
  readonly usage: Readonly<ResourceUsage>;
  /** The whole instance's resource use (the agent and all its EEs against the instance's vCPUs and memory). */
  readonly instance: Readonly<ResourceUsage>;
}

/** An admission decision. A rejection names a reason (a counter key, and the router's retry hint) and a message. */
export type AdmissionDecision =
  | { readonly admit: true }
  | { readonly admit: false; readonly reason: RejectionReason; readonly message: string };

/** A rejection decision. */
export type Rejection = Extract<AdmissionDecision, { admit: false }>;

/** Decides whether an EE takes one more invocation. Must be fast and never throw: it runs on every invocation. */
export interface AdmissionPolicy {
  decide(load: EnvironmentLoad): AdmissionDecision;
}

/** The one admit decision (no allocation per invocation). */
export const admitted: AdmissionDecision = Object.freeze({ admit: true });

/** A rejection decision. */
export function reject(reason: RejectionReason, message: string): Rejection {
  return { admit: false, reason, message };
}

function concurrencyRejection(load: EnvironmentLoad): Rejection {
  return reject(
    RejectionReason.ConcurrencyLimit,
    `Execution environment ${load.environmentId} is at its maximum concurrency (${load.maxConcurrency} in flight); retry on another environment`,
  );
}

/**
 * Admit while fewer than max concurrency slots are taken. Admitted invocations
 * beyond the waiting pollers wait in the EE's queue, which is therefore bounded
 * by max concurrency.
 */
export const concurrencyAdmission: AdmissionPolicy = Object.freeze({
  decide(load: EnvironmentLoad): AdmissionDecision {
    return load.occupied < load.maxConcurrency ? admitted : concurrencyRejection(load);
  },
});

/** Thresholds of goodputAdmission. */
export interface GoodputThresholds {
  /**
   * CPU over the sampling window, percent of the EE's vCPU share (and of the
   * instance's vCPUs), at or above which an EE with work in flight refuses more
   * (`HEARTH_CPU_REJECT_PERCENT`). Default 95.
   */
  cpuRejectPercent?: number;
  /**
   * Resident memory, percent of the EE's MemorySize (and of the instance's
   * memory), at or above which an EE refuses more (`HEARTH_MEMORY_REJECT_PERCENT`). Default 90.
   */
  memoryRejectPercent?: number;
}

/** Default goodput thresholds. */
export const defaultGoodputThresholds: Readonly<Required<GoodputThresholds>> = Object.freeze({
  cpuRejectPercent: 95,
  memoryRejectPercent: 90,
});

const round = (value: number): string => value.toFixed(0);

/**
 * Goodput protection, in this order:
 * 1. **ConcurrencyLimit** — max concurrency slots taken.
 * 2. **MemoryPressure** — the EE's resident memory at or above the threshold of
 *    its MemorySize, or the instance's of its memory: one more request could
 *    push the EE into the OOM killer, which would end every request in it.
 * 3. **CPUPressure** — the EE's CPU over the window at or above the threshold
 *    of its vCPU share, or the instance's of its vCPUs, *and* the EE has work in
 *    flight: more work would only queue behind the running requests on the same
 *    cores and stretch their latency. An idle EE is admitted whatever its CPU
 *    (background work of its own is no reason to starve it), so the EE never
 *    stalls completely.
 *
 * Usage numbers come from the resource monitor's last sample (≤ one sampling
 * interval old); the decision itself reads fields and compares, nothing more.
 */
export function goodputAdmission(thresholds: GoodputThresholds = {}): AdmissionPolicy {
  const cpuLimit = thresholds.cpuRejectPercent ?? defaultGoodputThresholds.cpuRejectPercent;
  const memoryLimit = thresholds.memoryRejectPercent ?? defaultGoodputThresholds.memoryRejectPercent;
  return Object.freeze({
    decide(load: EnvironmentLoad): AdmissionDecision {
      if (load.occupied >= load.maxConcurrency) return concurrencyRejection(load);
      if (load.usage.memoryPercent >= memoryLimit) {
        return reject(
          RejectionReason.MemoryPressure,
          `Execution environment ${load.environmentId} uses ${round(load.usage.memoryPercent)}% of its memory (limit ${memoryLimit}%); retry on another environment`,
        );
      }
      if (load.instance.memoryPercent >= memoryLimit) {
        return reject(
          RejectionReason.MemoryPressure,
          `The instance of ${load.environmentId} uses ${round(load.instance.memoryPercent)}% of its memory (limit ${memoryLimit}%); retry on another environment`,
        );
      }
      if (load.occupied > 0) {
        if (load.usage.cpuPercent >= cpuLimit) {
          return reject(
            RejectionReason.CPUPressure,
            `Execution environment ${load.environmentId} uses ${round(load.usage.cpuPercent)}% of its vCPU share with ${load.occupied} in flight (limit ${cpuLimit}%); retry on another environment`,
          );
        }
        if (load.instance.cpuPercent >= cpuLimit) {
          return reject(
            RejectionReason.CPUPressure,
            `The instance of ${load.environmentId} uses ${round(load.instance.cpuPercent)}% of its vCPUs (limit ${cpuLimit}%); retry on another environment`,
          );
        }
      }
      return admitted;
    },
  });
}

/** Applies policies in order; the first rejection wins. */
export function allOf(...policies: AdmissionPolicy[]): AdmissionPolicy {
  return {
    decide(load) {
      for (const policy of policies) {
        const decision = policy.decide(load);
        if (!decision.admit) return decision;
      }
      return admitted;
    },
  };
}
