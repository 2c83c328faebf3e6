/**
 * Admission of invocations to an EE: the seam where the agent decides whether an
 * EE takes one more request. Today the rule is concurrency (at most the EE's
 * max concurrency occupied); issue #4's goodput protection (CPU and memory
 * pressure) adds policies here without touching the Runtime API.
 */

/** What an admission policy sees of an EE at the moment an invocation arrives. */
export interface EnvironmentLoad {
  readonly environmentId: string;
  /** The EE's PerExecutionEnvironmentMaxConcurrency. */
  readonly maxConcurrency: number;
  /** Slots taken: invocations queued, running, or timed out but not yet answered by the runtime. */
  readonly occupied: number;
  /** /next long-polls waiting for work right now. */
  readonly waitingPollers: number;
}

/** An admission decision. A rejection names a reason (a counter key, and the router's retry hint) and a message. */
export type AdmissionDecision = { readonly admit: true } | { readonly admit: false; readonly reason: string; readonly message: string };

/** Decides whether an EE takes one more invocation. Must be fast and never throw: it runs on every invocation. */
export interface AdmissionPolicy {
  decide(load: EnvironmentLoad): AdmissionDecision;
}

const admitted: AdmissionDecision = Object.freeze({ admit: true });

/**
 * The default policy: admit while fewer than max concurrency slots are taken.
 * Admitted invocations beyond the waiting pollers wait in the EE's queue, which
 * is therefore bounded by max concurrency.
 */
export const concurrencyAdmission: AdmissionPolicy = Object.freeze({
  decide(load: EnvironmentLoad): AdmissionDecision {
    if (load.occupied < load.maxConcurrency) return admitted;
    return {
      admit: false,
      reason: 'ConcurrencyLimit',
      message: `Execution environment ${load.environmentId} is at its maximum concurrency (${load.maxConcurrency} in flight); retry on another environment`,
    };
  },
});

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
