import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { EnvironmentFailure } from '../src/environment-failure.js';
import { extractPackage, safeEntryPath, unixModes } from '../src/package-unzip.js';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hearth-unzip-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('safeEntryPath', () => {
  it.each([
    ['index.js', 'index.js'],
    ['src/app/handler.js', 'src/app/handler.js'],
    ['./a//b', 'a/b'],
    ['win\\style\\file.py', 'win/style/file.py'],
  ])('keeps %s as %s', (name, path) => {
    expect(safeEntryPath(name)).toEqual({ path });
  });

  it.each(['../evil', 'a/../../evil', '/etc/passwd', '\\evil', 'C:/evil', 'a\\..\\..\\evil', 'nul\0byte'])('refuses %s', (name) => {
    expect(safeEntryPath(name)).toHaveProperty('error');
  });
});

describe('extractPackage', () => {
  it('writes files and directories read-only for others, keeping executable bits', async () => {
    const zip = zipSync({
      'index.mjs': strToU8('export const handler = 1;'),
      'bin/': new Uint8Array(0),
      'bin/tool': [strToU8('#!/bin/sh\n'), { os: 3, attrs: 0o100755 << 16 }],
    });
    expect(unixModes(zip).get('bin/tool')).toBe(0o755);
    const dir = await freshDir();
    await expect(extractPackage(zip, dir)).resolves.toEqual({ files: 2, bytes: 35 });
    expect(await readFile(join(dir, 'index.mjs'), 'utf8')).toBe('export const handler = 1;');
    expect((await stat(join(dir, 'index.mjs'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dir, 'bin/tool'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(dir, 'bin'))).mode & 0o777).toBe(0o755);
  });

  it('refuses an entry that would escape the directory, writing nothing', async () => {
    const dir = await freshDir();
    const zip = zipSync({ 'ok.js': strToU8('1'), '../escape.js': strToU8('2') });
    const error = await extractPackage(zip, join(dir, 'task')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentFailure);
    expect(error).toMatchObject({ reasonCode: 'InvalidZipFileException' });
    expect((error as Error).message).toContain('leaves the package directory');
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a corrupt zip and one over the size limit', async () => {
    const dir = await freshDir();
    await expect(extractPackage(strToU8('not a zip at all'), dir)).rejects.toMatchObject({ reasonCode: 'InvalidZipFileException' });
    const big = zipSync({ 'big.bin': new Uint8Array(4096) });
    await expect(extractPackage(big, dir, { maxUnzippedBytes: 1024 })).rejects.toThrow(/exceeds 1024 bytes/);
  });
});
