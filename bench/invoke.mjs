#!/usr/bin/env node
// Invoke through the whole cluster (issue #4, benchmarks (a) and (b)), each side
// by side with its baseline in the same process and the same load generator.
//
// The cluster: real Postgres, NATS and Temporal, the services, the local
// instance provider; functions published with the AWS SDK. The load generator
// runs in this process: closed-loop callers (or an open-loop schedule) on a
// node:http keep-alive Agent POSTing `{}` to `/2015-03-31/functions/<fn>/invocations?Qualifier=1`
// on the api's HTTP endpoint (unsigned). The baseline is a plain node:http server
// in a child process (its own event loop, as the api has its own) that imports
// the very same handler source and answers `await handler(JSON.parse(body))`.
//
// (a) no-op (`async () => 'ok'`, PerExecutionEnvironmentMaxConcurrency 64):
//     1 and 64 callers, 1 s warm-up then 5 s, full path and baseline: req/s,
//     p50/p99/p99.9, the throughput ratio and the added latency (p50 full − p50
//     baseline at 1 caller). With Debian `wrk` on PATH, the same against both.
// (b) overload: a 50 ms handler (setTimeout, CPU-light), concurrency 4 on the 3
//     EEs of a publish (pinned with PutFunctionScalingConfig Min = Max = 3, and
//     read back from the agents) → capacity 12 in flight = 240 req/s. Unloaded
//     p99 at 1 caller (10 s); added latency at half capacity (6 callers, full −
//     baseline); then an open loop at 3× capacity (720 req/s, 10 s): goodput as
//     a fraction of capacity, p99 of admitted (200) calls against the unloaded
//     p99, the count and share of 429s, and the time to answer a 429 (p50/p99).
// CPU: each phase reads /proc for this process and its descendants (api, router,
// agents, EE runtimes, infrastructure, baseline server) and prints CPU µs per
// call by process, the cluster's idle CPU, and the cores other processes on the
// machine used meanwhile (a disturbed run shows there).
// A final table reads each figure against ARCHITECTURE.md's targets.
//
// Latencies are measured from the moment the request is handed to node:http
// (the open loop also records them from the scheduled send time, and the
// generator's lag behind its schedule, in the JSON). Percentiles are nearest-rank.
// Everything shares two cores with the load generator, as the targets assume.
//
// Prints tables and writes bench/results/invoke.json. Never passes or fails on
// time (it exits non-zero only when it cannot run at all).
// Run after a build (`npx tsc -b`): `node bench/invoke.mjs`.
// Infrastructure: DATABASE_URL, NATS_URL and TEMPORAL_ADDRESS when set (a fresh
// database and NATS prefix are used on them), else throw-away local servers
// from libs/cluster (ephemeral mode). HEARTH_BENCH_SECONDS sets each timed
// closed-loop phase (default 5); HEARTH_BENCH_OVERLOAD_SECONDS the overload (default 10).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import postgres from 'postgres';
import { cleanups, interrupted, runBench, checkInterrupted, sleep, round, zipOf, percentile, gitState, describeError, startInfra } from './support/harness.mjs';

const root = new URL('../', import.meta.url);
const built = {
  cluster: new URL('libs/cluster/dist/index.js', root),
  grpc: new URL('libs/grpc/dist/index.js', root),
  proto: new URL('libs/proto/dist/index.js', root),
};
for (const url of [...Object.values(built), ...['api', 'router', 'placement', 'instance-manager', 'agent'].map((name) => new URL(`services/${name}/dist/main.js`, root))]) {
  if (!existsSync(url)) {
    console.error(`${url.pathname} is missing: build first with \`npx tsc -b\``);
    process.exit(1);
  }
}
// Before the SDK loads: it warns once per process about Node versions it will stop supporting.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const sdk = await import('@aws-sdk/client-lambda');
const { CreateCapacityProviderCommand, CreateFunctionCommand, GetCapacityProviderCommand, GetFunctionConfigurationCommand, LambdaClient } = sdk;
const { resolveInfra, startCluster } = await import(built.cluster.href);
const { callUnary, createClient } = await import(built.grpc.href);
const { agent: agentProto, instanceManager } = await import(built.proto.href);

const phaseMs = Number(process.env.HEARTH_BENCH_SECONDS ?? 5) * 1_000;
const warmupMs = 1_000;
const overloadMs = Number(process.env.HEARTH_BENCH_OVERLOAD_SECONDS ?? 10) * 1_000;
const pollMs = 25;
const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const subnets = ['subnet-zone1', 'subnet-zone2', 'subnet-zone3'];
const role = 'arn:aws:iam::000000000000:role/hearth-bench';

/** The two functions: the same source runs in the EE and in the baseline server. */
const noop = { name: 'bench-noop', source: "export const handler = async () => 'ok';\n", maxConcurrency: 64 };
const sleepMs = 50;
const slow = {
  name: 'bench-sleep50',
  source: `export const handler = async () => { await new Promise((r) => setTimeout(r, ${sleepMs})); return 'ok'; };\n`,
  maxConcurrency: 4,
};
/**
 * A publish starts 3 EEs (MinExecutionEnvironments' default, one per zone). The bench pins
 * MinExecutionEnvironments = MaxExecutionEnvironments = 3 where the api knows
 * PutFunctionScalingConfig, so a scaler cannot move the capacity during the run, and reads
 * the Ready EEs from the agents: capacity is what they admit.
 */
const environments = 3;
let capacityInFlight = environments * slow.maxConcurrency;
let capacityPerSecond = (capacityInFlight * 1_000) / sleepMs;
const overloadFactor = 3;

const targets = {
  throughputRatio: 0.35,
  addedP50OneCallerMs: 1,
  addedP99HalfCapacityMs: 5,
  throttleP99Ms: 5,
  goodputFraction: 0.95,
  admittedP99OverUnloaded: 2,
};

// ---------------------------------------------------------------------------
// Cleanup: on the normal path, on an error and on SIGINT/SIGTERM.


// ---------------------------------------------------------------------------
// Helpers.




function latencyStats(values) {
  const sorted = Float64Array.from(values).sort();
  const mean = sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length);
  return {
    samples: sorted.length,
    meanMs: round(mean, 3),
    p50Ms: round(percentile(sorted, 50), 3),
    p99Ms: round(percentile(sorted, 99), 3),
    p999Ms: round(percentile(sorted, 99.9), 3),
    maxMs: round(sorted.at(-1) ?? NaN, 3),
  };
}




// ---------------------------------------------------------------------------
// The baseline: a plain node:http server in a child process running the same handler sources.

const baselineServerSource = `
import http from 'node:http';
const sources = JSON.parse(process.env.HEARTH_BENCH_HANDLERS);
const handlers = {};
for (const [name, source] of Object.entries(sources)) {
  handlers[name] = (await import('data:text/javascript;base64,' + Buffer.from(source).toString('base64'))).handler;
}
const path = /^\\/2015-03-31\\/functions\\/([^/?]+)\\/invocations/;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    const handler = handlers[path.exec(req.url)?.[1]];
    if (!handler) { res.writeHead(404).end(); return; }
    try {
      const result = await handler(JSON.parse(Buffer.concat(chunks).toString() || 'null'));
      const body = JSON.stringify(result) ?? 'null';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
// Ends with its parent: stdin closes when the bench exits, however it exits.
process.stdin.on('end', () => process.exit(0)).resume();
`;

async function startBaseline(functions) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', baselineServerSource], {
    env: { ...process.env, HEARTH_BENCH_HANDLERS: JSON.stringify(Object.fromEntries(functions.map((fn) => [fn.name, fn.source]))) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(2_000).then(() => child.kill('SIGKILL'))]);
  });
  const port = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve(Number(line)));
    child.once('exit', (code) => reject(new Error(`the baseline server exited with ${code} before listening`)));
  });
  return { pid: child.pid, endpoint: `http://127.0.0.1:${port}` };
}

// ---------------------------------------------------------------------------
// CPU time of this process and its descendants (the services, agents, EE runtimes,
// infrastructure and the baseline server), by role, from /proc (Linux; empty elsewhere).
// Read per phase, it says what each hop costs per invocation. Clock ticks are 10 ms.

const clockTicksPerSecond = 100;
let baselinePid;

function roleOf(pid, cmdline) {
  if (pid === process.pid) return 'load generator (bench)';
  if (pid === baselinePid) return 'baseline server';
  const service = /services\/([\w-]+)\/dist\//.exec(cmdline);
  if (service) return service[1];
  if (/runtimes\/nodejs\//.test(cmdline)) return 'EE runtime (nodejs)';
  if (/runtimes\/python\//.test(cmdline)) return 'EE runtime (python)';
  const exe = cmdline.split('\0')[0].split('/').at(-1) || 'other';
  if (/^postgres|^postmaster/.test(exe)) return 'postgres';
  return exe;
}

function cpuSnapshot() {
  const byPid = new Map();
  let entries;
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  for (const name of entries) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byPid.set(Number(name), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // Gone meanwhile.
    }
  }
  const ticks = {};
  const processes = {};
  let machineBusy = NaN;
  try {
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    machineBusy = user + nice + system + irq + softirq + (steal || 0);
  } catch {
    // Not Linux.
  }
  for (const [pid, entry] of byPid) {
    let ancestor = pid;
    for (let hops = 0; ancestor > 1 && ancestor !== process.pid && hops < 64; hops++) ancestor = byPid.get(ancestor)?.ppid ?? 0;
    if (ancestor !== process.pid) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const role = roleOf(pid, cmdline);
    ticks[role] = (ticks[role] ?? 0) + entry.ticks;
    processes[role] = (processes[role] ?? 0) + 1;
  }
  return { ticks, processes, machineBusy, at: performance.now() };
}

/** CPU ms per phase by role, and µs per successful call, between two snapshots. */
function cpuDelta(before, after, calls) {
  if (!before || !after) return null;
  const roles = {};
  let total = 0;
  for (const [role, ticks] of Object.entries(after.ticks)) {
    const ms = ((ticks - (before.ticks[role] ?? 0)) * 1_000) / clockTicksPerSecond;
    if (ms <= 0) continue;
    total += ms;
    roles[role] = { cpuMs: ms, usPerCall: calls > 0 ? round((ms * 1_000) / calls) : null, processes: after.processes[role] };
  }
  const seconds = (after.at - before.at) / 1_000;
  // Everything else on the machine (other sessions, the kernel's own threads) in cores; ours exited processes make it slightly high.
  const othersCores = round(Math.max(0, ((after.machineBusy - before.machineBusy) * 1_000) / clockTicksPerSecond / 1_000 / seconds - total / 1_000 / seconds), 2);
  return { seconds: round(seconds, 2), totalCpuMs: total, cores: round(total / 1_000 / seconds, 2), othersCores, usPerCall: calls > 0 ? round((total * 1_000) / calls) : null, roles };
}

// ---------------------------------------------------------------------------
// The load generator: one POST of `{}` on a keep-alive Agent.

const requestBody = Buffer.from('{}');

/** Resolves with { status, reason? } (reason: the Lambda error's `Reason` of a 429), or { status: 'error', error }. */
function post(agent, url, path) {
  return new Promise((resolve) => {
    const request = http.request(
      { agent, host: url.hostname, port: url.port, method: 'POST', path, headers: { 'content-type': 'application/json', 'content-length': requestBody.length } },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => {
          const outcome = { status: response.statusCode };
          if (response.headers['x-amz-function-error']) outcome.status = `${response.statusCode} function error`;
          if (response.statusCode >= 400 && response.statusCode !== 429) outcome.detail = Buffer.concat(chunks).toString().slice(0, 300);
          if (response.statusCode === 429) {
            try {
              outcome.reason = JSON.parse(Buffer.concat(chunks).toString()).Reason ?? 'none';
            } catch {
              outcome.reason = 'unparsable';
            }
          }
          resolve(outcome);
        });
        response.on('error', (error) => resolve({ status: 'error', error: error.code ?? error.message }));
      },
    );
    request.setTimeout(30_000, () => request.destroy(new Error('timed out after 30 s')));
    request.on('error', (error) => resolve({ status: 'error', error: error.code ?? error.message }));
    request.end(requestBody);
  });
}

/** Version 1, which CreateFunction (Publish: true) published; unqualified means $LATEST.PUBLISHED, which a publish does not set unless PublishTo says so. */
const invokePath = (fn) => `/2015-03-31/functions/${fn}/invocations?Qualifier=1`;

/**
 * `callers` closed-loop callers for warm-up + `ms`; only calls sent after the
 * warm-up are measured. Throughput counts 200s completed in the measured window.
 */
async function closedLoop(endpoint, fn, callers, ms, warmup = warmupMs) {
  checkInterrupted();
  const url = new URL(endpoint);
  const path = invokePath(fn);
  const agent = new http.Agent({ keepAlive: true, maxSockets: callers });
  const ok = [];
  const others = [];
  const outcomes = {};
  const started = performance.now();
  const measureFrom = started + warmup;
  const stopAt = measureFrom + ms;
  let lastCompletion = measureFrom;
  let cpuBefore = null;
  const cpuTimer = setTimeout(() => (cpuBefore = cpuSnapshot()), Math.max(0, measureFrom - performance.now()));
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < stopAt && !interrupted) {
        const sent = performance.now();
        const outcome = await post(agent, url, path);
        const done = performance.now();
        if (sent < measureFrom) continue;
        lastCompletion = Math.max(lastCompletion, done);
        const key = outcome.reason ? `429 ${outcome.reason}` : String(outcome.error ? `error ${outcome.error}` : outcome.status);
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        (outcome.status === 200 ? ok : others).push(done - sent);
      }
    }),
  );
  const cpu = cpuDelta(cpuBefore, cpuSnapshot(), ok.length);
  clearTimeout(cpuTimer);
  agent.destroy();
  const seconds = (lastCompletion - measureFrom) / 1_000;
  return {
    callers,
    seconds: round(seconds, 2),
    perSecond: round(ok.length / seconds),
    ...latencyStats(ok),
    outcomes,
    othersP50Ms: round(percentile(Float64Array.from(others).sort(), 50), 3),
    cpu,
  };
}

/**
 * An open loop: `rate` requests per second for `ms`, each sent at its scheduled
 * time whatever the answers (up to `maxSockets` connections; beyond it node:http
 * queues, which shows as latency). Latency from the call to node:http and from
 * the scheduled time; the generator's lag behind its schedule.
 */
async function openLoop(endpoint, fn, rate, ms, maxSockets = 256) {
  checkInterrupted();
  const url = new URL(endpoint);
  const path = invokePath(fn);
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const interval = 1_000 / rate;
  const started = performance.now();
  const end = started + ms;
  const admitted = { fromSend: [], fromSchedule: [] };
  const throttled = { fromSend: [], fromSchedule: [] };
  const lag = [];
  const outcomes = {};
  const reasons = {};
  const pending = [];
  let lastAdmittedCompletion = started;
  let next = started;
  let sent = 0;
  // Per 250 ms of schedule: sent, 200s, 429s, slowest 429 and slowest 200 (to see whether slow answers cluster).
  const bucketMs = 250;
  const series = Array.from({ length: Math.ceil(ms / bucketMs) }, (_, i) => ({ atMs: i * bucketMs, sent: 0, ok: 0, throttled: 0, maxThrottledMs: 0, maxOkMs: 0 }));
  const cpuBefore = cpuSnapshot();
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next <= now && next < end) {
        const scheduled = next;
        next += interval;
        sent += 1;
        const sentAt = performance.now();
        lag.push(sentAt - scheduled);
        const bucket = series[Math.min(series.length - 1, Math.floor((scheduled - started) / bucketMs))];
        bucket.sent += 1;
        pending.push(
          post(agent, url, path).then((outcome) => {
            const done = performance.now();
            const key = outcome.error ? `error ${outcome.error}` : String(outcome.status);
            outcomes[key] = (outcomes[key] ?? 0) + 1;
            if (outcome.status === 200) {
              bucket.ok += 1;
              bucket.maxOkMs = Math.max(bucket.maxOkMs, round(done - sentAt, 1));
              admitted.fromSend.push(done - sentAt);
              admitted.fromSchedule.push(done - scheduled);
              lastAdmittedCompletion = Math.max(lastAdmittedCompletion, done);
            } else if (outcome.status === 429) {
              bucket.throttled += 1;
              bucket.maxThrottledMs = Math.max(bucket.maxThrottledMs, round(done - sentAt, 1));
              throttled.fromSend.push(done - sentAt);
              throttled.fromSchedule.push(done - scheduled);
              reasons[outcome.reason] = (reasons[outcome.reason] ?? 0) + 1;
            }
          }),
        );
      }
      if (next >= end || interrupted) resolve();
      else setTimeout(tick, Math.max(0, next - performance.now()));
    };
    tick();
  });
  await Promise.all(pending);
  const cpu = cpuDelta(cpuBefore, cpuSnapshot(), admitted.fromSend.length + throttled.fromSend.length);
  agent.destroy();
  const seconds = ms / 1_000;
  const slowThrottles = (limit) => throttled.fromSend.filter((value) => value > limit).length;
  return {
    offeredPerSecond: rate,
    seconds,
    sent,
    sentPerSecond: round(sent / seconds),
    outcomes,
    throttleReasons: reasons,
    goodputPerSecond: round(admitted.fromSend.length / seconds, 1),
    drainMs: round(lastAdmittedCompletion - end),
    admitted: latencyStats(admitted.fromSend),
    admittedFromSchedule: latencyStats(admitted.fromSchedule),
    throttled: latencyStats(throttled.fromSend),
    throttledFromSchedule: latencyStats(throttled.fromSchedule),
    generatorLag: latencyStats(lag),
    throttledOver5Ms: slowThrottles(5),
    throttledOver20Ms: slowThrottles(20),
    bucketsWithA429Over5Ms: series.filter((bucket) => bucket.maxThrottledMs > 5).length,
    buckets: series.length,
    cpu,
    series,
  };
}

/** `wrk` against an endpoint, when Debian's wrk is on PATH; parsed figures or null. */
function wrkRun(endpoint, fn, connections, seconds, script) {
  const run = spawnSync(
    'wrk',
    ['-t', String(Math.min(2, connections)), '-c', String(connections), '-d', `${seconds}s`, '--latency', '-s', script, `${endpoint}${invokePath(fn)}`],
    { encoding: 'utf8', timeout: (seconds + 15) * 1_000 },
  );
  if (run.status !== 0) return { error: (run.stderr || run.error?.message || `exit ${run.status}`).trim() };
  const toMs = (value, unit) => Number(value) * ({ us: 0.001, ms: 1, s: 1_000, m: 60_000 }[unit] ?? NaN);
  const latency = (p) => {
    const match = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(run.stdout);
    return match ? round(toMs(match[1], match[2]), 3) : NaN;
  };
  const perSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(run.stdout)?.[1] ?? 0);
  return { connections, perSecond: round(perSecond), p50Ms: latency(50), p99Ms: latency(99), non2xx };
}

function whichWrk() {
  const found = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : null;
}

// ---------------------------------------------------------------------------
// The run.

async function main() {
  const results = {
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadavgBefore: loadavg().map((v) => round(v, 2)) },
    ...gitState(),
    phaseMs,
    warmupMs,
    overloadMs,
    targets,
  };

  let t0 = performance.now();
  const infra = await startInfra(resolveInfra);
  results.infra = { sources: infra.sources, startMs: round(performance.now() - t0) };

  t0 = performance.now();
  const starting = startCluster({
    mode: 'ephemeral',
    infra: { databaseUrl: infra.databaseUrl, natsUrl: infra.natsUrl, temporalAddress: infra.temporalAddress },
    env: {
      HEARTH_SUBNET_ZONES: subnets.map((subnet, i) => `${subnet}=${zones[i]}`).join(','),
      HEARTH_NATS_PREFIX: `bench${randomBytes(3).toString('hex')}`,
    },
    keepDataDir: process.env.HEARTH_BENCH_KEEP_LOGS === '1',
  });
  cleanups.push(async () => (await starting.catch(() => undefined))?.stop());
  const cluster = await starting;
  checkInterrupted();
  results.cluster = { startMs: round(performance.now() - t0) };
  console.log(`infrastructure ${JSON.stringify(infra.sources)} in ${results.infra.startMs} ms, cluster in ${results.cluster.startMs} ms`);

  const baseline = await startBaseline([noop, slow]);
  baselinePid = baseline.pid;
  console.log(`baseline: plain node:http server (pid ${baseline.pid}) at ${baseline.endpoint}; full path: api at ${cluster.httpEndpoint}`);

  const lambda = new LambdaClient({
    endpoint: cluster.httpEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'hearth', secretAccessKey: 'hearth' },
    maxAttempts: 1,
  });
  cleanups.push(async () => lambda.destroy());
  const instances = createClient(instanceManager.InstanceManagerServiceClient, cluster.grpcEndpoints['instance-manager']);
  cleanups.push(async () => instances.close());

  /** Ready EEs and their slots per function, from every running instance's agent. */
  async function readyEnvironments() {
    const { instances: list } = await callUnary(instances, instances.listInstances, { capacityProviderArn: '', includeTerminated: false });
    const byFunction = {};
    for (const instance of list) {
      const client = createClient(agentProto.AgentServiceClient, instance.agentAddress);
      try {
        const { environments: statuses } = await callUnary(client, client.listEnvironments, {});
        for (const status of statuses) {
          if (status.state !== 'Ready') continue;
          const name = /:function:([^:]+)/.exec(status.functionArn)?.[1] ?? status.functionArn;
          byFunction[name] ??= { ready: 0, slots: 0, instances: 0 };
          byFunction[name].ready += 1;
          byFunction[name].slots += status.maxConcurrency;
        }
      } catch (error) {
        byFunction.errors = [...(byFunction.errors ?? []), `${instance.instanceId}: ${describeError(error)}`];
      } finally {
        client.close();
      }
    }
    return byFunction;
  }

  // Capacity provider and the two functions.
  t0 = performance.now();
  const { CapacityProvider } = await lambda.send(
    new CreateCapacityProviderCommand({
      CapacityProviderName: 'bench-invoke',
      VpcConfig: { SubnetIds: subnets, SecurityGroupIds: [] },
      PermissionsConfig: { CapacityProviderOperatorRoleArn: role },
    }),
  );
  const providerArn = CapacityProvider.CapacityProviderArn;
  for (const deadline = Date.now() + 30_000; ; ) {
    checkInterrupted();
    const { CapacityProvider: current } = await lambda.send(new GetCapacityProviderCommand({ CapacityProviderName: 'bench-invoke' }));
    if (current?.State === 'Active') break;
    if (current?.State === 'Failed' || Date.now() > deadline) throw new Error(`capacity provider bench-invoke is ${current?.State}, not Active`);
    await sleep(pollMs);
  }

  async function publish(fn) {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: fn.name,
        Role: role,
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Timeout: 10,
        Code: { ZipFile: zipOf({ 'index.mjs': fn.source }) },
        CapacityProviderConfig: {
          LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn, PerExecutionEnvironmentMaxConcurrency: fn.maxConcurrency },
        },
        Publish: true,
      }),
    );
    for (const deadline = Date.now() + 60_000; ; ) {
      checkInterrupted();
      const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn.name, Qualifier: '1' }));
      if (configuration.State === 'Active') return;
      if (configuration.State !== 'Pending' || Date.now() > deadline) {
        throw new Error(`${fn.name}:1 is ${configuration.State} (${configuration.StateReasonCode ?? 'no reason code'}: ${configuration.StateReason ?? ''})`);
      }
      await sleep(pollMs);
    }
  }
  await publish(noop);
  await publish(slow);
  results.publishMs = round(performance.now() - t0);

  // Pin each version to 3 EEs where the api can (PutFunctionScalingConfig arrived with issue #5's work).
  results.scalingConfig = {};
  for (const fn of [noop, slow]) {
    if (!sdk.PutFunctionScalingConfigCommand) {
      results.scalingConfig[fn.name] = 'not pinned: this SDK has no PutFunctionScalingConfig';
      continue;
    }
    try {
      await lambda.send(
        new sdk.PutFunctionScalingConfigCommand({
          FunctionName: fn.name,
          Qualifier: '1',
          FunctionScalingConfig: { MinExecutionEnvironments: environments, MaxExecutionEnvironments: environments },
        }),
      );
      results.scalingConfig[fn.name] = `pinned to ${environments} EEs`;
    } catch (error) {
      results.scalingConfig[fn.name] = `not pinned (${describeError(error)}); nothing else scales EEs unless a scaler runs`;
    }
  }
  for (const fn of [noop, slow]) {
    for (const deadline = Date.now() + 30_000; ; ) {
      checkInterrupted();
      const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn.name, Qualifier: '1' }));
      if (configuration.State === 'Active') break;
      if (Date.now() > deadline) throw new Error(`${fn.name}:1 is ${configuration.State} after its scaling config, not Active`);
      await sleep(pollMs);
    }
  }
  const fleetBefore = await readyEnvironments();
  results.fleetBefore = fleetBefore;
  const slowFleet = fleetBefore[slow.name] ?? { ready: 0, slots: 0 };
  if (slowFleet.ready !== environments || slowFleet.slots !== environments * slow.maxConcurrency) {
    console.log(`note: ${slow.name} has ${slowFleet.ready} Ready EEs with ${slowFleet.slots} slots, not ${environments} × ${slow.maxConcurrency}; capacity follows the fleet`);
  }
  if (slowFleet.slots > 0) {
    capacityInFlight = slowFleet.slots;
    capacityPerSecond = (capacityInFlight * 1_000) / sleepMs;
  }
  console.log(
    `scaling config: ${Object.entries(results.scalingConfig).map(([name, text]) => `${name} ${text}`).join('; ')}; ` +
      `Ready EEs: ${Object.entries(fleetBefore).map(([name, f]) => `${name} ${f.ready} (${f.slots} slots)`).join(', ')}`,
  );

  // Routable: the router knows the EEs from the agents' load reports. For the 50 ms function,
  // wait until `capacityInFlight` concurrent calls are all admitted (every EE is in the table).
  const url = new URL(cluster.httpEndpoint);
  const probeAgent = new http.Agent({ keepAlive: true, maxSockets: capacityInFlight });
  for (const deadline = Date.now() + 15_000; ; ) {
    checkInterrupted();
    const [first, ...rest] = await Promise.all([
      post(probeAgent, url, invokePath(noop.name)),
      ...Array.from({ length: capacityInFlight }, () => post(probeAgent, url, invokePath(slow.name))),
    ]);
    if (first.status === 200 && rest.every((outcome) => outcome.status === 200)) break;
    if (Date.now() > deadline) {
      throw new Error(`the functions are not routable at full capacity after 15 s: no-op ${JSON.stringify(first)}, 50 ms ${JSON.stringify(rest.map((o) => o.status))}`);
    }
    await sleep(250);
  }
  probeAgent.destroy();
  for (const [endpoint, label] of [
    [baseline.endpoint, 'baseline'],
    [cluster.httpEndpoint, 'full path'],
  ]) {
    const answer = await post(new http.Agent(), new URL(endpoint), invokePath(noop.name));
    if (answer.status !== 200) throw new Error(`${label} answered the no-op with ${JSON.stringify(answer)}`);
  }
  results.readyMs = round(performance.now() - t0);
  console.log(`provider + 2 publishes Active in ${results.publishMs} ms; routable at full capacity after ${results.readyMs} ms`);

  // What the cluster burns with nothing to do (load reports, timers, Temporal…), to read the per-call CPU against.
  const idleBefore = cpuSnapshot();
  await sleep(3_000);
  results.idleCpu = cpuDelta(idleBefore, cpuSnapshot(), 0);
  if (results.idleCpu) console.log(`idle for 3 s: the cluster and its infrastructure keep ${results.idleCpu.cores} cores busy; other processes on the machine ${results.idleCpu.othersCores}`);

  // (a) no-op: full path vs baseline, 1 and 64 callers.
  results.noop = { function: noop.name, maxConcurrency: noop.maxConcurrency, levels: [] };
  for (const callers of [1, 64]) {
    const base = await closedLoop(baseline.endpoint, noop.name, callers, phaseMs);
    const full = await closedLoop(cluster.httpEndpoint, noop.name, callers, phaseMs);
    const level = {
      callers,
      baseline: base,
      full,
      throughputRatio: round(full.perSecond / base.perSecond, 3),
      addedP50Ms: round(full.p50Ms - base.p50Ms, 3),
      addedP99Ms: round(full.p99Ms - base.p99Ms, 3),
    };
    results.noop.levels.push(level);
    console.log(
      `  no-op, ${String(callers).padStart(2)} caller(s): full ${full.perSecond} req/s p50 ${full.p50Ms} ms p99 ${full.p99Ms} ms; ` +
        `baseline ${base.perSecond} req/s p50 ${base.p50Ms} ms p99 ${base.p99Ms} ms; ratio ${level.throughputRatio}`,
    );
  }

  const wrk = whichWrk();
  if (wrk) {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-wrk-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const script = join(dir, 'post.lua');
    writeFileSync(script, 'wrk.method = "POST"\nwrk.body = "{}"\nwrk.headers["Content-Type"] = "application/json"\n');
    results.wrk = { path: wrk, levels: [] };
    for (const connections of [1, 64]) {
      checkInterrupted();
      const base = wrkRun(baseline.endpoint, noop.name, connections, phaseMs / 1_000, script);
      const full = wrkRun(cluster.httpEndpoint, noop.name, connections, phaseMs / 1_000, script);
      results.wrk.levels.push({ connections, baseline: base, full, throughputRatio: round(full.perSecond / base.perSecond, 3) });
    }
  } else {
    results.wrk = { absent: true, note: '`wrk` is not on PATH (Debian package wrk); not installed by this bench' };
  }

  // (b) the 50 ms function: unloaded, half capacity, then 3× capacity.
  results.overload = { function: slow.name, sleepMs, maxConcurrency: slow.maxConcurrency, environments: slowFleet.ready, capacityInFlight, capacityPerSecond };
  // Twice the phase: at ~18 calls/s a 5 s phase holds ~90 samples, whose p99 is their second largest.
  const unloaded = await closedLoop(cluster.httpEndpoint, slow.name, 1, 2 * phaseMs);
  results.overload.unloaded = unloaded;
  console.log(`  50 ms function, 1 caller (unloaded): ${unloaded.perSecond} req/s p50 ${unloaded.p50Ms} ms p99 ${unloaded.p99Ms} ms (${unloaded.samples} samples)`);

  const half = Math.max(1, Math.round(capacityInFlight / 2));
  const halfBase = await closedLoop(baseline.endpoint, slow.name, half, phaseMs);
  const halfFull = await closedLoop(cluster.httpEndpoint, slow.name, half, phaseMs);
  results.halfCapacity = {
    function: slow.name,
    callers: half,
    baseline: halfBase,
    full: halfFull,
    addedP50Ms: round(halfFull.p50Ms - halfBase.p50Ms, 3),
    addedP99Ms: round(halfFull.p99Ms - halfBase.p99Ms, 3),
  };
  console.log(`  50 ms function, ${half} callers (half capacity): full p50 ${halfFull.p50Ms} ms p99 ${halfFull.p99Ms} ms; baseline p50 ${halfBase.p50Ms} ms p99 ${halfBase.p99Ms} ms`);

  const rate = overloadFactor * capacityPerSecond;
  const loaded = await openLoop(cluster.httpEndpoint, slow.name, rate, overloadMs);
  const throttledCount = loaded.outcomes['429'] ?? 0;
  Object.assign(results.overload, {
    offeredPerSecond: rate,
    loaded,
    goodputFraction: round(loaded.goodputPerSecond / capacityPerSecond, 3),
    // The most a closed system can complete when each call holds its slot for the unloaded mean (service + path).
    effectiveCapacityPerSecond: round((capacityInFlight * 1_000) / unloaded.meanMs, 1),
    goodputOfEffectiveCapacity: round(loaded.goodputPerSecond / ((capacityInFlight * 1_000) / unloaded.meanMs), 3),
    admittedP99OverUnloaded: round(loaded.admitted.p99Ms / unloaded.p99Ms, 3),
    throttled: throttledCount,
    throttledShare: round(throttledCount / Math.max(1, loaded.sent), 3),
  });
  console.log(
    `  50 ms function, open loop at ${rate} req/s for ${overloadMs / 1_000} s: goodput ${loaded.goodputPerSecond} req/s, ` +
      `admitted p99 ${loaded.admitted.p99Ms} ms, ${throttledCount} × 429 (p50 ${loaded.throttled.p50Ms} ms, p99 ${loaded.throttled.p99Ms} ms)`,
  );
  results.fleetAfter = await readyEnvironments();
  if (JSON.stringify(results.fleetAfter[slow.name]) !== JSON.stringify(results.fleetBefore[slow.name])) {
    console.log(`note: the EEs of ${slow.name} changed during the run: ${JSON.stringify(results.fleetBefore[slow.name])} → ${JSON.stringify(results.fleetAfter[slow.name])}`);
  }
  results.machine.loadavgAfter = loadavg().map((v) => round(v, 2));
  return results;
}

// ---------------------------------------------------------------------------
// Tables.

function table(title, rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  console.log(`\n${title}`);
  rows.forEach((row, index) => {
    console.log(row.map((cell, i) => String(cell).padEnd(widths[i])).join('  |  '));
    if (index === 0) console.log(widths.map((w) => '-'.repeat(w)).join('--|--'));
  });
}

const ms = (value) => (Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 1)} ms` : 'n/a');

function printTables(results) {
  const rows = [['no-op, closed loop', 'req/s', 'p50', 'p99', 'p99.9', 'calls', 'outcomes']];
  for (const level of results.noop.levels) {
    for (const [label, run] of [
      ['full path', level.full],
      ['baseline', level.baseline],
    ]) {
      rows.push([
        `${label}, ${level.callers} caller(s)`,
        run.perSecond,
        ms(run.p50Ms),
        ms(run.p99Ms),
        ms(run.p999Ms),
        run.samples,
        Object.entries(run.outcomes)
          .map(([key, n]) => `${key}×${n}`)
          .join(' '),
      ]);
    }
    rows.push([`  ratio full / baseline, ${level.callers} caller(s)`, `${level.throughputRatio}×`, `+${ms(level.addedP50Ms)}`, `+${ms(level.addedP99Ms)}`, '', '', '']);
  }
  table(
    `(a) no-op through the full path vs a plain node:http server, same generator (node:http keep-alive, ${results.phaseMs / 1_000} s after ${results.warmupMs / 1_000} s warm-up, ${results.machine.cpus} cores)`,
    rows,
  );
  if (results.wrk.absent) console.log(`wrk: absent — ${results.wrk.note}`);
  else {
    const wrkRows = [['wrk', 'connections', 'req/s', 'p50', 'p99', 'non-2xx', 'ratio']];
    for (const level of results.wrk.levels) {
      for (const [label, run] of [
        ['full path', level.full],
        ['baseline', level.baseline],
      ]) {
        wrkRows.push(run.error ? [label, level.connections, run.error, '', '', '', ''] : [label, level.connections, run.perSecond, ms(run.p50Ms), ms(run.p99Ms), run.non2xx, label === 'full path' ? `${level.throughputRatio}×` : '']);
      }
    }
    table(`(a') the same with ${results.wrk.path}`, wrkRows);
  }

  const o = results.overload;
  const h = results.halfCapacity;
  const l = o.loaded;
  table(`(b) ${sleepMs} ms handler, ${o.environments} EEs × ${o.maxConcurrency} = ${o.capacityInFlight} in flight = ${o.capacityPerSecond} req/s capacity`, [
    ['phase', 'req/s', 'p50', 'p99', 'p99.9', 'outcomes'],
    ['unloaded, 1 caller (full path)', o.unloaded.perSecond, ms(o.unloaded.p50Ms), ms(o.unloaded.p99Ms), ms(o.unloaded.p999Ms), `${o.unloaded.samples} samples`],
    [`half capacity, ${h.callers} callers, full path`, h.full.perSecond, ms(h.full.p50Ms), ms(h.full.p99Ms), ms(h.full.p999Ms), Object.entries(h.full.outcomes).map(([k, n]) => `${k}×${n}`).join(' ')],
    [`half capacity, ${h.callers} callers, baseline`, h.baseline.perSecond, ms(h.baseline.p50Ms), ms(h.baseline.p99Ms), ms(h.baseline.p999Ms), ''],
    [`3× open loop ${o.offeredPerSecond} req/s: admitted (200)`, l.goodputPerSecond, ms(l.admitted.p50Ms), ms(l.admitted.p99Ms), ms(l.admitted.p999Ms), `${l.admitted.samples}`],
    [`3× open loop: throttled (429)`, round(o.throttled / (l.seconds || 1)), ms(l.throttled.p50Ms), ms(l.throttled.p99Ms), ms(l.throttled.p999Ms), `${o.throttled} = ${round(100 * o.throttledShare, 1)} % of ${l.sent}`],
  ]);
  console.log(
    `   outcomes ${JSON.stringify(l.outcomes)}; 429 reasons ${JSON.stringify(l.throttleReasons)}; sent ${l.sentPerSecond} req/s; ` +
      `generator lag p50 ${ms(l.generatorLag.p50Ms)} p99 ${ms(l.generatorLag.p99Ms)}; from the schedule: admitted p99 ${ms(l.admittedFromSchedule.p99Ms)}, 429 p99 ${ms(l.throttledFromSchedule.p99Ms)}`,
  );
  console.log(
    `   429s slower than 5 ms: ${l.throttledOver5Ms} (${round((100 * l.throttledOver5Ms) / Math.max(1, o.throttled), 1)} %), slower than 20 ms: ${l.throttledOver20Ms}; ` +
      `${l.bucketsWithA429Over5Ms} of ${l.buckets} 250 ms windows hold a 429 slower than 5 ms (series in the JSON)`,
  );
  console.log(
    `   goodput ${l.goodputPerSecond} req/s = ${round(100 * o.goodputFraction, 1)} % of ${o.capacityPerSecond} req/s; ` +
      `${round(100 * o.goodputOfEffectiveCapacity, 1)} % of ${o.effectiveCapacityPerSecond} req/s (${o.capacityInFlight} slots ÷ the unloaded mean ${ms(o.unloaded.meanMs)})`,
  );

  printCpu(results);

  const one = results.noop.levels.find((level) => level.callers === 1);
  const many = results.noop.levels.find((level) => level.callers === 64);
  const verdict = (ok) => (ok === undefined ? 'n/a' : ok ? 'met' : 'missed');
  table('figures vs ARCHITECTURE.md targets', [
    ['figure', 'measured', 'target', ''],
    ['no-op throughput full / baseline, 64 callers', `${many.throughputRatio}× (${many.full.perSecond} / ${many.baseline.perSecond} req/s)`, `≥ ${targets.throughputRatio}×`, verdict(many.throughputRatio >= targets.throughputRatio)],
    ['  the same, 1 caller (for reading)', `${one.throughputRatio}× (${one.full.perSecond} / ${one.baseline.perSecond} req/s)`, '', ''],
    ['added latency, 1 caller, p50', ms(one.addedP50Ms), `≤ ${ms(targets.addedP50OneCallerMs)}`, verdict(one.addedP50Ms <= targets.addedP50OneCallerMs)],
    [`added latency at half capacity (${h.callers} callers, ${sleepMs} ms fn), p99`, ms(h.addedP99Ms), `≤ ${ms(targets.addedP99HalfCapacityMs)}`, verdict(h.addedP99Ms <= targets.addedP99HalfCapacityMs)],
    ['answer to a throttled call (429), p99', `${ms(l.throttled.p99Ms)} (p50 ${ms(l.throttled.p50Ms)}, ${l.throttled.samples} × 429)`, `≤ ${ms(targets.throttleP99Ms)}`, verdict(l.throttled.samples > 0 ? l.throttled.p99Ms <= targets.throttleP99Ms : undefined)],
    ['goodput at 3× offered load', `${round(100 * o.goodputFraction, 1)} % (${l.goodputPerSecond} of ${o.capacityPerSecond} req/s)`, `≥ ${100 * targets.goodputFraction} %`, verdict(o.goodputFraction >= targets.goodputFraction)],
    ['admitted p99 at 3× / unloaded p99', `${o.admittedP99OverUnloaded}× (${ms(l.admitted.p99Ms)} / ${ms(o.unloaded.p99Ms)})`, `≤ ${targets.admittedP99OverUnloaded}×`, verdict(o.admittedP99OverUnloaded <= targets.admittedP99OverUnloaded)],
  ]);
  console.log(`\nload average before ${results.machine.loadavgBefore.join(' ')}, after ${results.machine.loadavgAfter.join(' ')} (${results.machine.cpus} cores; other processes share them)`);
  if (o.unloaded.samples < 1_000) console.log(`the unloaded p99 is nearest-rank over ${o.unloaded.samples} samples (close to their maximum)`);
}

/** CPU µs per successful call, by process role, for the full-path phases (from /proc; 10 ms ticks). */
function printCpu(results) {
  const phases = [
    ...results.noop.levels.flatMap((level) => [
      [`no-op ${level.callers}c full`, level.full.cpu],
      [`no-op ${level.callers}c base`, level.baseline.cpu],
    ]),
    [`50 ms 3× (per answer)`, results.overload.loaded.cpu],
  ].filter(([, cpu]) => cpu);
  if (phases.length === 0) return;
  const roles = [...new Set(phases.flatMap(([, cpu]) => Object.keys(cpu.roles)))].filter((role) =>
    phases.some(([, cpu]) => (cpu.roles[role]?.cpuMs ?? 0) >= 50),
  );
  const order = ['load generator (bench)', 'baseline server', 'api', 'router', 'agent', 'EE runtime (nodejs)'];
  roles.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
  const idle = results.idleCpu;
  const rows = [['CPU µs per successful call', ...phases.map(([label]) => label), 'idle, cores']];
  for (const role of roles) {
    rows.push([role, ...phases.map(([, cpu]) => (cpu.roles[role] ? String(cpu.roles[role].usPerCall) : '-')), idle?.roles[role] ? String(round(idle.roles[role].cpuMs / 1_000 / idle.seconds, 3)) : '-']);
  }
  rows.push(['all of ours', ...phases.map(([, cpu]) => String(cpu.usPerCall)), idle ? String(idle.cores) : '-']);
  rows.push(['our cores busy', ...phases.map(([, cpu]) => String(cpu.cores)), idle ? String(idle.cores) : '-']);
  rows.push(['other processes, cores', ...phases.map(([, cpu]) => String(cpu.othersCores)), idle ? String(idle.othersCores) : '-']);
  table('CPU by process (this process and its descendants, /proc, 10 ms ticks; roles under 50 ms in every phase left out)', rows);
}

await runBench('invoke', main, printTables);
