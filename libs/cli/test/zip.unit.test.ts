import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codePackageFrom, UsageError } from '@hearth/cli';

let dir: string;

/** The Unix mode of each entry, read from the zip's central directory (fflate's unzip does not expose it). */
function unixModes(zip: Uint8Array): Record<string, number> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const modes: Record<string, number> = {};
  for (let offset = 0; offset + 46 <= zip.byteLength; offset++) {
    if (view.getUint32(offset, true) !== 0x02014b50) continue;
    const nameLength = view.getUint16(offset + 28, true);
    const name = Buffer.from(zip.subarray(offset + 46, offset + 46 + nameLength)).toString();
    modes[name] = view.getUint32(offset + 38, true) >>> 16;
    offset += 45 + nameLength;
  }
  return modes;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-cli-zip-'));
  await mkdir(join(dir, 'fn', 'lib', 'deep'), { recursive: true });
  await writeFile(join(dir, 'fn', 'index.mjs'), 'export const handler = async () => 1;');
  await writeFile(join(dir, 'fn', 'lib', 'deep', 'util.js'), 'module.exports = 2;');
  await writeFile(join(dir, 'fn', 'bootstrap'), '#!/bin/sh\necho hi\n');
  await chmod(join(dir, 'fn', 'bootstrap'), 0o755);
  await writeFile(join(dir, 'shared.txt'), 'shared');
  // Reproducible builds stamp files with the epoch, which zip's DOS time cannot hold.
  await utimes(join(dir, 'fn', 'index.mjs'), 0, 0);
  await symlink(join(dir, 'shared.txt'), join(dir, 'fn', 'linked.txt'));
  await mkdir(join(dir, 'empty'));
  await writeFile(join(dir, 'code.zip'), zipSync({ 'a.py': strToU8('x = 1') }));
  await writeFile(join(dir, 'index.mjs.txt'), 'not a zip');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('--zip', () => {
  it('zips a directory: relative paths with /, nested files, symlinks followed, contents intact', async () => {
    const code = await codePackageFrom('fn', dir);
    expect(code.files).toBe(4);
    const entries = unzipSync(code.bytes);
    expect(Object.keys(entries).sort()).toEqual(['bootstrap', 'index.mjs', 'lib/deep/util.js', 'linked.txt']);
    expect(Buffer.from(entries['index.mjs']!).toString()).toBe('export const handler = async () => 1;');
    expect(Buffer.from(entries['lib/deep/util.js']!).toString()).toBe('module.exports = 2;');
    expect(Buffer.from(entries['linked.txt']!).toString()).toBe('shared');
  });

  it('keeps the Unix mode, so an executable stays executable', async () => {
    const modes = unixModes((await codePackageFrom(join(dir, 'fn'), '/')).bytes);
    expect(modes['bootstrap']! & 0o777).toBe(0o755);
    expect(modes['index.mjs']! & 0o111).toBe(0);
    expect(modes['index.mjs']! & 0o170000).toBe(0o100000);
  });

  it('sends a zip file as it is', async () => {
    const code = await codePackageFrom('code.zip', dir);
    expect(code.files).toBeUndefined();
    expect(Object.keys(unzipSync(code.bytes))).toEqual(['a.py']);
  });

  it('refuses a missing path, a file that is not a zip, and an empty directory', async () => {
    await expect(codePackageFrom('nothing-here', dir)).rejects.toThrow(new UsageError('--zip nothing-here: no such file or directory'));
    await expect(codePackageFrom('index.mjs.txt', dir)).rejects.toThrow(/--zip index.mjs.txt: not a zip archive \(allowed: a directory, which is zipped for you, or a .zip file\)/);
    await expect(codePackageFrom('empty', dir)).rejects.toThrow(/the directory has no files to package/);
  });
});
