/**
 * How long to wait before restarting a crashed service: exponential, capped,
 * and forgiven once the service has stayed up for a while, so a crash loop
 * does not spin the CPU while a service that crashes once a day restarts fast.
 */

/** Restart delay policy. */
export interface RestartBackoffPolicy {
  /** First delay in milliseconds. Default 500. */
  initialMs?: number;
  /** Largest delay in milliseconds. Default 30000. */
  maxMs?: number;
  /** Uptime in milliseconds after which the next crash starts again from `initialMs`. Default 60000. */
  resetAfterMs?: number;
}

/** The delays for one service's successive restarts. */
export class RestartBackoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly resetAfterMs: number;
  private nextDelayMs: number;

  constructor(policy: RestartBackoffPolicy = {}) {
    this.initialMs = policy.initialMs ?? 500;
    this.maxMs = policy.maxMs ?? 30_000;
    this.resetAfterMs = policy.resetAfterMs ?? 60_000;
    this.nextDelayMs = this.initialMs;
  }

  /** The delay before the next start, given how long the last run stayed up (0 when it never got ready). */
  next(uptimeMs: number): number {
    if (uptimeMs >= this.resetAfterMs) this.nextDelayMs = this.initialMs;
    const delay = this.nextDelayMs;
    this.nextDelayMs = Math.min(this.maxMs, this.nextDelayMs * 2);
    return delay;
  }
}
