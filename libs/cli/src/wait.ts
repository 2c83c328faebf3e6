import { CliError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';
import { pause } from './io.js';

/** Options every command that waits for a resource to settle shares. */
export const waitOptions = {
  'no-wait': { type: 'boolean', help: 'return at once instead of waiting for the change to finish' },
  'wait-timeout': { type: 'string', value: 'SECONDS', help: 'how long to wait (default 120)' },
} as const;

/** Default of `--wait-timeout`. */
export const defaultWaitSeconds = 120;

/**
 * Polls `probe` every 250 ms until it answers true. Past `timeoutSeconds`
 * the wait fails with `what` in the message (exit 1); Ctrl-C ends it with
 * exit 130.
 */
export async function waitUntil(io: CliIo, what: string, timeoutSeconds: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = io.now() + timeoutSeconds * 1000;
  while (!(await probe())) {
    if (io.now() > deadline) throw new CliError(`${what} after ${timeoutSeconds} s`, ExitCode.Failure);
    await pause(250, io.interrupt);
    if (io.interrupt.aborted) throw new CliError(`interrupted while waiting: ${what}`, ExitCode.Interrupted);
  }
}

/** True when `error` is the API's ResourceNotFoundException (the resource is gone). */
export function isNotFound(error: unknown): boolean {
  return (error as { name?: unknown }).name === 'ResourceNotFoundException';
}
