/**
 * A log file that cannot fill the disk: lines are appended to `<path>` until
 * it reaches half the budget, then it becomes `<path>.1` (replacing the older
 * one) and a new `<path>` starts, so the pair never holds much more than
 * `maxBytes`. Writing never blocks the caller: when the disk falls behind by
 * more than `maxBufferedBytes`, lines are dropped and the count is written
 * once the writer catches up.
 */
import { createWriteStream, mkdirSync, openSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

/** Options of BoundedLogFile. */
export interface BoundedLogFileOptions {
  /** The file written (its predecessor is `<path>.1`). */
  path: string;
  /** Bytes the file and its predecessor may hold together. Default 10 MiB. */
  maxBytes?: number;
  /** Bytes waiting for the disk beyond which lines are dropped (and counted). Default 1 MiB. */
  maxBufferedBytes?: number;
}

/** An append-only, size-bounded, non-blocking line log. */
export class BoundedLogFile {
  /** The file being written. */
  readonly path: string;
  private readonly maxFileBytes: number;
  private readonly maxBufferedBytes: number;
  private stream: WriteStream;
  private fileBytes: number;
  private droppedSinceLastWrite = 0;
  private droppedTotal = 0;
  private closed: Promise<void> | undefined;

  constructor(options: BoundedLogFileOptions) {
    this.path = options.path;
    this.maxFileBytes = Math.max(1, Math.floor((options.maxBytes ?? 10 * 1024 * 1024) / 2));
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    mkdirSync(dirname(this.path), { recursive: true });
    this.fileBytes = sizeOf(this.path);
    this.stream = this.open();
  }

  /** Lines dropped because the disk fell behind. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Appends one line (a newline is added). Never throws; ignored once closed. */
  write(line: string): void {
    if (this.closed) return;
    if (this.stream.writableLength > this.maxBufferedBytes) {
      this.droppedSinceLastWrite += 1;
      this.droppedTotal += 1;
      return;
    }
    try {
      if (this.droppedSinceLastWrite > 0) {
        const note = `[hearth] ${this.droppedSinceLastWrite} lines dropped: the log writer fell behind`;
        this.droppedSinceLastWrite = 0;
        this.append(note);
      }
      this.append(line);
    } catch {
      // A rotation could not open the new file (disk gone, permissions): losing log lines beats losing the agent.
      this.droppedSinceLastWrite += 1;
      this.droppedTotal += 1;
    }
  }

  /** Flushes what is buffered and closes the file. Idempotent. */
  close(): Promise<void> {
    this.closed ??= new Promise((resolve) => this.stream.end(resolve));
    return this.closed;
  }

  private append(line: string): void {
    const text = `${line}\n`;
    const bytes = Buffer.byteLength(text);
    if (this.fileBytes > 0 && this.fileBytes + bytes > this.maxFileBytes) this.rotate();
    this.stream.write(text);
    this.fileBytes += bytes;
  }

  private rotate(): void {
    // The old stream keeps its descriptor, so writes still queued on it land in `.1` after the rename.
    this.stream.end();
    try {
      renameSync(this.path, `${this.path}.1`);
    } catch {
      // Nothing to rotate (the file was removed under us): start afresh all the same.
    }
    this.fileBytes = 0;
    this.stream = this.open();
  }

  private open(): WriteStream {
    // Opened synchronously: a rotation renames the file, which must then be the one this stream writes to.
    const stream = createWriteStream(this.path, { fd: openSync(this.path, 'a') });
    stream.on('error', () => {}); // a full or vanished disk must not crash the manager
    return stream;
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
