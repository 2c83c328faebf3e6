/**
 * The `hearth` process: runs the CLI on process.argv with the real stdio and
 * exits with its code. The first Ctrl-C / SIGTERM aborts the command's waits
 * (it then ends cleanly); a second one exits at once with 130 — unless a
 * command took the signals over (`hearth up` forwards them to its child).
 */
import { ExitCode } from './exit-codes.js';
import { run } from './cli.js';

// Hearth supports Node 20 on purpose; the SDK's notice about its future Node 22 minimum would end up in every script's stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const interrupt = new AbortController();
let taken: ((signal: NodeJS.Signals) => void) | undefined;

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (taken) return taken(signal);
    if (interrupt.signal.aborted) process.exit(ExitCode.Interrupted);
    interrupt.abort();
  });
}

// Output piped into `head` closes early: stop quietly instead of dying on EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  interrupt: interrupt.signal,
  now: () => Date.now(),
  takeSignals(listener) {
    taken = listener;
    return () => {
      taken = undefined;
    };
  },
});
process.exitCode = code;
// Let stdout drain before exiting: a large JSON document piped to another program must arrive whole.
process.stdout.write('', () => process.exit(code));
