import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BoundedLogFile } from '../src/bounded-log-file.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('BoundedLogFile', () => {
  it('rotates into <path>.1 so the pair stays within maxBytes, keeping the newest lines', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-log-'));
    const path = join(dir, 'sub', 'agent.log');
    const log = new BoundedLogFile({ path, maxBytes: 4_000 });
    for (let i = 0; i < 500; i += 1) log.write(`line ${String(i).padStart(4, '0')} ${'x'.repeat(40)}`);
    await log.close();
    const total = statSync(path).size + statSync(`${path}.1`).size;
    expect(total).toBeLessThanOrEqual(4_000);
    const newest = readFileSync(path, 'utf8').trimEnd().split('\n').at(-1);
    expect(newest).toMatch(/^line 0499 x+$/);
    log.write('after close is ignored');
    expect(log.dropped).toBe(0);
  });

  it('drops and counts lines while the disk is behind, then says how many', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-log-'));
    const path = join(dir, 'agent.log');
    const log = new BoundedLogFile({ path, maxBufferedBytes: 100 });
    // Synchronous writes outrun the stream: everything past the buffer bound is dropped.
    for (let i = 0; i < 50; i += 1) log.write(`line ${i} ${'y'.repeat(50)}`);
    expect(log.dropped).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    log.write('caught up');
    await log.close();
    const text = readFileSync(path, 'utf8');
    expect(text).toContain(`[hearth] ${log.dropped} lines dropped: the log writer fell behind\ncaught up\n`);
  });
});
