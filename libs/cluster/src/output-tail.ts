/**
 * Bounded memory of a child process's output: the last lines, for error
 * messages, never the whole output (a chatty child would otherwise grow the
 * parent's heap without limit; the full output goes to a log file).
 */

/** Longest line kept, in characters; longer lines are cut and marked. */
export const maxLineLength = 4_000;

/** Last `capacity` lines written to it (default 80). */
export class OutputTail {
  private readonly lines: string[] = [];

  constructor(private readonly capacity = 80) {}

  /** Remembers a line, forgetting the oldest when full. */
  push(line: string): void {
    this.lines.push(line.length > maxLineLength ? `${line.slice(0, maxLineLength)}…[cut]` : line);
    if (this.lines.length > this.capacity) this.lines.shift();
  }

  /** The remembered lines, oldest first, joined by newlines (at most `limit`, default all). */
  text(limit = this.capacity): string {
    return this.lines.slice(-limit).join('\n');
  }
}

/**
 * Splits a byte stream into lines. A line without a newline is emitted once it
 * exceeds `maxLineLength`, so the partial-line buffer stays bounded too.
 */
export class LineSplitter {
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  /** Feeds a chunk; calls `onLine` for every complete line in it. */
  write(chunk: Buffer | string): void {
    let text = this.partial + chunk.toString();
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      this.onLine(text.slice(0, newline).replace(/\r$/, ''));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    while (text.length > maxLineLength) {
      this.onLine(text.slice(0, maxLineLength));
      text = text.slice(maxLineLength);
    }
    this.partial = text;
  }

  /** Emits what is left as a last line (at end of stream). */
  flush(): void {
    if (this.partial !== '') this.onLine(this.partial);
    this.partial = '';
  }
}
