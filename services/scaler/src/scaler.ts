/**
 * The scaler's loop. Every interval it:
 *
 * 1. takes the latest load report of every instance (older than the max age
 *    ignored) and the rejections summed since the previous step, and builds
 *    one observation per version (observeVersions);
 * 2. for every Active version with reports, steps the version's autoscaler,
 *    created on first sight with the version's min/max (GetFunctionScalingConfig,
 *    defaults when the api lacks it) and the provider's CPU target, resumed from
 *    its current Ready EEs so a restarted scaler neither halves nor inflates a fleet;
 * 3. caps the desires of each capacity provider's versions to its MaxVCpuCount (capFleet);
 * 4. logs each decision with its inputs as one JSON line (and the step's
 *    duration as `scaler.loop`), and when the allowed
 *    EEs differ from the Ready ones and no fleet workflow of the version runs,
 *    starts `reconcileVersion` (scale out) or `scaleInVersion` (scale in);
 * 5. tells the api when a version's Requested scaling config is reached and
 *    when its provider's MaxVCpuCount limits it (scaling-reports.ts).
 *
 * Versions with no reports are left alone; versions no longer reported are
 * forgotten (and resumed from their Ready EEs when they come back).
 */
import { spanAttributes, withSpan, type Logger } from '@hearth/telemetry';
import type { ControlPlane, ProviderSettings, VersionSettings } from './control-plane.js';
import {
  capFleet,
  createAutoscaler,
  observeVersions,
  reconfigure,
  step,
  type AutoscalerConfig,
  type AutoscalerState,
  type ScalingDecision,
  type VersionDemand,
  type VersionObservation,
} from './decisions/index.js';
import type { LoadReportTable } from './load-reports.js';
import type { ScalingReports } from './scaling-reports.js';
import type { ScalerWorkflows } from './workflows.js';

/** What the scaler needs. */
export interface ScalerDeps {
  reports: Pick<LoadReportTable, 'snapshot'>;
  controlPlane: ControlPlane;
  workflows: Pick<ScalerWorkflows, 'running' | 'startReconcile' | 'startScaleIn'>;
  logger: Logger;
  /** Tuning of every autoscaler (windows, delays); limits and CPU target come from the control plane. */
  autoscaler?: AutoscalerConfig;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
  /** Where convergence and capacity-limit reports go (the api's lifecycle service); none: not reported. */
  scalingReports?: Pick<ScalingReports, 'consider' | 'retain'>;
}

/** What one version's step did. */
export type ScalerAction = 'none' | 'scale-out' | 'scale-in' | 'busy' | 'failed';

/** The outcome of one version's step, as logged. */
export interface VersionStep {
  readonly version: string;
  readonly functionName: string;
  readonly qualifier: string;
  readonly capacityProviderArn: string | undefined;
  readonly ready: number;
  /** The autoscaler's desire. */
  readonly desired: number;
  /** What the provider's MaxVCpuCount allows of it. */
  readonly allowed: number;
  readonly reason: string;
  readonly capReason?: string;
  readonly action: ScalerAction;
  readonly decision: ScalingDecision;
}

/** A step of the whole loop. */
export interface ScalerStep {
  readonly at: number;
  readonly versions: readonly VersionStep[];
  /** Versions with reports that were not scaled, and why (not Active, unreadable). */
  readonly skipped: ReadonlyArray<{ version: string; why: string }>;
}

interface Tracked {
  state: AutoscalerState;
  /** Limits and CPU target the state was configured with, to notice changes. */
  configured: string;
}

/** The scaler: `tick()` is one step; `start()` runs it every `intervalMs` until `stop()`. */
export function createScaler(deps: ScalerDeps) {
  const now = deps.now ?? Date.now;
  const tracked = new Map<string, Tracked>();
  /** Why each skipped version was skipped at the last step: logged when it changes. */
  const skipReasons = new Map<string, string>();

  async function tick(): Promise<ScalerStep> {
    const startedAt = performance.now();
    const at = now();
    const snapshot = deps.reports.snapshot();
    const observations = observeVersions(snapshot.environments, { rejected: snapshot.rejected, admitted: snapshot.admitted });
    const refs = new Map<string, { functionName: string; qualifier: string; capacityProviderArn: string | undefined }>();
    for (const environment of snapshot.environments) {
      if (!refs.has(environment.functionArn)) {
        refs.set(environment.functionArn, { functionName: environment.functionName, qualifier: environment.version, capacityProviderArn: environment.capacityProviderArn });
      }
    }
    // Versions no longer reported are forgotten: they resume from their Ready EEs when they come back.
    for (const version of tracked.keys()) if (!refs.has(version)) tracked.delete(version);

    const skipped: Array<{ version: string; why: string }> = [];
    const stepped: Array<{ version: string; settings: VersionSettings; provider: ProviderSettings | undefined; decision: ScalingDecision; observation: VersionObservation }> = [];
    await Promise.all(
      [...refs].map(async ([version, ref]) => {
        const observation = observations.get(version);
        if (!observation) return;
        let settings: VersionSettings;
        let provider: ProviderSettings | undefined;
        try {
          settings = await deps.controlPlane.version({ functionName: ref.functionName, version: ref.qualifier });
          const providerArn = settings.capacityProviderArn ?? ref.capacityProviderArn;
          provider = providerArn ? await deps.controlPlane.provider(providerArn).catch(() => undefined) : undefined;
        } catch (error) {
          skipped.push({ version, why: `configuration unreadable: ${(error as Error).message}` });
          return;
        }
        if (settings.state !== 'Active') {
          tracked.delete(version);
          skipped.push({ version, why: `state ${settings.state}` });
          return;
        }
        const config: AutoscalerConfig = {
          ...deps.autoscaler,
          minEnvironments: settings.minEnvironments,
          maxEnvironments: settings.maxEnvironments,
          targetCpuPercent: provider?.targetCpuPercent ?? deps.autoscaler?.targetCpuPercent ?? 50,
        };
        const configured = JSON.stringify([config.minEnvironments, config.maxEnvironments, config.targetCpuPercent]);
        let entry = tracked.get(version);
        if (entry === undefined) {
          // Resume from what runs now: the scale-down delay counts from this restart, not from nothing.
          entry = { state: createAutoscaler(config, { desired: observation.readyEnvironments, at }), configured };
          tracked.set(version, entry);
        } else if (entry.configured !== configured) {
          entry = { state: reconfigure(entry.state, config), configured };
          tracked.set(version, entry);
        }
        const decision = step(entry.state, observation, at);
        entry.state = decision.state;
        stepped.push({ version, settings, provider, decision, observation });
      }),
    );

    // The fleet cap, per capacity provider.
    const allowed = new Map<string, { allowed: number; reason?: string }>();
    const byProvider = new Map<string, typeof stepped>();
    for (const item of stepped) {
      const arn = item.settings.capacityProviderArn ?? refs.get(item.version)!.capacityProviderArn ?? '';
      byProvider.set(arn, [...(byProvider.get(arn) ?? []), item]);
    }
    for (const items of byProvider.values()) {
      const provider = items[0]!.provider;
      if (provider?.instanceType === undefined) continue;
      const demands: VersionDemand[] = items.map((item) => ({
        version: item.version,
        desired: item.decision.desired,
        minEnvironments: item.settings.minEnvironments,
        environment: item.settings.environment,
      }));
      try {
        const result = capFleet(demands, { maxVCpuCount: provider.maxVCpuCount, instanceType: provider.instanceType });
        for (const capped of result.versions) allowed.set(capped.version, { allowed: capped.allowed, ...(capped.reason ? { reason: capped.reason } : {}) });
      } catch (error) {
        deps.logger.warn({ err: error }, 'fleet cap not applied');
      }
    }

    const versions = await Promise.all(
      stepped.map(async ({ version, settings, provider, decision, observation }): Promise<VersionStep> => {
        const ref = refs.get(version)!;
        const cap = allowed.get(version);
        const target = cap?.allowed ?? decision.desired;
        const ready = observation.readyEnvironments;
        let action: ScalerAction = 'none';
        if (target !== ready && ready > 0) {
          const versionRef = { functionName: ref.functionName, version: ref.qualifier };
          try {
            if (await deps.workflows.running(versionRef)) action = 'busy';
            else {
              // One trace per scaling action: the workflow and its activities continue this span.
              const scaleOut = target > ready;
              await withSpan(
                scaleOut ? 'hearth.scaler.ScaleOut' : 'hearth.scaler.ScaleIn',
                {
                  attributes: {
                    [spanAttributes.function]: ref.functionName,
                    [spanAttributes.version]: ref.qualifier,
                    'hearth.scaler.ready_environments': ready,
                    'hearth.scaler.desired_environments': target,
                    'hearth.scaler.reason': decision.reason,
                  },
                },
                () =>
                  scaleOut
                    ? deps.workflows.startReconcile({ version: versionRef, desiredEnvironments: target, reason: `scale out: ${decision.reason}` })
                    : deps.workflows.startScaleIn({ version: versionRef, desiredEnvironments: target, reason: `scale in: ${decision.reason}` }),
              );
              action = scaleOut ? 'scale-out' : 'scale-in';
            }
          } catch (error) {
            action = 'failed';
            deps.logger.warn({ err: error, version }, 'scaling workflow not started');
          }
        }
        const result: VersionStep = {
          version,
          functionName: ref.functionName,
          qualifier: ref.qualifier,
          capacityProviderArn: settings.capacityProviderArn,
          ready,
          desired: decision.desired,
          allowed: target,
          reason: decision.reason,
          ...(cap?.reason ? { capReason: cap.reason } : {}),
          action,
          decision,
        };
        deps.logger.info(
          {
            event: 'scaler.decision',
            version,
            ready,
            desired: decision.desired,
            allowed: target,
            reason: decision.reason,
            ...(cap?.reason ? { capReason: cap.reason } : {}),
            action,
            limits: { min: settings.minEnvironments, max: settings.maxEnvironments, from: settings.limitsFrom },
            inputs: decision.inputs,
          },
          'scaling decision',
        );
        await deps.scalingReports?.consider(result, settings, provider);
        return result;
      }),
    );
    deps.scalingReports?.retain(new Set(versions.map((entry) => `${entry.functionName}:${entry.qualifier}`)));
    for (const { version, why } of skipped) {
      if (skipReasons.get(version) !== why) deps.logger.info({ event: 'scaler.skip', version, why }, 'version not scaled');
    }
    skipReasons.clear();
    for (const { version, why } of skipped) skipReasons.set(version, why);
    // One line per step with its duration, so a fleet's loop time can be read from the log (bench/fleet-sim.mjs).
    deps.logger.info(
      { event: 'scaler.loop', durationMs: Math.round((performance.now() - startedAt) * 100) / 100, versions: versions.length, environments: snapshot.environments.length },
      'scaling step done',
    );
    return { at, versions, skipped };
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  return {
    tick,
    /** Autoscaler state of a version (tests, diagnostics). */
    stateOf: (version: string) => tracked.get(version)?.state,
    /** Runs `tick` every `intervalMs`, one at a time. */
    start(intervalMs: number): void {
      stopped = false;
      const loop = () => {
        if (stopped) return;
        running = tick()
          .catch((error: unknown) => deps.logger.error({ err: error }, 'scaler step failed'))
          .finally(() => {
            if (!stopped) timer = setTimeout(loop, intervalMs);
          });
      };
      timer = setTimeout(loop, intervalMs);
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

export type Scaler = ReturnType<typeof createScaler>;
