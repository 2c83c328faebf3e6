import { envInt } from '@hearth/config';
import type { AutoscalerConfig } from './decisions/index.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The scaler's settings, from the environment. */
export interface ScalerConfig {
  /** Time between scaling steps (`HEARTH_SCALER_INTERVAL_MS`). Default 2000. */
  intervalMs: number;
  /** Load reports older than this are ignored (`HEARTH_SCALER_REPORT_MAX_AGE_MS`). Default 2000. */
  reportMaxAgeMs: number;
  /** Instances whose latest report is kept at most (`HEARTH_SCALER_MAX_INSTANCES`). Default 20000. */
  maxInstances: number;
  /** How long a version's and a provider's configuration are cached (`HEARTH_SCALER_CONFIG_TTL_MS`). Default 30000. */
  configTtlMs: number;
  /**
   * Autoscaler tuning that tests shorten; unset members keep the decision
   * engine's defaults (config.ts): `HEARTH_SCALER_STABLE_WINDOW_MS` (60 s),
   * `HEARTH_SCALER_BURST_WINDOW_MS` (6 s), `HEARTH_SCALER_SCALE_DOWN_DELAY_MS` (5 min).
   */
  autoscaler: AutoscalerConfig;
}

/** Reads the scaler's settings. */
export function loadScalerConfig(env: Env = process.env): ScalerConfig {
  const optional = (name: string, min: number, max: number): number | undefined =>
    env[name] === undefined || env[name] === '' ? undefined : envInt(name, 0, { min, max }, env);
  const stableWindowMs = optional('HEARTH_SCALER_STABLE_WINDOW_MS', 1, 3_600_000);
  const burstWindowMs = optional('HEARTH_SCALER_BURST_WINDOW_MS', 1, 3_600_000);
  const scaleDownDelayMs = optional('HEARTH_SCALER_SCALE_DOWN_DELAY_MS', 0, 3_600_000);
  const intervalMs = envInt('HEARTH_SCALER_INTERVAL_MS', 2_000, { min: 10, max: 600_000 }, env);
  return {
    intervalMs,
    reportMaxAgeMs: envInt('HEARTH_SCALER_REPORT_MAX_AGE_MS', 2_000, { min: 1, max: 600_000 }, env),
    maxInstances: envInt('HEARTH_SCALER_MAX_INSTANCES', 20_000, { min: 1, max: 1_000_000 }, env),
    configTtlMs: envInt('HEARTH_SCALER_CONFIG_TTL_MS', 30_000, { min: 0, max: 3_600_000 }, env),
    autoscaler: {
      ...(stableWindowMs === undefined ? {} : { stableWindowMs }),
      ...(burstWindowMs === undefined ? {} : { burstWindowMs }),
      ...(scaleDownDelayMs === undefined ? {} : { scaleDownDelayMs }),
      firstStepIntervalMs: intervalMs,
    },
  };
}
