import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from '../cli-error.js';
import type { Command } from '../command.js';
import { ExitCode } from '../exit-codes.js';

/**
 * What `npm start` runs, step by step (the root package.json's `start` script
 * is these joined by ` && `; a unit test keeps the two equal).
 */
export const upSteps: readonly { readonly command: 'node' | 'npm'; readonly args: readonly string[] }[] = [
  { command: 'node', args: ['scripts/ensure-infra.mjs'] },
  { command: 'npm', args: ['run', 'build'] },
  { command: 'node', args: ['scripts/hearth-up.mjs'] },
];

/** The Hearth checkout this CLI runs from: the nearest ancestor with `scripts/hearth-up.mjs`. */
export function findRepoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'scripts', 'hearth-up.mjs')) && existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

const up: Command = {
  path: ['up'],
  positionals: [],
  summary: 'start Hearth here (what `npm start` runs), until Ctrl-C',
  details: `Runs, from the repository root: node scripts/ensure-infra.mjs && npm run build && node scripts/hearth-up.mjs
Ctrl-C and SIGTERM are passed to the running step once each (a second Ctrl-C makes hearth-up
leave without a clean stop, as with npm start). The exit code is the step's.`,
  options: {},
  async run(ctx) {
    const root = findRepoRoot();
    if (!root) throw new CliError('`hearth up` runs from a Hearth checkout (no scripts/hearth-up.mjs above this CLI)', ExitCode.Failure);
    let child: ReturnType<typeof spawn> | undefined;
    let interrupted = false;
    // Each step runs in its own process group, so a terminal's Ctrl-C reaches only this process
    // and is forwarded once: hearth-up takes a second SIGINT as "exit now, without a clean stop".
    const giveBack = ctx.io.takeSignals?.((signal) => {
      interrupted = true;
      // hearth-up stops cleanly on SIGINT and SIGTERM only; a hang-up asks for the same clean stop.
      child?.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal);
    });
    try {
      for (const step of upSteps) {
        if (interrupted) return ExitCode.Interrupted;
        const command = step.command === 'node' ? process.execPath : 'npm';
        const code = await new Promise<number>((resolve, reject) => {
          child = spawn(command, step.args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], detached: true, env: { ...process.env, ...ctx.io.env } });
          child.once('error', reject);
          child.once('exit', (status, signal) => resolve(status ?? (signal ? 128 + (signalNumbers[signal] ?? 1) : 1)));
        });
        child = undefined;
        if (code !== 0) return code;
      }
      return ExitCode.Success;
    } finally {
      giveBack?.();
    }
  },
};

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** `hearth up`. */
export const upCommands: readonly Command[] = [up];
