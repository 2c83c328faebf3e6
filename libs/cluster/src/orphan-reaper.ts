/**
 * Makes sure the process groups we start die with us, however we die.
 *
 * A normal exit (or an uncaught exception) runs `process.on('exit')`, which
 * signals every tracked group. A SIGKILL or an OOM kill runs no code at all, so
 * a tiny `sh` watchdog holds the read end of a pipe from us: when the kernel
 * closes that pipe at our death, the watchdog terminates the groups still
 * registered, then kills what ignored the request. Linux's PR_SET_PDEATHSIG
 * would do this per child, but Node cannot set it.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** How long the watchdog waits after SIGTERM before it sends SIGKILL, in tenths of a second (5 s). */
const watchdogGraceTenths = 50;

// Runs under dash on Debian: no arrays, so groups are a space-separated string.
const watchdogScript = `
trap '' HUP INT
groups=" "
while IFS= read -r line; do
  case "$line" in
    +*) groups="$groups\${line#+} " ;;
    -*) groups=$(printf '%s' "$groups" | sed "s/ \${line#-} / /") ;;
  esac
done
[ -z "$(printf '%s' "$groups" | tr -d ' ')" ] && exit 0
for g in $groups; do kill -TERM -$g 2>/dev/null; done
i=0
while [ $i -lt ${watchdogGraceTenths} ]; do
  alive=
  for g in $groups; do kill -0 -$g 2>/dev/null && alive=1; done
  [ -z "$alive" ] && exit 0
  sleep 0.1
  i=$((i+1))
done
for g in $groups; do kill -KILL -$g 2>/dev/null; done
`;

const tracked = new Set<number>();
let watchdog: ChildProcess | undefined;
let exitHookInstalled = false;

function ensureWatchdog(): void {
  if (watchdog && watchdog.exitCode === null) return;
  // detached: its own session, so a Ctrl-C meant for us does not reach it.
  const child = spawn('sh', ['-c', watchdogScript], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.on('error', () => {
    // Without sh we still have the exit hook; nothing better to do.
  });
  child.stdin?.on('error', () => {});
  child.unref();
  // The pipe must not keep our event loop alive: only the kernel's close at our death matters.
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  for (const group of tracked) child.stdin?.write(`+${group}\n`);
  watchdog = child;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    // Only synchronous work is possible here: ask politely; the watchdog follows up with SIGKILL.
    for (const group of tracked) signalGroup(group, 'SIGTERM');
  });
}

/** Sends `signal` to every process in group `group`; false when the group no longer exists. */
export function signalGroup(group: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-group, signal);
    return true;
  } catch {
    return false;
  }
}

/** Registers a process group (the pid of a child spawned with `detached: true`) to die with this process. */
export function trackProcessGroup(group: number): void {
  installExitHook();
  tracked.add(group);
  ensureWatchdog();
  watchdog?.stdin?.write(`+${group}\n`);
}

/** Forgets a process group once it has been stopped. */
export function untrackProcessGroup(group: number): void {
  if (!tracked.delete(group)) return;
  watchdog?.stdin?.write(`-${group}\n`);
}
