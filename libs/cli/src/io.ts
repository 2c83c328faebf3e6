/** Where a command reads and writes; the real process in `main.ts`, buffers in tests. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Read by `--payload -`. */
  readonly stdin: AsyncIterable<Uint8Array | string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths (`--zip`, `--payload @file`) are resolved against it. */
  readonly cwd: string;
  /** Aborted on the first Ctrl-C / SIGTERM: long waits (`publish`, `logs --follow`) end cleanly. */
  readonly interrupt: AbortSignal;
  /**
   * Takes over SIGINT / SIGTERM / SIGHUP (for `hearth up`, which forwards each
   * one to its child exactly once); returns the function that gives them back.
   * Absent where there is no process to signal (tests).
   */
  readonly takeSignals?: (listener: (signal: NodeJS.Signals) => void) => () => void;
  /** Milliseconds since the epoch; injectable so tests can pin time. */
  now(): number;
}

/** Reads a stream to its end as bytes. */
export async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return new Uint8Array(Buffer.concat(chunks));
}

/** Waits `ms`, or less when `signal` aborts first (never rejects). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
