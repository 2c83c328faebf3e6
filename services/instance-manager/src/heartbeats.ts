/**
 * The latest heartbeat of each instance this process watches, and which of
 * them have gone quiet. Heartbeats are live data (plain NATS, not events):
 * only the newest matters, so one entry per watched instance is kept and
 * heartbeats of instances not watched are counted and dropped — the map is
 * bounded by the number of instances this process runs.
 *
 * Silence is measured on this host's clock from when a heartbeat arrived (an
 * agent's `at` may come from another clock), and never across an outage of
 * our own NATS connection: while it is down nothing is judged, and after it
 * comes back every instance gets a full timeout to be heard again, so a
 * broken link on our side does not condemn a healthy fleet.
 */
import type { EnvironmentHeartbeat, InstanceHeartbeat } from '@hearth/fleet/agent-wire';

/** One EE as an agent reports it in its heartbeat (the shape agents write: @hearth/fleet/agent-wire). */
export type HeartbeatEnvironment = EnvironmentHeartbeat;

/** What an agent publishes every second on `instance.<instanceId>.heartbeat`. */
export type AgentHeartbeat = InstanceHeartbeat;

/** The newest heartbeat of a watched instance. */
export interface LatestHeartbeat {
  /** When it arrived here, epoch ms (the watch start when none arrived yet). */
  receivedAt: number;
  /** The heartbeat itself; undefined until the first one arrives. */
  heartbeat: AgentHeartbeat | undefined;
}

/** An instance not heard from for longer than the timeout. */
export interface SilentInstance {
  instanceId: string;
  /** Milliseconds since it was last heard from (or watched, or our link came back). */
  silentMs: number;
}

/** Options of HeartbeatTracker. */
export interface HeartbeatTrackerOptions {
  /** The clock, epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** Latest heartbeats of the watched instances. */
export class HeartbeatTracker {
  private readonly now: () => number;
  private readonly entries = new Map<string, LatestHeartbeat>();
  private linkUp = true;
  private linkUpSince = 0;
  private ignoredCount = 0;
  private malformedCount = 0;

  constructor(options: HeartbeatTrackerOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Heartbeats dropped because their instance is not watched here. */
  get ignored(): number {
    return this.ignoredCount;
  }

  /** Heartbeats dropped because they were not of the expected shape. */
  get malformed(): number {
    return this.malformedCount;
  }

  /** Number of watched instances. */
  get size(): number {
    return this.entries.size;
  }

  /** Starts judging an instance; it counts as heard from now. */
  watch(instanceId: string): void {
    this.entries.set(instanceId, { receivedAt: this.now(), heartbeat: undefined });
  }

  /** Stops judging an instance and forgets its heartbeat. */
  forget(instanceId: string): void {
    this.entries.delete(instanceId);
  }

  /**
   * Records a heartbeat received on `instance.<subjectInstanceId>.heartbeat`;
   * false when it is dropped (unknown instance, or a payload that is not a
   * heartbeat of that instance).
   */
  record(subjectInstanceId: string, payload: unknown): boolean {
    const entry = this.entries.get(subjectInstanceId);
    if (!entry) {
      this.ignoredCount += 1;
      return false;
    }
    if (!isHeartbeat(payload) || payload.instanceId !== subjectInstanceId) {
      this.malformedCount += 1;
      return false;
    }
    entry.receivedAt = this.now();
    entry.heartbeat = payload;
    return true;
  }

  /** The newest heartbeat of a watched instance, or undefined when not watched. */
  latest(instanceId: string): LatestHeartbeat | undefined {
    return this.entries.get(instanceId);
  }

  /** Our NATS connection is down: stop judging until it is back. */
  linkLost(): void {
    this.linkUp = false;
  }

  /** Our NATS connection is back: judge again, from now. */
  linkRestored(): void {
    this.linkUp = true;
    this.linkUpSince = this.now();
  }

  /** Watched instances silent for longer than `timeoutMs`; none while our link is down. */
  silent(timeoutMs: number): SilentInstance[] {
    if (!this.linkUp) return [];
    const now = this.now();
    const found: SilentInstance[] = [];
    for (const [instanceId, entry] of this.entries) {
      const silentMs = now - Math.max(entry.receivedAt, this.linkUpSince);
      if (silentMs > timeoutMs) found.push({ instanceId, silentMs });
    }
    return found;
  }
}

function isHeartbeat(value: unknown): value is AgentHeartbeat {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<AgentHeartbeat>;
  return typeof candidate.instanceId === 'string' && typeof candidate.at === 'number' && Array.isArray(candidate.environments);
}
