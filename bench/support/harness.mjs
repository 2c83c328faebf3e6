// What every cluster benchmark needs besides its own measurements: ordered,
// signal-safe cleanup (so a Ctrl-C never leaves Postgres, NATS, Temporal or
// agents behind), and the small statistics and reporting helpers.
// Importing this module installs the SIGINT/SIGTERM handlers.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import postgres from 'postgres';
import { strToU8, zipSync } from 'fflate';

const root = new URL('../../', import.meta.url);

/** Steps run by cleanup(), last registered first. Push to it as resources are acquired. */
export const cleanups = [];
let cleaning;

/** Runs every cleanup step once, in reverse order, logging (not throwing) failures. Idempotent. */
export function cleanup() {
  cleaning ??= (async () => {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        console.error(`cleanup: ${error instanceof Error ? error.message : error}`);
      }
    }
  })();
  return cleaning;
}

/** The signal that interrupted the run, if one did (a live binding: read it, don't copy it). */
export let interrupted;
/** The exit code a run stopped by each signal ends with. */
export const signalExitCodes = { SIGINT: 130, SIGTERM: 143 };
for (const signal of Object.keys(signalExitCodes)) {
  // `on`, not `once`: a library in the infrastructure code (signal-exit) re-raises the signal
  // when its own listener is the last one left, which would kill us before the cleanup ends.
  process.on(signal, () => {
    if (interrupted) {
      console.error(`${signal}: still stopping the cluster and the infrastructure…`);
      return;
    }
    interrupted = signal;
    console.error(`\n${signal}: stopping the cluster and the infrastructure…`);
    void cleanup().finally(() => process.exit(signalExitCodes[signal]));
  });
}

/** Throws once a signal has asked the run to stop. */
export function checkInterrupted() {
  if (interrupted) throw new Error(`interrupted by ${interrupted}`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const round = (value, digits = 0) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);

/** A zip package of text files. */
export function zipOf(files) {
  return zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)])));
}

/** Nearest-rank percentile of a sorted array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Median of a sorted array. */
export function median(sorted) {
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The checked-out commit and whether the tree has changes, when this is a git checkout. */
export function gitState() {
  const git = (...args) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  const head = git('rev-parse', 'HEAD');
  if (head.status !== 0) return { commit: null, dirty: null };
  return { commit: head.stdout.trim(), dirty: git('status', '--porcelain', '--untracked-files=no').stdout.trim() !== '' };
}

export function describeError(error) {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Runs a cluster benchmark to the end: `main()` measures and returns the
 * results, the cluster and infrastructure are cleaned up, `print(results)`
 * prints the figures, and they are saved as `bench/results/<name>.json`. A
 * failure prints the error (not after Ctrl-C) and exits 1; a signal exits with
 * its code. Never returns.
 */
export async function runBench(name, main, print) {
  let exitCode = 0;
  try {
    const results = await main();
    await cleanup();
    print(results);
    const resultsDir = new URL('../results/', import.meta.url);
    mkdirSync(resultsDir, { recursive: true });
    const file = new URL(`${name}.json`, resultsDir);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`wrote ${file.pathname}`);
  } catch (error) {
    if (!interrupted) console.error(`bench/${name}.mjs: ${error instanceof Error ? (error.stack ?? error.message) : describeError(error)}`);
    exitCode = 1;
  } finally {
    await cleanup();
  }
  process.exit(interrupted ? signalExitCodes[interrupted] : exitCode);
}

/**
 * Postgres, NATS and Temporal for a cluster benchmark: URLs from the
 * environment (with a database of its own, dropped at the end), else
 * throw-away local servers; both stopped by cleanup(). `resolveInfra` is
 * libs/cluster's, from the caller's build.
 */
export async function startInfra(resolveInfra) {
  // Registered before it resolves, so a signal during the start still stops what was started.
  const starting = resolveInfra({ mode: 'ephemeral' });
  cleanups.push(async () => (await starting.catch(() => undefined))?.stop());
  const infra = await starting;
  checkInterrupted();
  let databaseUrl = infra.databaseUrl;
  if (infra.sources.databaseUrl === 'env') {
    // Someone else's Postgres: work in a database of our own, dropped at the end.
    const name = `hearth_bench_${randomBytes(4).toString('hex')}`;
    const admin = postgres(infra.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`CREATE DATABASE ${name}`);
    } catch (error) {
      await admin.end({ timeout: 1 }).catch(() => {});
      throw error;
    }
    cleanups.push(async () => {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await admin.end({ timeout: 5 });
    });
    const url = new URL(infra.databaseUrl);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
  }
  return { databaseUrl, natsUrl: infra.natsUrl, temporalAddress: infra.temporalAddress, sources: infra.sources };
}
