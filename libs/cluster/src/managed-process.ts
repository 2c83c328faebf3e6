/**
 * A child process we own end to end: its own process group (so stopping it
 * also stops whatever it forked), output appended to a log file, the last lines
 * kept in memory for error messages, and registration with the orphan reaper
 * so it never outlives us.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { LineSplitter, OutputTail } from './output-tail.js';
import { signalGroup, trackProcessGroup, untrackProcessGroup } from './orphan-reaper.js';

/** How a child process ended. */
export interface ExitInfo {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it, or null. */
  signal: NodeJS.Signals | null;
}

/** How to start a managed child process. */
export interface ManagedProcessOptions {
  /** Name used in messages (e.g. `postgres`, `router`). */
  name: string;
  /** Executable path or name on PATH. */
  command: string;
  /** Arguments. Default none. */
  args?: readonly string[];
  /** Complete environment of the child. Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Working directory. Default: this process's. */
  cwd?: string;
  /** Run as this user id (requires root). Default: ours. */
  uid?: number;
  /** Run as this group id (requires root). Default: ours. */
  gid?: number;
  /** File the child's stdout and stderr are appended to. Default: none (only the tail is kept). */
  logFile?: string;
  /** Lines of output kept in memory for error messages. Default 80. */
  tailLines?: number;
  /** Called with every line the child prints (stdout and stderr). */
  onLine?: (line: string) => void;
}

/** How to stop a managed child process. */
export interface StopOptions {
  /** Signal asking the child to stop. Default SIGTERM. */
  signal?: NodeJS.Signals;
  /** Milliseconds to wait for it to exit before SIGKILL of its whole group. Default 10000. */
  timeoutMs?: number;
}

/** Milliseconds a SIGKILLed process may take to be reaped (only a process stuck in the kernel takes longer). */
const killTimeoutMs = 5_000;

/** A running (or exited) child process started by `startManagedProcess`. */
export class ManagedProcess {
  /** Resolves when the child has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private readonly output: OutputTail;

  private constructor(
    /** Name used in messages. */
    readonly name: string,
    private readonly child: ChildProcess,
    /** Process id, which is also the process group id. */
    readonly pid: number,
    tailLines: number,
    private readonly logFile: string | undefined,
  ) {
    this.output = new OutputTail(tailLines);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  /**
   * Spawns the child and resolves once it runs; rejects when it cannot be
   * started at all (e.g. ENOENT), with the command in the message.
   */
  static async start(options: ManagedProcessOptions): Promise<ManagedProcess> {
    const { name, command, args = [], logFile, tailLines = 80 } = options;
    let log: WriteStream | undefined;
    if (logFile) {
      mkdirSync(dirname(logFile), { recursive: true });
      log = createWriteStream(logFile, { flags: 'a' });
      log.on('error', () => {}); // a full disk must not crash the supervisor
    }
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      uid: options.uid,
      gid: options.gid,
      // Own process group: stop() can then reach grandchildren (postgres backends, EEs).
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (error) {
      log?.end();
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`${name}: cannot start ${command} ${args.join(' ')}: ${reason}`);
    }
    const pid = child.pid as number;
    trackProcessGroup(pid);
    const managed = new ManagedProcess(name, child, pid, tailLines, logFile);
    managed.capture(child, log, options.onLine);
    return managed;
  }

  private capture(child: ChildProcess, log: WriteStream | undefined, onLine?: (line: string) => void): void {
    let openStreams = 0;
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      openStreams += 1;
      stream.setEncoding('utf8');
      const lines = new LineSplitter((line) => {
        this.output.push(line);
        onLine?.(line);
      });
      // pipe() gives back-pressure: a slow disk pauses the child instead of growing our buffers.
      if (log) stream.pipe(log, { end: false });
      stream.on('data', (chunk: string) => lines.write(chunk));
      stream.once('end', () => {
        lines.flush();
        openStreams -= 1;
        if (openStreams === 0) log?.end();
      });
    }
    child.once('exit', () => untrackProcessGroup(this.pid));
  }

  /** True until the child has exited. */
  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** The exit status once exited, else undefined. */
  get exitStatus(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /** The last `lines` lines of output (default 30), for error messages. */
  tail(lines = 30): string {
    return this.output.text(lines);
  }

  /** A paragraph for error messages: the tail of the output and where the full log is. */
  describeOutput(lines = 30): string {
    const tail = this.tail(lines);
    const where = this.logFile ? ` (full log: ${this.logFile})` : '';
    return tail === '' ? `${this.name} printed nothing${where}` : `last output of ${this.name}${where}:\n${tail}`;
  }

  /**
   * Stops the child: `signal` to it, up to `timeoutMs` for it to exit, then
   * SIGKILL to its whole group; finally SIGKILL to any process left in the
   * group, so nothing it forked survives. Idempotent.
   */
  async stop(options: StopOptions = {}): Promise<ExitInfo> {
    const { signal = 'SIGTERM', timeoutMs = 10_000 } = options;
    if (this.running) {
      this.child.kill(signal);
      if (!(await waitFor(this.exited, timeoutMs))) {
        signalGroup(this.pid, 'SIGKILL');
        if (!(await waitFor(this.exited, killTimeoutMs))) {
          throw new Error(`${this.name} (pid ${this.pid}) did not exit within ${killTimeoutMs} ms of SIGKILL`);
        }
      }
    }
    const info = await this.exited;
    // Children the leader left behind (e.g. an EE whose agent crashed) share its group.
    signalGroup(this.pid, 'SIGKILL');
    untrackProcessGroup(this.pid);
    return info;
  }
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
async function waitFor(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Convenience for `ManagedProcess.start`. */
export function startManagedProcess(options: ManagedProcessOptions): Promise<ManagedProcess> {
  return ManagedProcess.start(options);
}

/**
 * Runs a command to completion within `timeoutMs` (default 60000); throws with
 * its output tail when it fails or overruns. Resolves with its output tail.
 */
export async function runManagedCommand(options: ManagedProcessOptions & { timeoutMs?: number }): Promise<string> {
  const { timeoutMs = 60_000 } = options;
  const child = await ManagedProcess.start(options);
  const finished = await waitFor(child.exited, timeoutMs);
  const info = await child.stop({ timeoutMs: 1_000 });
  const commandLine = [options.command, ...(options.args ?? [])].join(' ');
  if (!finished) throw new Error(`${commandLine} did not finish within ${timeoutMs} ms.\n${child.describeOutput()}`);
  if (info.code !== 0) {
    const how = info.signal ? `was killed by ${info.signal}` : `exited with code ${info.code}`;
    throw new Error(`${commandLine} ${how}.\n${child.describeOutput()}`);
  }
  return child.tail();
}
