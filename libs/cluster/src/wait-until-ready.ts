/**
 * Polls a readiness probe until it passes, the process behind it dies, or a
 * deadline passes; the error then says which, with the process's last output.
 */
import type { ManagedProcess } from './managed-process.js';

/** What to wait for. */
export interface ReadinessOptions {
  /** Human name of what becomes ready, e.g. `Postgres on 127.0.0.1:5433`. */
  what: string;
  /**
   * One attempt; resolves when ready, rejects (or resolves false) when not yet.
   * Gets the milliseconds left before the deadline so it can bound its own I/O.
   */
  probe: (remainingMs: number) => Promise<boolean | void>;
  /** The process serving it: if it exits, waiting stops at once. Default none. */
  process?: ManagedProcess;
  /** Deadline in milliseconds from now. */
  timeoutMs: number;
  /** Pause between attempts in milliseconds. Default 50. */
  intervalMs?: number;
}

/** Waits until `probe` passes; throws with the reason and the process's output tail otherwise. */
export async function waitUntilReady(options: ReadinessOptions): Promise<void> {
  const { what, probe, process: child, timeoutMs, intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no attempt finished';
  for (;;) {
    if (child && !child.running) {
      const status = child.exitStatus;
      const how = status?.signal ? `was killed by ${status.signal}` : `exited with code ${status?.code}`;
      throw new Error(`${what}: ${child.name} ${how} before it was ready.\n${child.describeOutput()}`);
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const output = child ? `\n${child.describeOutput()}` : '';
      throw new Error(`${what} was not ready within ${timeoutMs} ms (last attempt: ${lastError}).${output}`);
    }
    try {
      if ((await probe(remaining)) !== false) return;
      lastError = 'not ready yet';
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
