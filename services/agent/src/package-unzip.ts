import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { unzipSync } from 'fflate';
import { EnvironmentFailure } from './environment-failure.js';

/** Limits of extractPackage. */
export interface ExtractLimits {
  /** Largest total uncompressed size, bytes. Default 250 MiB (Lambda's unzipped package limit). */
  maxUnzippedBytes?: number;
  /** Most entries. Default 20000. */
  maxEntries?: number;
}

/** What extractPackage wrote. */
export interface ExtractedPackage {
  files: number;
  bytes: number;
}

const defaultMaxUnzippedBytes = 250 * 1024 * 1024;

/**
 * The path an entry of a zip may be written to, relative to the extraction root,
 * or an error message when the name could escape it (absolute paths, `..`
 * segments, drive letters, NUL). Backslashes count as separators, as zip tools on
 * Windows write them.
 */
export function safeEntryPath(name: string): { path: string } | { error: string } {
  if (name.includes('\0')) return { error: `entry name contains NUL: ${JSON.stringify(name)}` };
  const parts = name.split(/[\\/]+/);
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) {
    return { error: `entry ${JSON.stringify(name)} is an absolute path` };
  }
  if (parts.includes('..')) return { error: `entry ${JSON.stringify(name)} leaves the package directory` };
  const path = parts.filter((part) => part !== '' && part !== '.').join('/');
  return { path };
}

/**
 * Unix permission bits of each entry, read from the zip's central directory
 * (fflate does not expose them), so executables in a package stay executable.
 * Best effort: an archive whose directory cannot be read (zip64, unusual layout)
 * yields an empty map and every file gets the default mode.
 */
export function unixModes(zip: Uint8Array): Map<string, number> {
  const modes = new Map<string, number>();
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  for (let at = zip.byteLength - 22; at >= Math.max(0, zip.byteLength - 22 - 0xffff); at -= 1) {
    if (view.getUint32(at, true) === 0x06054b50) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) return modes;
  const entries = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  const decoder = new TextDecoder();
  for (let index = 0; index < entries && at + 46 <= zip.byteLength; index += 1) {
    if (view.getUint32(at, true) !== 0x02014b50) break;
    const madeBy = view.getUint16(at + 4, true) >> 8;
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const external = view.getUint32(at + 38, true);
    const name = decoder.decode(zip.subarray(at + 46, at + 46 + nameLength));
    // Host 3 is Unix: the upper 16 bits of the external attributes are st_mode.
    if (madeBy === 3) modes.set(name, (external >>> 16) & 0o7777);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return modes;
}

/**
 * Unzips a function package into `destination` (which must exist and be empty):
 * directories 0755, files 0644, or 0755 when the zip marks them executable, so
 * the package is readable but not writable by an unprivileged EE, like Lambda's
 * read-only `/var/task`. Rejects a corrupt zip, an entry that would escape
 * `destination`, and packages over the limits, with `InvalidZipFileException`.
 */
export async function extractPackage(zip: Uint8Array, destination: string, limits: ExtractLimits = {}): Promise<ExtractedPackage> {
  const maxBytes = limits.maxUnzippedBytes ?? defaultMaxUnzippedBytes;
  const maxEntries = limits.maxEntries ?? 20_000;
  const invalid = (why: string) => new EnvironmentFailure('InvalidZipFileException', `Could not unzip the function package: ${why}`);
  let declared = 0;
  let entries = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      // Sizes are checked from the directory before anything is inflated, so a zip
      // bomb is refused without allocating its content.
      filter(file) {
        entries += 1;
        declared += file.originalSize;
        if (entries > maxEntries) throw invalid(`more than ${maxEntries} entries`);
        if (declared > maxBytes) throw invalid(`unzipped size exceeds ${maxBytes} bytes`);
        const safe = safeEntryPath(file.name);
        if ('error' in safe) throw invalid(safe.error);
        return true;
      },
    });
  } catch (error) {
    if (error instanceof EnvironmentFailure) throw error;
    throw invalid((error as Error).message);
  }
  const modes = unixModes(zip);
  const root = resolve(destination);
  let bytes = 0;
  let written = 0;
  for (const [name, content] of Object.entries(files)) {
    const safe = safeEntryPath(name);
    if ('error' in safe) throw invalid(safe.error);
    if (safe.path === '') continue;
    const target = join(root, safe.path);
    if (!target.startsWith(root + sep)) throw invalid(`entry ${JSON.stringify(name)} leaves the package directory`);
    if (name.endsWith('/') || name.endsWith('\\')) {
      await mkdir(target, { recursive: true, mode: 0o755 });
      continue;
    }
    await mkdir(join(target, '..'), { recursive: true, mode: 0o755 });
    const executable = ((modes.get(name) ?? 0) & 0o111) !== 0;
    await writeFile(target, content, { mode: executable ? 0o755 : 0o644 });
    // writeFile's mode is filtered by the umask; set it exactly.
    await chmod(target, executable ? 0o755 : 0o644);
    bytes += content.byteLength;
    written += 1;
  }
  return { files: written, bytes };
}
