import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ConfigError, envMap } from './env.js';

/** A Lambda runtime identifier and the interpreter that runs it on this host. */
export interface RuntimeInterpreter {
  /** Lambda identifier, e.g. `nodejs20.x`, `python3.11`. */
  runtime: string;
  /** Absolute path of the interpreter executable. */
  executable: string;
  /** `nodejs` or `python`: which Hearth bootstrap runs inside the execution environment. */
  family: 'nodejs' | 'python';
}

type Env = Readonly<Record<string, string | undefined>>;

function familyOf(runtime: string): 'nodejs' | 'python' {
  if (/^nodejs\d+\.x$/.test(runtime)) return 'nodejs';
  if (/^python3\.\d+$/.test(runtime)) return 'python';
  throw new ConfigError(
    `HEARTH_RUNTIMES names ${runtime}, which Hearth cannot run (allowed: nodejs<major>.x or python3.<minor>)`,
  );
}

function findOnPath(command: string, env: Env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

function pythonVersion(executable: string): string | undefined {
  try {
    const out = execFileSync(executable, ['-c', 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")'], {
      encoding: 'utf8',
      timeout: 5_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.trim();
  } catch {
    return undefined;
  }
}

/**
 * The runtimes this host can run: `HEARTH_RUNTIMES` (`nodejs22.x=/path/node,python3.13=/usr/bin/python3.13`)
 * first, then the Node.js running Hearth itself (`nodejs<major>.x`), then the
 * `python3` on PATH (`python3.<minor>`). A runtime is offered only when its
 * interpreter exists, so a function can never be created for a runtime that
 * cannot start.
 */
export function detectRuntimes(env: Env = process.env): Map<string, RuntimeInterpreter> {
  const runtimes = new Map<string, RuntimeInterpreter>();
  for (const [runtime, executable] of envMap('HEARTH_RUNTIMES', env)) {
    try {
      accessSync(executable, constants.X_OK);
    } catch {
      throw new ConfigError(`HEARTH_RUNTIMES: ${runtime}=${executable} is not an executable file`);
    }
    runtimes.set(runtime, { runtime, executable, family: familyOf(runtime) });
  }
  const nodeRuntime = `nodejs${process.versions.node.split('.')[0]}.x`;
  if (!runtimes.has(nodeRuntime)) runtimes.set(nodeRuntime, { runtime: nodeRuntime, executable: process.execPath, family: 'nodejs' });
  const python = findOnPath('python3', env);
  const version = python ? pythonVersion(python) : undefined;
  if (python && version && !runtimes.has(`python${version}`)) {
    runtimes.set(`python${version}`, { runtime: `python${version}`, executable: python, family: 'python' });
  }
  return runtimes;
}
