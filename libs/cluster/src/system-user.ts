/**
 * Running a server as an unprivileged user when we are root. Postgres refuses
 * to run as root, so as root we start it as the `postgres` system user, which
 * must be able to reach its data directory.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** A user id and its primary group id. */
export interface SystemUser {
  /** Login name. */
  name: string;
  /** User id. */
  uid: number;
  /** Primary group id. */
  gid: number;
}

/** True when this process runs as root. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Looks up a user by name (via `id`, so NSS sources beyond /etc/passwd count); undefined when unknown. */
export function lookupUser(name: string): SystemUser | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { name, uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The first ancestor of `path` that `user` cannot enter (no search permission
 * for it as owner, group or other), or undefined when the whole chain is open.
 * Supplementary groups are ignored, which errs on the side of reporting.
 */
export function firstClosedAncestor(path: string, user: SystemUser): string | undefined {
  const chain: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    chain.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of chain) {
    let stats;
    try {
      stats = statSync(dir);
    } catch {
      return undefined; // not created yet: we create it with open permissions
    }
    const mode = stats.mode;
    const canEnter =
      stats.uid === user.uid ? (mode & 0o100) !== 0 : stats.gid === user.gid ? (mode & 0o010) !== 0 : (mode & 0o001) !== 0;
    if (!canEnter) return dir;
  }
  return undefined;
}
