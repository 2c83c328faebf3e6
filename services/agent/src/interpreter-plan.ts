import { execFile } from 'node:child_process';
import type { RuntimeInterpreter } from '@hearth/config';
import type { Logger } from '@hearth/telemetry';

/** An unprivileged user EEs run as when the agent is root. */
export interface SandboxUser {
  uid: number;
  gid: number;
}

/** How EEs of one runtime are started on this instance. */
export interface InterpreterPlan {
  /** The interpreter's real executable (shims such as pyenv's resolved once, so an EE does not pay for them). */
  readonly executable: string;
  /** The user EEs run as; undefined = the agent's own user. */
  readonly runAs: SandboxUser | undefined;
}

/** Options of createInterpreterPlanner. */
export interface InterpreterPlannerOptions {
  /** The user EEs should run as; undefined = the agent's own user (no probe). */
  sandboxUser: SandboxUser | undefined;
  logger: Logger;
  /** Deadline of each probe process. Default 10000 ms. */
  probeTimeoutMs?: number;
}

/** Works out, once per interpreter, which executable and which user start its EEs. */
export interface InterpreterPlanner {
  plan(interpreter: RuntimeInterpreter, bootstrap: string, environmentsDir: string): Promise<InterpreterPlan>;
}

/**
 * The default sandbox: `nobody` (65534) when the agent runs as root, else none
 * (an unprivileged agent cannot change user, and its EEs already run unprivileged).
 */
export function defaultSandboxUser(): SandboxUser | undefined {
  return process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
}

/**
 * Plans how EEs of each interpreter start, probing once per interpreter:
 * first its real executable (asked of the interpreter itself), then whether the
 * sandbox user can run it, read the bootstrap and reach the environments
 * directory, by running the interpreter as that user. A user that cannot (say,
 * pyenv's Python under a 0700 /root) would make every EE fail at spawn, so EEs of
 * that interpreter run as the agent's user instead, with one warning naming why.
 */
export function createInterpreterPlanner(options: InterpreterPlannerOptions): InterpreterPlanner {
  const plans = new Map<string, Promise<InterpreterPlan>>();
  const timeout = options.probeTimeoutMs ?? 10_000;
  const { logger, sandboxUser } = options;

  async function makePlan(interpreter: RuntimeInterpreter, bootstrap: string, environmentsDir: string): Promise<InterpreterPlan> {
    const resolveScript = interpreter.family === 'python' ? 'import sys; print(sys.executable)' : 'console.log(process.execPath)';
    const resolved = await run(interpreter.executable, [evalFlag(interpreter), resolveScript], { timeout });
    const executable = resolved.ok && resolved.stdout.trim().startsWith('/') ? resolved.stdout.trim() : interpreter.executable;
    if (!sandboxUser) return { executable, runAs: undefined };
    const check =
      interpreter.family === 'python'
        ? `import os,sys; open(sys.argv[1],'rb').close(); os.listdir(sys.argv[2])`
        : `const fs=require('node:fs'); fs.closeSync(fs.openSync(process.argv[1],'r')); fs.readdirSync(process.argv[2])`;
    const probe = await run(executable, [evalFlag(interpreter), check, bootstrap, environmentsDir], {
      timeout,
      uid: sandboxUser.uid,
      gid: sandboxUser.gid,
    });
    if (probe.ok) return { executable, runAs: sandboxUser };
    logger.warn(
      {
        event: 'agent.sandbox_unavailable',
        runtime: interpreter.runtime,
        executable,
        uid: sandboxUser.uid,
        why: probe.why,
      },
      `execution environments of ${interpreter.runtime} run as the agent's user: uid ${sandboxUser.uid} cannot run ${executable}, read ${bootstrap} or enter ${environmentsDir} (${probe.why})`,
    );
    return { executable, runAs: undefined };
  }

  return {
    plan(interpreter, bootstrap, environmentsDir) {
      const key = `${interpreter.executable}\0${bootstrap}\0${environmentsDir}`;
      let plan = plans.get(key);
      if (!plan) {
        plan = makePlan(interpreter, bootstrap, environmentsDir);
        plans.set(key, plan);
      }
      return plan;
    },
  };
}

function evalFlag(interpreter: RuntimeInterpreter): string {
  return interpreter.family === 'python' ? '-c' : '-e';
}

type RunResult = { ok: true; stdout: string } | { ok: false; why: string };

function run(file: string, args: string[], options: { timeout: number; uid?: number; gid?: number }): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        timeout: options.timeout,
        killSignal: 'SIGKILL',
        cwd: '/',
        // Probes as the sandbox user see what an EE would: a bare environment.
        env: options.uid === undefined ? process.env : { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' },
        ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
        maxBuffer: 64 * 1024,
      },
      (error, stdout, stderr) => {
        if (!error) resolve({ ok: true, stdout });
        else {
          const detail = String(stderr).trim().split('\n').slice(-2).join(' ').slice(0, 300);
          resolve({ ok: false, why: detail || error.message });
        }
      },
    );
  });
}
