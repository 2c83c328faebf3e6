/**
 * One Hearth service process under supervision: started with `node <entry>`,
 * ready when it prints a JSON line with `"event":"service.ready"`, restarted
 * with backoff when it exits on its own, stopped with SIGTERM then SIGKILL.
 */
import { ManagedProcess, type ExitInfo } from './managed-process.js';
import { RestartBackoff, type RestartBackoffPolicy } from './restart-backoff.js';
import type { SupervisorLog } from './supervisor-log.js';

/** How to run and supervise one service. */
export interface SupervisedServiceOptions {
  /** Service name, e.g. `router`. */
  name: string;
  /** JavaScript file run with this Node.js executable. */
  entry: string;
  /** Complete environment of the process. */
  env: NodeJS.ProcessEnv;
  /** File its stdout and stderr are appended to. */
  logFile: string;
  /** Milliseconds from spawn to the ready line. */
  readyTimeoutMs: number;
  /** Milliseconds between SIGTERM and SIGKILL on stop. */
  stopTimeoutMs: number;
  /** Restart delays. */
  backoff?: RestartBackoffPolicy;
  /** Where supervision events are logged. */
  log: SupervisorLog;
}

/**
 * What a supervised service is doing: `starting` (first start, before its
 * ready line), `ready`, `restarting` (waiting out its backoff or starting
 * again), `stopping`, `stopped`.
 */
export type ServiceState = 'starting' | 'ready' | 'restarting' | 'stopping' | 'stopped';

/** A snapshot of one supervised service. */
export interface ServiceStatus {
  /** Service name. */
  name: string;
  /** What it is doing. */
  state: ServiceState;
  /** Pid of the current process (undefined between runs). */
  pid: number | undefined;
  /** How many times it was restarted after exiting on its own. */
  restarts: number;
}

/** True for a log line whose JSON has `"event":"service.ready"`. */
export function isReadyLine(line: string): boolean {
  if (!line.includes('service.ready')) return false;
  try {
    return (JSON.parse(line) as { event?: unknown }).event === 'service.ready';
  } catch {
    return false;
  }
}

/** A service process kept running until `stop()`. */
export class SupervisedService {
  private current: ManagedProcess | undefined;
  private state: ServiceState = 'stopped';
  private restarts = 0;
  private stopping = false;
  private wakeFromBackoff: (() => void) | undefined;
  private readonly backoff: RestartBackoff;

  constructor(private readonly options: SupervisedServiceOptions) {
    this.backoff = new RestartBackoff(options.backoff);
  }

  /** Current state, pid and restart count. */
  status(): ServiceStatus {
    return { name: this.options.name, state: this.state, pid: this.current?.running ? this.current.pid : undefined, restarts: this.restarts };
  }

  /** Starts the service and resolves when it is ready; throws (having killed it) otherwise. */
  async start(): Promise<void> {
    this.stopping = false;
    await this.runUntilReady();
  }

  /** Stops the service (SIGTERM, then SIGKILL after the stop timeout) and any pending restart. Idempotent. */
  async stop(): Promise<ExitInfo | undefined> {
    this.stopping = true;
    this.state = 'stopping';
    this.wakeFromBackoff?.();
    const current = this.current;
    let info: ExitInfo | undefined;
    if (current) {
      const wasRunning = current.running;
      info = await current.stop({ signal: 'SIGTERM', timeoutMs: this.options.stopTimeoutMs });
      if (wasRunning) this.options.log.info('service.stopped', this.options.name, `${this.options.name} stopped`, { pid: current.pid, exit: info });
    }
    this.state = 'stopped';
    return info;
  }

  private async runUntilReady(): Promise<void> {
    const { name, entry, env, logFile, readyTimeoutMs } = this.options;
    this.state = this.restarts === 0 ? 'starting' : 'restarting';
    let markReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    const startedAt = Date.now();
    const child = await ManagedProcess.start({
      name,
      command: process.execPath,
      args: [entry],
      env,
      logFile,
      onLine: (line) => {
        if (isReadyLine(line)) markReady();
      },
    });
    this.current = child;
    if (this.stopping) {
      // stop() ran while we were spawning: it could not see this process.
      await child.stop({ signal: 'SIGKILL' });
      throw new Error(`${name} was stopped while starting`);
    }
    this.options.log.info('service.started', name, `${name} started`, { pid: child.pid });
    const outcome = await firstOf(ready, child.exited, readyTimeoutMs);
    if (outcome !== 'ready') {
      await child.stop({ signal: 'SIGKILL' });
      const why =
        outcome === 'timeout'
          ? `printed no "service.ready" line within ${readyTimeoutMs} ms`
          : describeExit(child.exitStatus, 'before it was ready');
      throw new Error(`${name} ${why}.\n${child.describeOutput()}`);
    }
    this.state = 'ready';
    this.options.log.info('service.ready', name, `${name} is ready`, { pid: child.pid, startupMs: Date.now() - startedAt });
    void child.exited.then((info) => this.onExit(child, info, Date.now() - startedAt));
  }

  private async onExit(child: ManagedProcess, info: ExitInfo, uptimeMs: number): Promise<void> {
    if (this.stopping || child !== this.current) return;
    const { name, log } = this.options;
    await child.stop(); // reaps whatever it left in its process group
    let delayMs = this.backoff.next(uptimeMs);
    log.warn('service.exited', name, `${name} ${describeExit(info, 'unexpectedly')}`, { pid: child.pid, exit: info, uptimeMs });
    while (!this.stopping) {
      this.state = 'restarting';
      this.restarts += 1;
      log.warn('service.restart', name, `restarting ${name} in ${delayMs} ms (restart ${this.restarts})`, {
        restart: this.restarts,
        delayMs,
      });
      await this.sleepUnlessStopped(delayMs);
      if (this.stopping) return;
      try {
        await this.runUntilReady();
        return;
      } catch (error) {
        if (this.stopping) return;
        const message = error instanceof Error ? error.message : String(error);
        log.error('service.restart_failed', name, message, { restart: this.restarts });
        delayMs = this.backoff.next(0);
      }
    }
  }

  private sleepUnlessStopped(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.wakeFromBackoff = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeFromBackoff = wake;
    });
  }
}

function describeExit(info: ExitInfo | undefined, when: string): string {
  if (info?.signal) return `was killed by ${info.signal} ${when}`;
  return `exited with code ${info?.code} ${when}`;
}

/** Which of ready / exited happens first, or `timeout` after `ms`. */
async function firstOf(ready: Promise<void>, exited: Promise<unknown>, ms: number): Promise<'ready' | 'exited' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      ready.then(() => 'ready' as const),
      exited.then(() => 'exited' as const),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
