import { createWriteStream, openSync, renameSync, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';

/** Options of createOutputCapture. */
export interface OutputCaptureOptions {
  /** The log file (`<environment dir>/output.log`); the previous one is kept as `<file>.1`. */
  file: string;
  environmentId: string;
  functionName: string;
  version: string;
  /** Size at which the file rotates, bytes. Default 8 MiB (so at most 16 MiB per EE on disk). */
  maxFileBytes?: number;
  /** Longest line kept; longer lines are cut and marked `truncated`. Default 64 KiB. */
  maxLineBytes?: number;
  /** How much of each stream's most recent output is kept in memory for error reasons, bytes. Default 8 KiB. */
  tailBytes?: number;
  /** Most bytes waiting to be written before lines are dropped (and counted). Default 1 MiB. */
  maxBacklogBytes?: number;
  /**
   * Receives every captured line as it is recorded (the agent publishes it to
   * the function log stream). Must not block or throw; independent of the file,
   * so a full disk does not stop it. Default: none.
   */
  onLine?: (line: CapturedLine) => void;
}

/** One captured output line, as written to output.log. */
export interface CapturedLine {
  /** Capture time, ISO-8601. */
  time: string;
  environmentId: string;
  function: string;
  version: string;
  stream: 'stdout' | 'stderr';
  requestId?: string;
  level?: string;
  message: string;
  truncated?: boolean;
  [extra: string]: unknown;
}

/** Captured output of one EE process. */
export interface OutputCapture {
  /** Reads a stream of the EE process line by line until it ends. */
  attach(stream: Readable, name: 'stdout' | 'stderr'): void;
  /** The most recent output of a stream (default stderr), at most `tailBytes`. */
  tail(name?: 'stdout' | 'stderr'): string;
  /** Lines dropped because the disk could not keep up. */
  readonly dropped: number;
  /** Flushes and closes the file. Idempotent. */
  close(): Promise<void>;
}

interface Tail {
  lines: string[];
  bytes: number;
}

/**
 * Captures an EE's stdout and stderr as one JSON line per output line in its
 * output.log: time, environmentId, function, version, stream, and the requestId,
 * level and message when the runtime printed a JSON line carrying them (Hearth's
 * runtimes do, from the invocation's context). Bounded every way: lines are cut
 * at maxLineBytes, the file rotates at maxFileBytes keeping one previous file,
 * a slow disk drops lines with a counter instead of buffering without end, and
 * the in-memory tail used for error reasons keeps only the last tailBytes.
 */
export function createOutputCapture(options: OutputCaptureOptions): OutputCapture {
  const maxFileBytes = options.maxFileBytes ?? 8 * 1024 * 1024;
  const maxLineBytes = options.maxLineBytes ?? 64 * 1024;
  const tailBytes = options.tailBytes ?? 8 * 1024;
  const maxBacklog = options.maxBacklogBytes ?? 1024 * 1024;
  const tails: Record<'stdout' | 'stderr', Tail> = { stdout: { lines: [], bytes: 0 }, stderr: { lines: [], bytes: 0 } };
  let dropped = 0;
  let file: WriteStream | undefined = open();
  let fileBytes = 0;
  let closing: Promise<void> | undefined;

  function open(): WriteStream | undefined {
    let fd: number;
    try {
      // Opened synchronously, so the path exists at once and a rotation can rename it.
      fd = openSync(options.file, 'a', 0o600);
    } catch {
      return undefined;
    }
    const stream = createWriteStream('', { fd });
    stream.on('error', () => {
      // A full or vanished disk must not take the agent down; lines are lost, and counted.
      dropped += 1;
    });
    return stream;
  }

  function remember(name: 'stdout' | 'stderr', line: string): void {
    const tail = tails[name];
    const text = line.length > tailBytes ? line.slice(-tailBytes) : line;
    tail.lines.push(text);
    tail.bytes += text.length + 1;
    while (tail.bytes > tailBytes && tail.lines.length > 1) tail.bytes -= (tail.lines.shift() as string).length + 1;
  }

  function write(name: 'stdout' | 'stderr', line: string, truncated: boolean): void {
    remember(name, line);
    if (closing) return;
    const record: CapturedLine = {
      time: new Date().toISOString(),
      environmentId: options.environmentId,
      function: options.functionName,
      version: options.version,
      stream: name,
      ...fromRuntimeLine(line),
    };
    if (truncated) record.truncated = true;
    if (options.onLine) {
      try {
        options.onLine(record);
      } catch {
        // A sink's bug must not cost the EE its output file.
      }
    }
    if (!file || file.writableLength > maxBacklog) {
      dropped += 1;
      return;
    }
    const text = `${JSON.stringify(record)}\n`;
    file.write(text);
    fileBytes += Buffer.byteLength(text);
    if (fileBytes >= maxFileBytes) rotate();
  }

  function rotate(): void {
    file?.end();
    try {
      renameSync(options.file, `${options.file}.1`);
    } catch {
      // Nothing to keep: carry on with a fresh file either way.
    }
    file = open();
    fileBytes = 0;
  }

  return {
    attach(stream, name) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const part of parts) {
          const truncated = part.length > maxLineBytes;
          write(name, truncated ? part.slice(0, maxLineBytes) : part, truncated);
        }
        if (partial.length > maxLineBytes) {
          write(name, partial.slice(0, maxLineBytes), true);
          partial = '';
        }
      });
      stream.on('end', () => {
        if (partial !== '') write(name, partial, false);
        partial = '';
      });
      stream.on('error', () => undefined);
    },
    tail(name = 'stderr') {
      return tails[name].lines.join('\n');
    },
    get dropped() {
      return dropped;
    },
    close() {
      closing ??= new Promise<void>((resolve) => (file ? file.end(() => resolve()) : resolve()));
      return closing;
    },
  };
}

/** requestId, level and message of a JSON line a runtime printed; the raw line as message otherwise. */
function fromRuntimeLine(line: string): { message: string; [field: string]: unknown } {
  if (line.startsWith('{')) {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed && typeof parsed === 'object') {
        const fields: { message: string; [field: string]: unknown } = { message: line };
        if (typeof parsed.requestId === 'string') fields.requestId = parsed.requestId;
        if (typeof parsed.level === 'string') fields.level = parsed.level;
        fields.message = typeof parsed.message === 'string' ? parsed.message : line;
        for (const key of ['errorType', 'errorMessage', 'stackTrace']) if (key in parsed) fields[key] = parsed[key];
        return fields;
      }
    } catch {
      // not JSON after all
    }
  }
  return { message: line };
}
