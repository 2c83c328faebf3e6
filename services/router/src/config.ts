import { ConfigError, envInt } from '@hearth/config';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The router's settings. Every one has a default; `loadRouterConfig` reads the
 * environment variable named in each field's doc.
 */
export interface RouterConfig {
  /**
   * An EE whose load reports stop for this long leaves the routing table
   * (`HEARTH_ROUTE_STALE_MS`). Default 1500: six missed reports at the agents'
   * 250 ms interval, so a slow NATS moment does not empty the table.
   */
  staleMs: number;
  /**
   * Most environments one invocation is offered to before it is throttled
   * (`HEARTH_ROUTE_MAX_ATTEMPTS`); the budget is min(this, EEs of the version).
   * Default 3, as a refusal costs a round trip to an agent.
   */
  maxAttempts: number;
  /**
   * How long an invocation that finds every EE full by the router's own
   * accounting waits for a slot to free before it is throttled
   * (`HEARTH_ROUTE_SLOT_WAIT_MS`); only while this router has invocations in
   * flight on the version, whose completions are what can free one. Default
   * 2 ms: enough to catch a slot freed by an invocation finishing right now,
   * short enough that a throttle still answers well within the 5 ms target.
   * 0 throttles at once.
   */
  slotWaitMs: number;
  /**
   * Most invocations waiting for a slot per version (`HEARTH_ROUTE_MAX_WAITERS`);
   * the next one is throttled at once and counted as `shed.wait_queue_full`. Default 256.
   */
  maxWaitersPerRoute: number;
  /**
   * Most invocations waiting for a slot over all versions
   * (`HEARTH_ROUTE_MAX_WAITERS_TOTAL`). Default 10000.
   */
  maxWaitersTotal: number;
  /**
   * For this long after start the table may be empty only because no report
   * has arrived yet, so an invocation of an unknown version waits for one
   * (bounded by its deadline) instead of being throttled
   * (`HEARTH_ROUTE_WARMUP_MS`). Default 1000 (four report intervals).
   */
  warmupMs: number;
  /**
   * After an agent refuses an EE for CPU or memory pressure, the router does not
   * offer it work for this long (`HEARTH_ROUTE_PRESSURE_BACKOFF_MS`). Default 250:
   * one report interval, after which the agent's own view is fresh again.
   */
  pressureBackoffMs: number;
  /**
   * Versions whose every EE admits at most this many invocations are routed
   * first-available, as Knative's activator does for container concurrency ≤ 3
   * (`HEARTH_ROUTE_FIRST_AVAILABLE_MAX`). Default 3.
   */
  firstAvailableMaxConcurrency: number;
  /**
   * Versions with at most this many EEs pick the exact least-loaded EE; larger
   * ones use power of two choices (`HEARTH_ROUTE_EXACT_MAX`). Default 15: a scan
   * of 15 is as cheap as sampling, and exact where this router's counts are.
   */
  exactLeastLoadedMax: number;
  /**
   * Below this utilisation of a version (percent of its slots taken), the
   * router packs onto the busiest EE that has room instead of spreading
   * (Hermod's consolidation), so idle EEs stay idle for the scaler to remove
   * (`HEARTH_ROUTE_PACK_BELOW_PERCENT`). Default 0 (off): packing serialises
   * CPU-bound handlers on one EE's vCPUs, and the scaler does not yet scale in
   * by idleness (issue #5).
   */
  packBelowPercent: number;
  /**
   * Most invocations in flight on one agent stream (`HEARTH_ROUTER_AGENT_STREAM_MAX_IN_FLIGHT`);
   * beyond it an EE of that agent counts as full. Default 4096.
   */
  agentStreamMaxInFlight: number;
  /** How long connecting to an agent may take before a retry (`HEARTH_ROUTER_AGENT_CONNECT_TIMEOUT_MS`). Default 2000. */
  agentConnectTimeoutMs: number;
  /** First reconnect delay after an agent stream breaks (`HEARTH_ROUTER_AGENT_BACKOFF_MIN_MS`). Default 50. */
  agentBackoffMinMs: number;
  /** Longest reconnect delay, reached by doubling (`HEARTH_ROUTER_AGENT_BACKOFF_MAX_MS`). Default 5000. */
  agentBackoffMaxMs: number;
  /**
   * Most invocations in flight on one caller's `InvokeStream` (`HEARTH_ROUTER_STREAM_MAX_IN_FLIGHT`);
   * the next is throttled at once (`shed.stream_in_flight_limit`). Default 10000.
   */
  streamMaxInFlight: number;
  /**
   * Deadline of an invocation whose request carries none (`HEARTH_ROUTER_DEFAULT_DEADLINE_MS`).
   * Default 900000: Lambda's longest function timeout (15 minutes).
   */
  defaultDeadlineMs: number;
  /**
   * How long after an invocation's deadline the router gives up on the agent's
   * answer (`HEARTH_ROUTER_DEADLINE_GRACE_MS`). The agent itself ends the
   * invocation at the deadline with Lambda's "Task timed out" result, which
   * must win the race; the router's own timer is the backstop for an agent
   * that does not answer at all. Default 250.
   */
  deadlineGraceMs: number;
  /** `retry_after_ms` of a NoReadyEnvironment throttle (`HEARTH_ROUTE_NO_READY_RETRY_AFTER_MS`). Default 1000. */
  noReadyRetryAfterMs: number;
}

/** The defaults of every setting. */
export const defaultRouterConfig: Readonly<RouterConfig> = Object.freeze({
  staleMs: 1_500,
  maxAttempts: 3,
  slotWaitMs: 2,
  maxWaitersPerRoute: 256,
  maxWaitersTotal: 10_000,
  warmupMs: 1_000,
  pressureBackoffMs: 250,
  firstAvailableMaxConcurrency: 3,
  exactLeastLoadedMax: 15,
  packBelowPercent: 0,
  agentStreamMaxInFlight: 4_096,
  agentConnectTimeoutMs: 2_000,
  agentBackoffMinMs: 50,
  agentBackoffMaxMs: 5_000,
  streamMaxInFlight: 10_000,
  defaultDeadlineMs: 900_000,
  deadlineGraceMs: 250,
  noReadyRetryAfterMs: 1_000,
});

/** Reads the router's settings from the environment; a malformed value throws ConfigError naming it. */
export function loadRouterConfig(env: Env = process.env): RouterConfig {
  const d = defaultRouterConfig;
  const config: RouterConfig = {
    staleMs: envInt('HEARTH_ROUTE_STALE_MS', d.staleMs, { min: 100, max: 600_000 }, env),
    maxAttempts: envInt('HEARTH_ROUTE_MAX_ATTEMPTS', d.maxAttempts, { min: 1, max: 100 }, env),
    slotWaitMs: envInt('HEARTH_ROUTE_SLOT_WAIT_MS', d.slotWaitMs, { min: 0, max: 1_000 }, env),
    maxWaitersPerRoute: envInt('HEARTH_ROUTE_MAX_WAITERS', d.maxWaitersPerRoute, { min: 0, max: 1_000_000 }, env),
    maxWaitersTotal: envInt('HEARTH_ROUTE_MAX_WAITERS_TOTAL', d.maxWaitersTotal, { min: 0, max: 10_000_000 }, env),
    warmupMs: envInt('HEARTH_ROUTE_WARMUP_MS', d.warmupMs, { min: 0, max: 60_000 }, env),
    pressureBackoffMs: envInt('HEARTH_ROUTE_PRESSURE_BACKOFF_MS', d.pressureBackoffMs, { min: 0, max: 60_000 }, env),
    firstAvailableMaxConcurrency: envInt('HEARTH_ROUTE_FIRST_AVAILABLE_MAX', d.firstAvailableMaxConcurrency, { min: 0, max: 1_000 }, env),
    exactLeastLoadedMax: envInt('HEARTH_ROUTE_EXACT_MAX', d.exactLeastLoadedMax, { min: 0, max: 100_000 }, env),
    packBelowPercent: envInt('HEARTH_ROUTE_PACK_BELOW_PERCENT', d.packBelowPercent, { min: 0, max: 100 }, env),
    agentStreamMaxInFlight: envInt('HEARTH_ROUTER_AGENT_STREAM_MAX_IN_FLIGHT', d.agentStreamMaxInFlight, { min: 1, max: 1_000_000 }, env),
    agentConnectTimeoutMs: envInt('HEARTH_ROUTER_AGENT_CONNECT_TIMEOUT_MS', d.agentConnectTimeoutMs, { min: 10, max: 600_000 }, env),
    agentBackoffMinMs: envInt('HEARTH_ROUTER_AGENT_BACKOFF_MIN_MS', d.agentBackoffMinMs, { min: 1, max: 600_000 }, env),
    agentBackoffMaxMs: envInt('HEARTH_ROUTER_AGENT_BACKOFF_MAX_MS', d.agentBackoffMaxMs, { min: 1, max: 600_000 }, env),
    streamMaxInFlight: envInt('HEARTH_ROUTER_STREAM_MAX_IN_FLIGHT', d.streamMaxInFlight, { min: 1, max: 10_000_000 }, env),
    defaultDeadlineMs: envInt('HEARTH_ROUTER_DEFAULT_DEADLINE_MS', d.defaultDeadlineMs, { min: 1, max: 3_600_000 }, env),
    deadlineGraceMs: envInt('HEARTH_ROUTER_DEADLINE_GRACE_MS', d.deadlineGraceMs, { min: 0, max: 60_000 }, env),
    noReadyRetryAfterMs: envInt('HEARTH_ROUTE_NO_READY_RETRY_AFTER_MS', d.noReadyRetryAfterMs, { min: 1, max: 600_000 }, env),
  };
  if (config.agentBackoffMaxMs < config.agentBackoffMinMs) {
    throw new ConfigError(
      `HEARTH_ROUTER_AGENT_BACKOFF_MAX_MS=${config.agentBackoffMaxMs} is below HEARTH_ROUTER_AGENT_BACKOFF_MIN_MS=${config.agentBackoffMinMs}`,
    );
  }
  return config;
}
