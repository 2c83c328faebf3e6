import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createOutputCapture } from '../src/output-capture.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function capture(options: { maxFileBytes?: number; maxLineBytes?: number; tailBytes?: number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'hearth-output-'));
  dirs.push(dir);
  const file = join(dir, 'output.log');
  const output = createOutputCapture({ file, environmentId: 'ee-1', functionName: 'fn', version: '2', ...options });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  output.attach(stdout, 'stdout');
  output.attach(stderr, 'stderr');
  return { file, output, stdout, stderr };
}

const lines = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

describe('output capture', () => {
  it('writes one JSON line per output line, lifting requestId, level and message from runtime JSON', async () => {
    const { file, output, stdout, stderr } = await capture();
    stdout.write('{"timestamp":"t","level":"INFO","requestId":"r-1","message":"hello"}\nplain ');
    stdout.write('text\n');
    stderr.end('oops\n');
    stdout.end();
    await new Promise((resolve) => setImmediate(resolve));
    await output.close();
    expect(await lines(file)).toEqual([
      expect.objectContaining({ environmentId: 'ee-1', function: 'fn', version: '2', stream: 'stdout', requestId: 'r-1', level: 'INFO', message: 'hello' }),
      expect.objectContaining({ stream: 'stdout', message: 'plain text' }),
      expect.objectContaining({ stream: 'stderr', message: 'oops' }),
    ]);
    expect(output.tail()).toBe('oops');
    expect(output.tail('stdout')).toContain('plain text');
  });

  it('cuts long lines, keeps a bounded tail and rotates the file', async () => {
    const { file, output, stdout, stderr } = await capture({ maxFileBytes: 4_000, maxLineBytes: 100, tailBytes: 50 });
    stdout.write(`${'x'.repeat(300)}\n`);
    for (let i = 0; i < 40; i += 1) stderr.write(`line ${i}\n`);
    stdout.end();
    stderr.end();
    await new Promise((resolve) => setImmediate(resolve));
    await output.close();
    const rotated = await lines(`${file}.1`);
    expect(rotated[0]).toMatchObject({ truncated: true, message: 'x'.repeat(100) });
    expect((await readFile(file, 'utf8')).length).toBeLessThan(4_000);
    expect((await lines(file)).at(-1)).toMatchObject({ stream: 'stderr', message: 'line 39' });
    expect(output.tail().length).toBeLessThanOrEqual(50);
    expect(output.tail().endsWith('line 39')).toBe(true);
  });
});

describe('output capture line sink', () => {
  it('hands every captured line to onLine, even when the file cannot be written', async () => {
    const seen: Array<Record<string, unknown>> = [];
    const output = createOutputCapture({
      file: join(tmpdir(), 'hearth-no-such-dir', 'deeper', 'output.log'),
      environmentId: 'ee-9',
      functionName: 'fn',
      version: '3',
      onLine: (line) => seen.push(line),
    });
    const stdout = new PassThrough();
    output.attach(stdout, 'stdout');
    stdout.end('{"level":"WARN","requestId":"r-9","message":"careful"}\nplain\n');
    await new Promise((resolve) => setImmediate(resolve));
    await output.close();
    expect(seen).toEqual([
      expect.objectContaining({ environmentId: 'ee-9', function: 'fn', version: '3', stream: 'stdout', requestId: 'r-9', level: 'WARN', message: 'careful' }),
      expect.objectContaining({ stream: 'stdout', message: 'plain' }),
    ]);
    expect(seen[1]).not.toHaveProperty('requestId');
    expect(output.dropped).toBe(2);
  });
});
