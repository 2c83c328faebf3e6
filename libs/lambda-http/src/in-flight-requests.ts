import type { ServerResponse } from 'node:http';

/**
 * The requests being served, so a graceful close can wait for them, tell
 * their clients not to reuse the connection, and abort what is left when the
 * grace period ends.
 */
export class InFlightRequests {
  private readonly requests = new Map<AbortController, ServerResponse>();
  private readonly idleWaiters = new Set<() => void>();

  /** Registers a request until `done` is called with the same controller. */
  start(controller: AbortController, res: ServerResponse): void {
    this.requests.set(controller, res);
  }

  /** Unregisters a finished request; wakes a close waiting for the last one. */
  done(controller: AbortController): void {
    this.requests.delete(controller);
    if (this.requests.size === 0) for (const wake of this.idleWaiters) wake();
  }

  /** Adds `Connection: close` to every answer not yet started. */
  closeConnectionsAfterAnswer(): void {
    for (const res of this.requests.values()) if (!res.headersSent) res.setHeader('Connection', 'close');
  }

  /** Resolves when no request is in flight, or after `timeoutMs`, whichever is first. */
  async waitUntilIdle(timeoutMs: number): Promise<void> {
    if (this.requests.size === 0) return;
    let wake: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve) => {
        wake = resolve;
        this.idleWaiters.add(resolve);
        timer = setTimeout(resolve, timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      if (wake) this.idleWaiters.delete(wake);
    }
  }

  /** Aborts the signal of every request still in flight. */
  abortAll(reason: unknown): void {
    for (const controller of this.requests.keys()) controller.abort(reason);
  }
}
