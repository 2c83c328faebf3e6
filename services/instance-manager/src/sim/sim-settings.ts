import { envInt } from '@hearth/config';

/** Settings of the whole `sim` provider, from `HEARTH_SIM_*` variables of the instance-manager. */
export interface SimSettings {
  /** Time from a launch to a Running simulated instance, ms (`HEARTH_SIM_INSTANCE_BOOT_MS`). Default 200. */
  instanceBootMs: number;
  /** An EE's init time when its function does not set `HEARTH_SIM_INIT_MS`, ms (`HEARTH_SIM_INIT_MS`). Default 100. */
  initMs: number;
  /** An invocation's latency when its function does not set `HEARTH_SIM_LATENCY_MS`, ms (`HEARTH_SIM_LATENCY_MS`). Default 50. */
  latencyMs: number;
  /** An invocation's CPU time when its function does not set `HEARTH_SIM_CPU_MS`, ms (`HEARTH_SIM_CPU_MS`). Default 5. */
  cpuMs: number;
  /**
   * Interval of each simulated agent's load reports, ms (`HEARTH_SIM_LOAD_REPORT_INTERVAL_MS`).
   * Default 250, the real agent's. 1,000 instances at 250 ms are 4,000 reports a second
   * through NATS into the router and the scaler: raise it for large fleets, and raise the
   * readers' staleness limits with it (`HEARTH_ROUTE_STALE_MS`, `HEARTH_SCALER_REPORT_MAX_AGE_MS`).
   */
  loadReportIntervalMs: number;
  /** Interval of each simulated agent's heartbeats, ms (`HEARTH_SIM_HEARTBEAT_INTERVAL_MS`). Default 1000, the real agent's. */
  heartbeatIntervalMs: number;
  /** Step of the load model (synthetic arrivals, progress, CPU), ms (`HEARTH_SIM_TICK_MS`). Default 100. */
  tickMs: number;
  /** CPU over the window at or above which an EE with work in flight refuses more (`HEARTH_SIM_CPU_REJECT_PERCENT`). Default 95, the agent's. */
  cpuRejectPercent: number;
  /** Window CPU is averaged over, ms (`HEARTH_SIM_CPU_WINDOW_MS`). Default 1000, the agent's. */
  cpuWindowMs: number;
}

/** Reads the sim settings; throws ConfigError naming a malformed variable. */
export function loadSimSettings(env: NodeJS.ProcessEnv = process.env): SimSettings {
  return {
    instanceBootMs: envInt('HEARTH_SIM_INSTANCE_BOOT_MS', 200, { min: 0, max: 600_000 }, env),
    initMs: envInt('HEARTH_SIM_INIT_MS', 100, { min: 0, max: 900_000 }, env),
    latencyMs: envInt('HEARTH_SIM_LATENCY_MS', 50, { min: 0, max: 900_000 }, env),
    cpuMs: envInt('HEARTH_SIM_CPU_MS', 5, { min: 0, max: 900_000 }, env),
    loadReportIntervalMs: envInt('HEARTH_SIM_LOAD_REPORT_INTERVAL_MS', 250, { min: 10, max: 60_000 }, env),
    heartbeatIntervalMs: envInt('HEARTH_SIM_HEARTBEAT_INTERVAL_MS', 1_000, { min: 10, max: 60_000 }, env),
    tickMs: envInt('HEARTH_SIM_TICK_MS', 100, { min: 5, max: 10_000 }, env),
    cpuRejectPercent: envInt('HEARTH_SIM_CPU_REJECT_PERCENT', 95, { min: 1, max: 100 }, env),
    cpuWindowMs: envInt('HEARTH_SIM_CPU_WINDOW_MS', 1_000, { min: 10, max: 60_000 }, env),
  };
}
