/**
 * Temp dirs of ephemeral clusters. A test run that is SIGKILLed cannot remove
 * its temp dir (an initdb'ed Postgres is ~40 MB), so each dir records its
 * owner's pid and the next ephemeral start sweeps dirs whose owner is gone.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ownerFile = '.owner-pid';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `<tmpdir>/<prefix>*` dirs whose recorded owner process no longer runs. Never throws. */
export function sweepAbandonedTempDirs(prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir()).filter((name) => name.startsWith(prefix));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(tmpdir(), name);
    try {
      const owner = Number(readFileSync(join(dir, ownerFile), 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) rmSync(dir, { recursive: true, force: true });
    } catch {
      // No owner file (being created, or not ours): leave it.
    }
  }
}

/**
 * Creates `<tmpdir>/<prefix>XXXXXX` owned by this process, after sweeping
 * abandoned ones. Mode 0755: a local Postgres runs inside as the postgres user.
 */
export function createOwnedTempDir(prefix: string): string {
  sweepAbandonedTempDirs(prefix);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, ownerFile), String(process.pid));
  return dir;
}

/** Keeps a dir created by `createOwnedTempDir` for good: later sweeps leave it alone. */
export function keepTempDir(dir: string): void {
  rmSync(join(dir, ownerFile), { force: true });
}
