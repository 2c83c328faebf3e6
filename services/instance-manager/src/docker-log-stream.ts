/**
 * Reading a container's output from `GET /containers/{id}/logs`. A container
 * created without a TTY (as agent containers are) answers with Docker's
 * multiplexed stream: frames of an 8-byte header — stream type (1 stdout,
 * 2 stderr), three zero bytes, payload size as a big-endian uint32 — then the
 * payload. Frames do not follow line boundaries, so lines are cut per stream.
 */

/** Longest line kept, in characters; a longer one is emitted in pieces, so buffers stay bounded. */
export const maxLogLineLength = 4_000;

/** Splits Docker's multiplexed log stream into lines, stdout and stderr each on their own. */
export class DockerLogDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  private readonly partial = new Map<number, string>();

  constructor(private readonly onLine: (line: string, stream: 'stdout' | 'stderr') => void) {}

  /** Feeds bytes as they arrive. */
  write(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const type = this.pending[0] ?? 1;
      const payload = this.pending.subarray(8, 8 + size).toString('utf8');
      this.pending = this.pending.subarray(8 + size);
      this.text(type, payload);
    }
  }

  /** Emits unterminated last lines (at the end of the stream). */
  flush(): void {
    for (const [type, text] of this.partial) if (text !== '') this.onLine(text, streamName(type));
    this.partial.clear();
  }

  private text(type: number, payload: string): void {
    let text = (this.partial.get(type) ?? '') + payload;
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      this.onLine(text.slice(0, newline).replace(/\r$/, ''), streamName(type));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    while (text.length > maxLogLineLength) {
      this.onLine(text.slice(0, maxLogLineLength), streamName(type));
      text = text.slice(maxLogLineLength);
    }
    this.partial.set(type, text);
  }
}

function streamName(type: number): 'stdout' | 'stderr' {
  return type === 2 ? 'stderr' : 'stdout';
}

/** One frame of the multiplexed stream (for tests and fakes of the daemon). */
export function dockerLogFrame(stream: 'stdout' | 'stderr', text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream === 'stderr' ? 2 : 1;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** The last lines of a container's output, in memory (the daemon keeps the full log). */
export class LogTail {
  private readonly lines: string[] = [];

  constructor(private readonly capacity = 200) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.shift();
  }

  /** The last `limit` lines, oldest first. */
  text(limit = this.capacity): string {
    return this.lines.slice(-limit).join('\n');
  }
}
