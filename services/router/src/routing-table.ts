/**
 * The routing table: per (function, version) the Ready execution environments
 * the agents' load reports list, with the router's own in-flight accounting.
 *
 * Accounting. `own` counts the invocations this router has sent to an EE and
 * not yet seen finish: it is exact, so between reports it is the truth. The
 * agent's reported `inFlight` counts every router's work (and slots the agent
 * still holds for timed-out invocations). On each report the table keeps the
 * difference, `others = max(0, reported − own)`, as the load it cannot see, and
 * routes on `own + others` until the next report replaces the estimate. With
 * one router `others` is ~0 (it only picks up the agent's zombie slots); with
 * several, each sees the others' load at most one report interval old, and
 * the agent's admission stays the authority: a refusal for concurrency marks
 * the EE full until a report or one of this router's own completions says
 * otherwise. Invocations in flight while a report is taken are counted by
 * both sides only for the NATS delivery time, so the estimate errs by a few
 * slots at most, and toward "free" (the clamp at 0).
 */
import type { EnvironmentLoad, LoadReport } from './load-report.js';

/** Why an agent (or the router's link to it) did not take an invocation. */
export type RefusalReason =
  | 'ConcurrencyLimit'
  | 'CPUPressure'
  | 'MemoryPressure'
  | 'NotReady'
  | 'UnknownEnvironment'
  /** The router has no open stream to the agent: nothing was sent. */
  | 'AgentUnavailable'
  /** The router's stream to the agent is at its in-flight bound: nothing was sent. */
  | 'AgentStreamFull';

/** The agent of one instance, as its reports describe it. */
export class InstanceRoute {
  agentAddress: string;
  zone = '';
  capacityProviderArn: string | undefined;
  /** `at` of the last report applied (the agent's clock), to drop reordered ones. */
  lastAt = Number.NEGATIVE_INFINITY;
  /** Local time the last report arrived. */
  lastSeen = 0;
  /** True while the router has an open stream to this agent; EEs of an agent that is down are not offered work. */
  agentUp = false;
  readonly environments = new Map<string, EnvironmentRoute>();

  constructor(
    readonly instanceId: string,
    agentAddress: string,
  ) {
    this.agentAddress = agentAddress;
  }
}

/** One Ready EE and what the router knows of its load. */
export class EnvironmentRoute {
  /** Position in `route.entries` (kept by the table for O(1) removal). */
  index = -1;
  /** Invocations this router sent and has not seen finish. */
  own = 0;
  /** Load of other routers (and the agent's zombie slots), from the last report. */
  others = 0;
  maxConcurrency = 0;
  reportedInFlight = 0;
  functionArn = '';
  revisionId: string | undefined;
  /** Local time of the last report listing it. */
  reportedAt = 0;
  /** Not offered work before this local time (after a pressure refusal). */
  blockedUntil = 0;
  blockedReason: RefusalReason | undefined;
  /** False once the table dropped it; releases of reservations made before still balance `own`. */
  inTable = true;

  constructor(
    readonly environmentId: string,
    readonly route: Route,
    readonly instance: InstanceRoute,
    /** A random rank fixed at insertion: the first-available order, different on every router. */
    readonly ordinal: number,
  ) {}

  /** Slots taken as far as the router knows. */
  get load(): number {
    return this.own + this.others;
  }

  /** Slots left as far as the router knows (may be negative after a burst of reports). */
  get free(): number {
    return this.maxConcurrency - this.own - this.others;
  }
}

/** The Ready EEs of one (function, version). */
export class Route {
  readonly entries: EnvironmentRoute[] = [];
  /** Moving average of invocation durations here, ms: what a concurrency throttle's retry hint is made of. */
  durationEwmaMs = 0;
  /** Invocations this router has in flight on the route's EEs: when 0, no completion of ours can free a slot soon. */
  ownTotal = 0;
  private ordered: EnvironmentRoute[] | undefined;
  private ceiling: number | undefined;

  constructor(
    readonly key: string,
    readonly functionName: string,
    readonly version: string,
  ) {}

  /** The entries by `ordinal`: first-available's scan order. */
  byOrdinal(): readonly EnvironmentRoute[] {
    this.ordered ??= [...this.entries].sort((a, b) => a.ordinal - b.ordinal);
    return this.ordered;
  }

  /** The largest max concurrency of its EEs (0 when none). */
  maxConcurrencyCeiling(): number {
    this.ceiling ??= this.entries.reduce((max, entry) => Math.max(max, entry.maxConcurrency), 0);
    return this.ceiling;
  }

  /** Forgets derived orders after a membership or limit change. */
  invalidate(): void {
    this.ordered = undefined;
    this.ceiling = undefined;
  }

  /** Records an invocation's duration (EWMA, weight 1/16: smooth, yet follows a change within ~50 calls). */
  recordDuration(ms: number): void {
    this.durationEwmaMs = this.durationEwmaMs === 0 ? ms : this.durationEwmaMs + (ms - this.durationEwmaMs) / 16;
  }
}

/** A slot taken on an EE before an invocation is sent; released exactly once when it ends. */
export interface Reservation {
  readonly entry: EnvironmentRoute;
  released: boolean;
}

/** One row of DescribeRoutes. */
export interface RouteRow {
  functionName: string;
  version: string;
  environmentId: string;
  instanceId: string;
  agentAddress: string;
  inFlight: number;
  maxConcurrency: number;
  reportAgeMs: number;
}

/** Options of RoutingTable. */
export interface RoutingTableOptions {
  /** Reports older than this (local receipt time) leave the table. */
  staleMs: number;
  /** How long a pressure refusal keeps an EE out of routing. Default 250. */
  pressureBackoffMs?: number;
  /** Clock. Default Date.now. */
  now?: () => number;
  /** Source of the first-available ranks. Default Math.random. */
  random?: () => number;
  /** Called when a route may have gained free slots (a release, a report, an agent back up): wakes waiters. */
  onCapacity?: (routeKey: string) => void;
  /** Called when an agent address first appears; returns whether a stream to it is open now. */
  onAgentSeen?: (address: string) => boolean;
  /** Called when no instance uses an agent address any more. */
  onAgentGone?: (address: string) => void;
}

/** The key of a (function, version); a newline cannot occur in either. */
export function routeKey(functionName: string, version: string): string {
  return `${functionName}\n${version}`;
}

/** What applying one report did. */
export type ApplyOutcome = 'applied' | 'out_of_order';

/** The routing table (see the module comment for the accounting). */
export class RoutingTable {
  private readonly routes = new Map<string, Route>();
  private readonly instances = new Map<string, InstanceRoute>();
  private readonly byAddress = new Map<string, InstanceRoute>();
  private readonly environments = new Map<string, EnvironmentRoute>();
  private readonly now: () => number;
  private readonly random: () => number;
  readonly staleMs: number;
  private readonly pressureBackoffMs: number;

  constructor(private readonly options: RoutingTableOptions) {
    this.staleMs = options.staleMs;
    this.pressureBackoffMs = options.pressureBackoffMs ?? 250;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** The route of a (function, version), if any EE of it is known. */
  route(functionName: string, version: string): Route | undefined {
    return this.routes.get(routeKey(functionName, version));
  }

  /** The route of a key, if any. */
  routeByKey(key: string): Route | undefined {
    return this.routes.get(key);
  }

  /** Number of EEs in the table. */
  get size(): number {
    return this.environments.size;
  }

  /** An EE by id. */
  environment(environmentId: string): EnvironmentRoute | undefined {
    return this.environments.get(environmentId);
  }

  /**
   * Applies an instance's report: its Ready EEs are added or refreshed, and
   * the EEs it listed before but not now (or not as Ready) leave the table.
   */
  applyReport(report: LoadReport): ApplyOutcome {
    const now = this.now();
    let instance = this.instances.get(report.instanceId);
    if (instance && report.at < instance.lastAt) return 'out_of_order';
    if (!instance) {
      instance = new InstanceRoute(report.instanceId, report.agentAddress);
      this.instances.set(report.instanceId, instance);
      this.attachAddress(instance);
    } else if (instance.agentAddress !== report.agentAddress) {
      // The agent restarted on another port: its EEs are new processes anyway, but the ids stay.
      this.detachAddress(instance);
      instance.agentAddress = report.agentAddress;
      this.attachAddress(instance);
    }
    instance.lastAt = report.at;
    instance.lastSeen = now;
    instance.zone = report.zone;
    instance.capacityProviderArn = report.capacityProviderArn;

    const touched = new Set<string>();
    const listed = new Set<string>();
    for (const load of report.environments) {
      if (load.state !== 'Ready') continue;
      listed.add(load.environmentId);
      const entry = this.upsert(instance, load);
      entry.reportedAt = now;
      entry.reportedInFlight = load.inFlight;
      entry.others = Math.max(0, load.inFlight - entry.own);
      entry.functionArn = load.functionArn;
      entry.revisionId = load.revisionId;
      if (entry.maxConcurrency !== load.maxConcurrency) {
        entry.maxConcurrency = load.maxConcurrency;
        entry.route.invalidate();
      }
      touched.add(entry.route.key);
    }
    for (const [environmentId, entry] of instance.environments) {
      if (!listed.has(environmentId)) this.remove(entry);
    }
    for (const key of touched) this.options.onCapacity?.(key);
    return 'applied';
  }

  /** Drops EEs (and instances) whose reports stopped `staleMs` ago. Returns how many EEs left. */
  sweep(): number {
    const horizon = this.now() - this.staleMs;
    let removed = 0;
    for (const entry of this.environments.values()) {
      if (entry.reportedAt <= horizon) {
        this.remove(entry);
        removed += 1;
      }
    }
    for (const instance of this.instances.values()) {
      if (instance.lastSeen <= horizon && instance.environments.size === 0) {
        this.instances.delete(instance.instanceId);
        this.detachAddress(instance);
      }
    }
    return removed;
  }

  /** True while a report listed the EE within `staleMs` (the sweep may not have run yet). */
  isFresh(entry: EnvironmentRoute, now: number): boolean {
    return entry.reportedAt > now - this.staleMs;
  }

  /** Takes a slot on an EE before anything is sent to it. */
  reserve(entry: EnvironmentRoute): Reservation {
    entry.own += 1;
    entry.route.ownTotal += 1;
    return { entry, released: false };
  }

  /** Gives a slot back (idempotent); a finished invocation's duration feeds the route's average. */
  release(reservation: Reservation, durationMs?: number): void {
    if (reservation.released) return;
    reservation.released = true;
    const { entry } = reservation;
    entry.own -= 1;
    entry.route.ownTotal -= 1;
    if (durationMs !== undefined) entry.route.recordDuration(durationMs);
    if (entry.inTable) this.options.onCapacity?.(entry.route.key);
  }

  /**
   * Learns from an agent's refusal: a concurrency refusal means the EE is full
   * (other routers' work the last report did not show yet), a pressure refusal
   * keeps the EE out for `pressureBackoffMs`, and an EE the agent no longer
   * runs leaves the table until a report lists it again.
   */
  refused(entry: EnvironmentRoute, reason: RefusalReason): void {
    if (!entry.inTable) return;
    switch (reason) {
      case 'ConcurrencyLimit':
        entry.others = Math.max(entry.others, entry.maxConcurrency - entry.own);
        break;
      case 'CPUPressure':
      case 'MemoryPressure':
        entry.blockedUntil = this.now() + this.pressureBackoffMs;
        entry.blockedReason = reason;
        break;
      case 'NotReady':
      case 'UnknownEnvironment':
        this.remove(entry);
        break;
      case 'AgentUnavailable':
      case 'AgentStreamFull':
        // The agent pool reports stream state through setAgentUp; nothing to learn about the EE.
        break;
    }
  }

  /** Records whether the router has an open stream to an agent. */
  setAgentUp(address: string, up: boolean): void {
    const instance = this.byAddress.get(address);
    if (!instance || instance.agentUp === up) return;
    instance.agentUp = up;
    if (!up) return;
    const keys = new Set<string>();
    for (const entry of instance.environments.values()) keys.add(entry.route.key);
    for (const key of keys) this.options.onCapacity?.(key);
  }

  /** The table as rows, optionally for one function. */
  describe(functionName?: string): RouteRow[] {
    const now = this.now();
    const rows: RouteRow[] = [];
    for (const route of this.routes.values()) {
      if (functionName !== undefined && functionName !== '' && route.functionName !== functionName) continue;
      for (const entry of route.byOrdinal()) {
        rows.push({
          functionName: route.functionName,
          version: route.version,
          environmentId: entry.environmentId,
          instanceId: entry.instance.instanceId,
          agentAddress: entry.instance.agentAddress,
          inFlight: entry.load,
          maxConcurrency: entry.maxConcurrency,
          reportAgeMs: Math.max(0, now - entry.reportedAt),
        });
      }
    }
    return rows.sort((a, b) =>
      a.functionName === b.functionName
        ? a.version === b.version
          ? a.environmentId.localeCompare(b.environmentId)
          : a.version.localeCompare(b.version)
        : a.functionName.localeCompare(b.functionName),
    );
  }

  private upsert(instance: InstanceRoute, load: EnvironmentLoad): EnvironmentRoute {
    const key = routeKey(load.functionName, load.version);
    const existing = this.environments.get(load.environmentId);
    if (existing && existing.instance === instance && existing.route.key === key) return existing;
    if (existing) this.remove(existing);
    let route = this.routes.get(key);
    if (!route) {
      route = new Route(key, load.functionName, load.version);
      this.routes.set(key, route);
    }
    const entry = new EnvironmentRoute(load.environmentId, route, instance, this.random());
    entry.index = route.entries.length;
    route.entries.push(entry);
    route.invalidate();
    instance.environments.set(entry.environmentId, entry);
    this.environments.set(entry.environmentId, entry);
    return entry;
  }

  private remove(entry: EnvironmentRoute): void {
    if (!entry.inTable) return;
    entry.inTable = false;
    const { route } = entry;
    const last = route.entries.pop() as EnvironmentRoute;
    if (last !== entry) {
      route.entries[entry.index] = last;
      last.index = entry.index;
    }
    route.invalidate();
    if (route.entries.length === 0) this.routes.delete(route.key);
    entry.instance.environments.delete(entry.environmentId);
    if (this.environments.get(entry.environmentId) === entry) this.environments.delete(entry.environmentId);
  }

  private attachAddress(instance: InstanceRoute): void {
    const previous = this.byAddress.get(instance.agentAddress);
    // An address reused by a new instance (an agent replaced on the same port): the newest owns it.
    if (previous && previous !== instance) previous.agentUp = false;
    this.byAddress.set(instance.agentAddress, instance);
    instance.agentUp = this.options.onAgentSeen?.(instance.agentAddress) ?? true;
  }

  private detachAddress(instance: InstanceRoute): void {
    if (this.byAddress.get(instance.agentAddress) !== instance) return;
    this.byAddress.delete(instance.agentAddress);
    this.options.onAgentGone?.(instance.agentAddress);
  }
}
