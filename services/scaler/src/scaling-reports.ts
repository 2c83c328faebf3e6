/**
 * What the scaler tells the api about a version after a step, so the version
 * says what the fleet does (the api is the single writer of function streams,
 * docs/adr/0006):
 *
 * - its Requested FunctionScalingConfig became Applied: the Ready EEs are
 *   within the new min–max (spec §2: Requested is shown until it settles);
 * - its capacity provider's MaxVCpuCount keeps it below what its load asks
 *   for: StateReasonCode `CapacityProviderScalingLimitExceeded` with a reason
 *   naming the limit, cleared once the limit no longer binds.
 *
 * A report is sent only when it would change something (the version's cached
 * settings say so), and the same report is not repeated within `repeatAfterMs`
 * while the cached settings have not caught up with the event it caused.
 */
import type { Logger } from '@hearth/telemetry';
import type { ProviderSettings, VersionSettings } from './control-plane.js';

/** The api's lifecycle call (hearth.v1.FunctionLifecycleService/ReportVersionScaling). */
export interface VersionScalingReporter {
  reportVersionScaling(report: {
    functionName: string;
    version: string;
    readyEnvironments: number;
    minEnvironments: number;
    maxEnvironments?: number;
    limitReason?: string;
  }): Promise<unknown>;
}

/** One version's step as the report needs it. */
export interface StepOutcome {
  readonly functionName: string;
  readonly qualifier: string;
  readonly ready: number;
  /** The autoscaler's desire. */
  readonly desired: number;
  /** What the provider's MaxVCpuCount allows of it. */
  readonly allowed: number;
  /** Set when the fleet cap trimmed the desire. */
  readonly capReason?: string;
}

/** The report a step calls for, or undefined when the version already says it all. */
export function scalingReportFor(
  outcome: StepOutcome,
  settings: VersionSettings,
  provider: ProviderSettings | undefined,
): Parameters<VersionScalingReporter['reportVersionScaling']>[0] | undefined {
  const limitReason =
    outcome.capReason !== undefined && outcome.allowed < outcome.desired
      ? `The capacity provider's MaxVCpuCount (${provider?.maxVCpuCount ?? 'its limit'} vCPUs) limits this version to ${outcome.allowed} execution ` +
        `environments of the ${outcome.desired} its load asks for; invocations beyond them are throttled. Raise MaxVCpuCount with UpdateCapacityProvider.`
      : undefined;
  const converged = outcome.ready >= settings.minEnvironments && outcome.ready <= settings.maxEnvironments;
  const applies = settings.awaitingApply && converged;
  const limitChanges = (limitReason !== undefined) !== settings.limited;
  if (!applies && !limitChanges) return undefined;
  return {
    functionName: outcome.functionName,
    version: outcome.qualifier,
    readyEnvironments: outcome.ready,
    minEnvironments: settings.minEnvironments,
    // No max is Infinity to the autoscaler and an absent member to the api.
    ...(Number.isFinite(settings.maxEnvironments) ? { maxEnvironments: settings.maxEnvironments } : {}),
    ...(limitReason === undefined ? {} : { limitReason }),
  };
}

/**
 * Sends reports, each at most once per `repeatAfterMs` unless it changes.
 * The limit reason is cleared only once the cap has not bound for
 * `clearAfterMs`, so a cap that binds every other step (noise around the
 * limit) does not append an event pair every few seconds. Never throws.
 */
export function createScalingReports(options: {
  reporter: VersionScalingReporter;
  logger: Logger;
  repeatAfterMs?: number;
  /** Default 15 s. */
  clearAfterMs?: number;
  now?: () => number;
}) {
  const now = options.now ?? Date.now;
  const repeatAfterMs = options.repeatAfterMs ?? 5_000;
  const clearAfterMs = options.clearAfterMs ?? 15_000;
  const sent = new Map<string, { key: string; at: number }>();
  /** When the cap last trimmed each version's desire. */
  const boundAt = new Map<string, number>();
  return {
    /** Reports what `outcome` calls for, if anything. */
    async consider(outcome: StepOutcome, settings: VersionSettings, provider: ProviderSettings | undefined): Promise<void> {
      const id = `${outcome.functionName}:${outcome.qualifier}`;
      if (outcome.capReason !== undefined && outcome.allowed < outcome.desired) boundAt.set(id, now());
      let report = scalingReportFor(outcome, settings, provider);
      const bound = boundAt.get(id);
      if (report?.limitReason === undefined && settings.limited && bound !== undefined && now() - bound < clearAfterMs) {
        // Not clear yet: only the Applied part of the report goes, and it keeps the reason (any text keeps the one set).
        report = settings.awaitingApply && report !== undefined ? { ...report, limitReason: 'still limited by MaxVCpuCount' } : undefined;
      }
      if (report === undefined) {
        sent.delete(id);
        return;
      }
      const key = JSON.stringify({ ...report, readyEnvironments: undefined });
      const last = sent.get(id);
      if (last && last.key === key && now() - last.at < repeatAfterMs) return;
      sent.set(id, { key, at: now() });
      try {
        await options.reporter.reportVersionScaling(report);
        options.logger.info({ event: 'scaler.report', ...report }, 'version scaling reported');
      } catch (error) {
        sent.delete(id);
        options.logger.warn({ err: error, version: id }, 'version scaling report not delivered; retried at a later step');
      }
    },
    /** Forgets versions no longer stepped (bounded memory). */
    retain(ids: ReadonlySet<string>): void {
      for (const id of sent.keys()) if (!ids.has(id)) sent.delete(id);
      for (const id of boundAt.keys()) if (!ids.has(id)) boundAt.delete(id);
    },
  };
}

/** The reporter createScalingReports returns. */
export type ScalingReports = ReturnType<typeof createScalingReports>;
