import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { UsageError } from './cli-error.js';

/** A code package ready for `ZipFile`. */
export interface CodePackage {
  readonly bytes: Uint8Array;
  /** Files in the package when the CLI zipped a directory; undefined for a zip file taken as is. */
  readonly files?: number;
}

const zipMagic = [0x50, 0x4b]; // "PK": every zip starts with a local header or, when empty, the end record.

/** Every regular file under `root` (symlinks followed), as sorted paths relative to it. */
async function filesUnder(root: string, dir = root): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const info = entry.isSymbolicLink() ? await stat(path) : entry;
    if (info.isDirectory()) found.push(...(await filesUnder(root, path)));
    else if (info.isFile()) found.push(relative(root, path));
  }
  return found.sort();
}

/** Zip (DOS) times run from 1980 to 2107; files stamped outside (epoch-0 builds) get the nearest end. */
function zipTime(time: Date): Date {
  const earliest = Date.UTC(1980, 0, 2);
  const latest = Date.UTC(2099, 11, 31);
  return new Date(Math.min(latest, Math.max(earliest, time.getTime())));
}

/**
 * Zips a directory the way `zip -r` from inside it would: paths relative to
 * it with `/` separators, and each file's Unix mode kept (a `bootstrap` or a
 * bundled binary must stay executable).
 */
export async function zipDirectory(dir: string): Promise<CodePackage> {
  const files = await filesUnder(dir);
  if (files.length === 0) throw new UsageError(`--zip ${dir}: the directory has no files to package`);
  const tree: Zippable = {};
  for (const file of files) {
    const path = join(dir, file);
    const info = await stat(path);
    // External attributes: the Unix mode in the high 16 bits, with os = 3 (Unix) so unzip honours it.
    tree[file.split(sep).join('/')] = [await readFile(path), { os: 3, attrs: ((info.mode & 0o7777) | 0o100000) << 16, mtime: zipTime(info.mtime) }];
  }
  return { bytes: zipSync(tree, { level: 6 }), files: files.length };
}

/**
 * `--zip DIR|FILE`: a directory is zipped for the user; a file must already be
 * a zip archive and is sent as is. A missing path or a file that is not a zip
 * is a usage error naming the path.
 */
export async function codePackageFrom(path: string, cwd: string): Promise<CodePackage> {
  const absolute = resolve(cwd, path);
  let info;
  try {
    info = await stat(absolute);
  } catch {
    throw new UsageError(`--zip ${path}: no such file or directory`);
  }
  if (info.isDirectory()) return zipDirectory(absolute);
  const bytes = new Uint8Array(await readFile(absolute));
  if (bytes[0] !== zipMagic[0] || bytes[1] !== zipMagic[1]) {
    throw new UsageError(`--zip ${path}: not a zip archive (allowed: a directory, which is zipped for you, or a .zip file)`);
  }
  return { bytes };
}
