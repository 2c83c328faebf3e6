import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { SandboxUser } from './interpreter-plan.js';
import type { OutputCapture } from './output-capture.js';

/** How a runtime process ended. */
export interface RuntimeExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A started runtime process (the leader of its own process group). */
export interface RuntimeProcess {
  readonly pid: number;
  /** Resolves when the process has exited, or could not start (then `spawnError` is set). Never rejects. */
  readonly exited: Promise<RuntimeExit>;
  /** Why the process could not be started, once `exited` resolved without it ever running. */
  readonly spawnError: Error | undefined;
  /** Whether the process has exited. */
  readonly hasExited: boolean;
  /** Sends a signal to the whole process group (workers, forked children). No-op once it is gone. */
  signal(signal: NodeJS.Signals): void;
  /** Resolves true once no process of the group is left, false if some still are after `timeoutMs`. */
  groupGone(timeoutMs: number): Promise<boolean>;
}

/** What to start. */
export interface RuntimeProcessOptions {
  executable: string;
  args: string[];
  cwd: string;
  /** The complete environment. */
  env: Record<string, string>;
  runAs: SandboxUser | undefined;
  output: OutputCapture;
}

/**
 * Starts a runtime in its own process group, so a stop reaches every process it
 * forked (Python's worker processes) and nothing of it outlives the EE. The
 * process's environment is exactly `env`, and its stdout and stderr go to the
 * EE's output capture.
 */
export function spawnRuntime(options: RuntimeProcessOptions): RuntimeProcess {
  const child = spawn(options.executable, options.args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.runAs ? { uid: options.runAs.uid, gid: options.runAs.gid } : {}),
  });
  let spawnError: Error | undefined;
  let hasExited = false;
  const exited = new Promise<RuntimeExit>((resolve) => {
    child.once('error', (error) => {
      // 'error' without a pid means the process never started; with one, 'exit' follows.
      if (child.pid === undefined) {
        spawnError = error;
        hasExited = true;
        resolve({ code: null, signal: null });
      }
    });
    child.once('exit', (code, signal) => {
      hasExited = true;
      resolve({ code, signal });
    });
  });
  if (child.stdout) options.output.attach(child.stdout, 'stdout');
  if (child.stderr) options.output.attach(child.stderr, 'stderr');
  const pid = child.pid ?? -1;
  return {
    pid,
    exited,
    get spawnError() {
      return spawnError;
    },
    get hasExited() {
      return hasExited;
    },
    signal(signal) {
      if (pid <= 0) return;
      try {
        process.kill(-pid, signal);
      } catch {
        // ESRCH: the whole group is gone already.
      }
    },
    async groupGone(timeoutMs) {
      // Members other than the leader are not our children, so there is no exit event to
      // wait for: poll the group (signal 0) until the kernel has removed the last one.
      const giveUpAt = Date.now() + timeoutMs;
      for (;;) {
        if (pid <= 0 || !groupExists(pid)) return true;
        if (Date.now() >= giveUpAt) return false;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // Signal 0 also reaches zombies, which are dead already and wait only for init to
  // collect them (which may take a while): only a member that still runs counts.
  return liveGroupMembers(pgid) !== 0;
}

/** Members of a process group that are not zombies, from /proc; -1 where /proc cannot tell. */
function liveGroupMembers(pgid: number): number {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return -1;
  }
  let alive = 0;
  for (const entry of entries) {
    if (entry.charCodeAt(0) > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // After the parenthesised command: state, ppid, pgrp, …
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') alive += 1;
  }
  return alive;
}

const signalWords: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGINT: 'interrupt',
  SIGSEGV: 'segmentation fault',
  SIGABRT: 'aborted',
  SIGBUS: 'bus error',
  SIGILL: 'illegal instruction',
  SIGFPE: 'floating point exception',
  SIGHUP: 'hangup',
  SIGPIPE: 'broken pipe',
};

/** An exit in Lambda's words: `exit status 1`, `signal: killed`. */
export function describeExit(exit: RuntimeExit): string {
  if (exit.signal) return `signal: ${signalWords[exit.signal] ?? exit.signal}`;
  return `exit status ${exit.code ?? 'unknown'}`;
}
