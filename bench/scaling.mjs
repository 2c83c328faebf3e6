#!/usr/bin/env node
// Scaling under load on the local cluster (issue #5, deliverable 5): a step from
// 1× to 4× load and a linear ramp from 1× to 2×, against the real scaler.
//
// The cluster: real Postgres, NATS and Temporal, every service (the scaler
// included), the local instance provider; one function published with the AWS
// SDK (nodejs20.x, PerExecutionEnvironmentMaxConcurrency 2, handler sleeps 100 ms).
// Its 3 initial EEs (MinExecutionEnvironments' default) hold 6 in flight =
// 60 req/s at 100 ms; 1× = 30 req/s (half of that capacity).
//
// The scaler's windows are shortened through its environment, as
// test/scaling.e2e.test.ts does (services/scaler/src/scaler-config.ts): step
// every 0.5 s instead of 2 s, stable window 6 s instead of 60 s (10×), burst
// window 2 s instead of 6 s (3×), scale-down delay 8 s instead of 5 min (37.5×).
//
// Load: an open loop in this process (node:http keep-alive Agent POSTing `{}`
// to the api's `/2015-03-31/functions/<fn>/invocations?Qualifier=1`, unsigned,
// as bench/invoke.mjs does; the AWS SDK's InvokeCommand costs too much CPU per
// call on 2 cores for a steady arrival rate): sends at a fixed arrival rate
// whatever the answers, with at most `maxOutstanding` calls in flight (a send
// that would exceed it is counted as `skipped`, never queued). No retries.
//
// (1) step: 1× for 10 s, then 4× (120 req/s) for 40 s. Figures: the time from
//     the step until throttles stop (the end of the last 429 before the first
//     2 s window without one, by send time), the 429 share during that ramp and
//     over the whole 40 s, the peak Ready EEs.
// (2) ramp: back to 1× until the version has scaled down (Ready EEs within one
//     of what 1× held before the step, for 2 s; 45 s at most), then linearly 1× → 2× over
//     60 s — the scaled-down equivalent of "2× in five minutes" (5× shorter).
//     Figures: 429s (target 0) and Ready EEs over time.
//
// Ready EEs are read every 500 ms from the instance-manager's instance list and
// each agent's ListEnvironments (as bench/invoke.mjs does).
//
// Prints a table and writes bench/results/scaling.json. Never passes or fails on
// the figures (non-zero exit only when it cannot run). Run after `npx tsc -b`:
// `node bench/scaling.mjs`. Infrastructure: DATABASE_URL, NATS_URL and
// TEMPORAL_ADDRESS when set (a fresh database and NATS prefix on them), else
// throw-away local servers from libs/cluster. HEARTH_BENCH_KEEP_LOGS=1 keeps the
// cluster's logs (the scaler's `scaler.decision` lines).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { strToU8, zipSync } from 'fflate';
import { cleanups, interrupted, runBench, checkInterrupted, sleep, round, percentile, gitState, startInfra } from './support/harness.mjs';

const root = new URL('../', import.meta.url);
const built = {
  cluster: new URL('libs/cluster/dist/index.js', root),
  grpc: new URL('libs/grpc/dist/index.js', root),
  proto: new URL('libs/proto/dist/index.js', root),
};
for (const url of [...Object.values(built), ...['api', 'router', 'placement', 'instance-manager', 'agent', 'scaler'].map((name) => new URL(`services/${name}/dist/main.js`, root))]) {
  if (!existsSync(url)) {
    console.error(`${url.pathname} is missing: build first with \`npx tsc -b\``);
    process.exit(1);
  }
}
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { CreateCapacityProviderCommand, CreateFunctionCommand, GetCapacityProviderCommand, GetFunctionConfigurationCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
const { resolveInfra, startCluster } = await import(built.cluster.href);
const { callUnary, createClient } = await import(built.grpc.href);
const { agent: agentProto, instanceManager } = await import(built.proto.href);

const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const subnets = ['subnet-zone1', 'subnet-zone2', 'subnet-zone3'];
const role = 'arn:aws:iam::000000000000:role/hearth-bench';

/** The scaler's windows: shortened (as test/scaling.e2e.test.ts) against the defaults. */
const scalerWindows = [
  { variable: 'HEARTH_SCALER_INTERVAL_MS', label: 'scaling step', benchMs: 500, defaultMs: 2_000 },
  { variable: 'HEARTH_SCALER_STABLE_WINDOW_MS', label: 'stable window', benchMs: 6_000, defaultMs: 60_000 },
  { variable: 'HEARTH_SCALER_BURST_WINDOW_MS', label: 'burst window', benchMs: 2_000, defaultMs: 6_000 },
  { variable: 'HEARTH_SCALER_SCALE_DOWN_DELAY_MS', label: 'scale-down delay', benchMs: 8_000, defaultMs: 300_000 },
];

const fn = {
  name: 'bench-scaling',
  sleepMs: 100,
  maxConcurrency: 2,
  source: `export const handler = async () => { await new Promise((r) => setTimeout(r, 100)); return 'ok'; };\n`,
};
const initialEnvironments = 3;
const capacityPerSecond = (initialEnvironments * fn.maxConcurrency * 1_000) / fn.sleepMs; // 60
const baseRate = capacityPerSecond / 2; // 1× = 30 req/s
const maxOutstanding = 512;
const plan = {
  step: { beforeMs: 10_000, afterMs: 40_000, factor: 4 },
  scaleDown: { maxMs: 45_000, steadyMs: 2_000, slackEnvironments: 1 },
  ramp: { ms: 60_000, from: 1, to: 2, realWorldMs: 300_000 },
  quietWindowMs: 2_000,
  bucketMs: 100,
  readyPollMs: 500,
};

// ---------------------------------------------------------------------------
// Cleanup: on the normal path, on an error and on SIGINT/SIGTERM.






// ---------------------------------------------------------------------------
// The load generator.

const requestBody = Buffer.from('{}');

/** Resolves with { status, reason? } (the `Reason` of a 429), or { status: 'error', error }. */
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

/**
 * One open loop for the whole run: `rateAt(msSinceStart)` req/s, the next send
 * scheduled 1/rate after the previous one; bounded outstanding; per-bucket
 * counts by send time. `untilMs(msSinceStart)` (or a stop() call) ends it.
 */
function openLoop(endpoint, path, rateAt) {
  const url = new URL(endpoint);
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxOutstanding });
  const started = performance.now();
  const buckets = [];
  const bucketAt = (ms) => (buckets[Math.floor(ms / plan.bucketMs)] ??= { sent: 0, ok: 0, throttled: 0, failed: 0, skipped: 0, latencies: [] });
  const outcomes = {};
  const failures = [];
  const pending = new Set();
  let next = started;
  let stopped = false;
  let outstanding = 0;
  let maxOutstandingSeen = 0;
  let timer;
  const lag = [];
  const tick = () => {
    const now = performance.now();
    while (!stopped && next <= now) {
      const scheduled = next;
      const at = scheduled - started;
      next += 1_000 / rateAt(at);
      const bucket = bucketAt(at);
      if (outstanding >= maxOutstanding) {
        bucket.skipped += 1;
        continue;
      }
      bucket.sent += 1;
      outstanding += 1;
      maxOutstandingSeen = Math.max(maxOutstandingSeen, outstanding);
      const sentAt = performance.now();
      lag.push(sentAt - scheduled);
      const call = post(agent, url, path).then((outcome) => {
        outstanding -= 1;
        const key = outcome.reason ? `429 ${outcome.reason}` : outcome.error ? `error ${outcome.error}` : String(outcome.status);
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        if (outcome.status === 200) {
          bucket.ok += 1;
          bucket.latencies.push(performance.now() - sentAt);
        } else if (outcome.status === 429) bucket.throttled += 1;
        else {
          bucket.failed += 1;
          if (failures.length < 10) failures.push(`${key} ${outcome.detail ?? ''}`.trim());
        }
        pending.delete(call);
      });
      pending.add(call);
    }
    if (!stopped) timer = setTimeout(tick, Math.max(0, next - performance.now()));
  };
  tick();
  return {
    started,
    now: () => performance.now() - started,
    buckets,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all([...pending]);
      agent.destroy();
      const sortedLag = Float64Array.from(lag).sort();
      return { outcomes, failures, maxOutstandingSeen, lagP50Ms: round(percentile(sortedLag, 50), 2), lagP99Ms: round(percentile(sortedLag, 99), 2) };
    },
  };
}

/** Totals of the buckets whose send time is in [fromMs, toMs). */
function totals(buckets, fromMs, toMs) {
  const sum = { sent: 0, ok: 0, throttled: 0, failed: 0, skipped: 0 };
  const latencies = [];
  for (let i = Math.floor(fromMs / plan.bucketMs); i < Math.ceil(toMs / plan.bucketMs); i++) {
    const bucket = buckets[i];
    if (!bucket) continue;
    for (const key of Object.keys(sum)) sum[key] += bucket[key];
    latencies.push(...bucket.latencies);
  }
  const sorted = Float64Array.from(latencies).sort();
  return {
    ...sum,
    seconds: round((toMs - fromMs) / 1_000, 1),
    sentPerSecond: round((sum.sent * 1_000) / Math.max(1, toMs - fromMs), 1),
    throttledShare: round(sum.throttled / Math.max(1, sum.sent), 4),
    okP50Ms: round(percentile(sorted, 50), 1),
    okP99Ms: round(percentile(sorted, 99), 1),
  };
}

/**
 * From `fromMs`: the end of the last bucket holding a 429 before the first
 * `quietWindowMs` without any (relative to fromMs; 0 if none after fromMs), or
 * null when no such quiet window starts before `toMs − quietWindowMs`.
 */
function throttlesStop(buckets, fromMs, toMs) {
  const first = Math.floor(fromMs / plan.bucketMs);
  const last = Math.ceil(toMs / plan.bucketMs);
  const quiet = plan.quietWindowMs / plan.bucketMs;
  let lastThrottled = null;
  let run = 0;
  for (let i = first; i < last; i++) {
    if ((buckets[i]?.throttled ?? 0) > 0) {
      lastThrottled = i;
      run = 0;
    } else if (++run >= quiet) return lastThrottled === null ? 0 : (lastThrottled + 1) * plan.bucketMs - fromMs;
  }
  return null;
}

// ---------------------------------------------------------------------------
// The run.

async function main() {
  const results = {
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadavgBefore: loadavg().map((v) => round(v, 2)) },
    ...gitState(),
    scalerWindows: scalerWindows.map((w) => ({ ...w, scale: round(w.defaultMs / w.benchMs, 1) })),
    function: { runtime: 'nodejs20.x', sleepMs: fn.sleepMs, perExecutionEnvironmentMaxConcurrency: fn.maxConcurrency, initialEnvironments },
    load: { capacityPerSecondOfInitialEEs: capacityPerSecond, baseRatePerSecond: baseRate, maxOutstanding, generator: 'open loop, node:http keep-alive, unsigned POST, no retries' },
    plan,
  };
  const runStart = performance.now();

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
      ...Object.fromEntries(scalerWindows.map((w) => [w.variable, String(w.benchMs)])),
    },
    keepDataDir: process.env.HEARTH_BENCH_KEEP_LOGS === '1',
  });
  cleanups.push(async () => (await starting.catch(() => undefined))?.stop());
  const cluster = await starting;
  checkInterrupted();
  results.cluster = { startMs: round(performance.now() - t0), logsDir: process.env.HEARTH_BENCH_KEEP_LOGS === '1' ? cluster.logsDir : undefined };
  console.log(`infrastructure ${JSON.stringify(infra.sources)} in ${results.infra.startMs} ms, cluster in ${results.cluster.startMs} ms`);
  console.log(`scaler windows: ${results.scalerWindows.map((w) => `${w.label} ${w.benchMs / 1_000} s instead of ${w.defaultMs / 1_000} s (${w.scale}×)`).join(', ')}`);

  const lambda = new LambdaClient({ endpoint: cluster.httpEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'hearth', secretAccessKey: 'hearth' }, maxAttempts: 1 });
  cleanups.push(async () => lambda.destroy());
  const instances = createClient(instanceManager.InstanceManagerServiceClient, cluster.grpcEndpoints['instance-manager']);
  cleanups.push(async () => instances.close());
  const agents = new Map();
  cleanups.push(async () => {
    for (const client of agents.values()) client.close();
  });

  /** Ready EEs of the function, from every running instance's agent. */
  async function readyEnvironments() {
    const { instances: list } = await callUnary(instances, instances.listInstances, { capacityProviderArn: '', includeTerminated: false });
    let ready = 0;
    let all = 0;
    for (const instance of list) {
      // An instance still launching has no agent yet.
      if (!instance.agentAddress) continue;
      let client = agents.get(instance.agentAddress);
      if (!client) agents.set(instance.agentAddress, (client = createClient(agentProto.AgentServiceClient, instance.agentAddress)));
      try {
        const { environments } = await callUnary(client, client.listEnvironments, {});
        for (const environment of environments) {
          if (!environment.functionArn.includes(`:function:${fn.name}`)) continue;
          all += 1;
          if (environment.state === 'Ready') ready += 1;
        }
      } catch {
        // An instance being terminated: its EEs are not Ready.
      }
    }
    return { ready, all, instances: list.length };
  }

  // Provider and function.
  t0 = performance.now();
  const { CapacityProvider } = await lambda.send(
    new CreateCapacityProviderCommand({
      CapacityProviderName: 'bench-scaling',
      VpcConfig: { SubnetIds: subnets, SecurityGroupIds: [] },
      PermissionsConfig: { CapacityProviderOperatorRoleArn: role },
    }),
  );
  for (const deadline = Date.now() + 30_000; ; await sleep(50)) {
    checkInterrupted();
    const { CapacityProvider: current } = await lambda.send(new GetCapacityProviderCommand({ CapacityProviderName: 'bench-scaling' }));
    if (current?.State === 'Active') break;
    if (current?.State === 'Failed' || Date.now() > deadline) throw new Error(`capacity provider is ${current?.State}, not Active`);
  }
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: fn.name,
      Role: role,
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Timeout: 10,
      Code: { ZipFile: zipSync({ 'index.mjs': strToU8(fn.source) }) },
      CapacityProviderConfig: {
        LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: CapacityProvider.CapacityProviderArn, PerExecutionEnvironmentMaxConcurrency: fn.maxConcurrency },
      },
      Publish: true,
    }),
  );
  for (const deadline = Date.now() + 60_000; ; await sleep(50)) {
    checkInterrupted();
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn.name, Qualifier: '1' }));
    if (configuration.State === 'Active') break;
    if (configuration.State !== 'Pending' || Date.now() > deadline) throw new Error(`${fn.name}:1 is ${configuration.State} (${configuration.StateReasonCode ?? ''}: ${configuration.StateReason ?? ''})`);
  }
  for (const deadline = Date.now() + 15_000; ; await sleep(200)) {
    checkInterrupted();
    const fleet = await readyEnvironments();
    if (fleet.ready >= initialEnvironments) break;
    if (Date.now() > deadline) throw new Error(`${fn.name}:1 has ${fleet.ready} Ready EEs, not ${initialEnvironments}`);
  }
  results.publishMs = round(performance.now() - t0);
  results.readyBefore = (await readyEnvironments()).ready;
  console.log(`provider + publish Active with ${results.readyBefore} Ready EEs in ${results.publishMs} ms`);

  // The schedule: phase boundaries in ms since the load started; the scale-down's end is decided live.
  const stepAt = plan.step.beforeMs;
  const stepEnd = stepAt + plan.step.afterMs;
  let rampAt = Infinity;
  const rateAt = (ms) => {
    if (ms < stepAt) return baseRate;
    if (ms < stepEnd) return plan.step.factor * baseRate;
    if (ms < rampAt) return baseRate;
    const progress = Math.min(1, (ms - rampAt) / plan.ramp.ms);
    return baseRate * (plan.ramp.from + (plan.ramp.to - plan.ramp.from) * progress);
  };
  const readySeries = [];
  const loop = openLoop(cluster.httpEndpoint, `/2015-03-31/functions/${fn.name}/invocations?Qualifier=1`, rateAt);
  cleanups.push(async () => loop.stop());
  const poll = async () => {
    const at = loop.now();
    const fleet = await readyEnvironments();
    readySeries.push({ atMs: round(at), ...fleet, ratePerSecond: round(rateAt(at), 1) });
    return fleet;
  };
  console.log(`load: 1× = ${baseRate} req/s (half of ${capacityPerSecond} req/s = ${initialEnvironments} EEs × ${fn.maxConcurrency} / ${fn.sleepMs} ms)`);

  // Phase 1: step.
  while (loop.now() < stepEnd) {
    checkInterrupted();
    await poll();
    await sleep(plan.readyPollMs);
  }
  console.log(`step phase done; peak Ready ${Math.max(...readySeries.map((s) => s.ready))}`);
  // Phase 2a: back to 1× until scaled down and steady.
  // Scaled down: within one EE of the Ready EEs the same 1× load held before the step, for 2 s (45 s at most).
  const readyBeforeStep = readySeries.filter((x) => x.atMs < stepAt).at(-1)?.ready ?? initialEnvironments;
  const scaledDownAt = readyBeforeStep + plan.scaleDown.slackEnvironments;
  let steadySince = null;
  let lastReady = null;
  while (true) {
    checkInterrupted();
    const { ready } = await poll();
    const at = loop.now();
    if (ready > scaledDownAt) steadySince = null;
    else steadySince ??= at;
    lastReady = ready;
    if (at - stepEnd >= plan.scaleDown.maxMs || (steadySince !== null && at - steadySince >= plan.scaleDown.steadyMs)) break;
    await sleep(plan.readyPollMs);
  }
  rampAt = Math.ceil(loop.now());
  const rampEnd = rampAt + plan.ramp.ms;
  console.log(`scale-down phase done after ${round((rampAt - stepEnd) / 1_000, 1)} s at ${lastReady} Ready EEs; ramping ${plan.ramp.from}× → ${plan.ramp.to}× over ${plan.ramp.ms / 1_000} s`);
  // Phase 2b: ramp.
  while (loop.now() < rampEnd) {
    checkInterrupted();
    await poll();
    await sleep(plan.readyPollMs);
  }
  const generator = await loop.stop();
  await poll();
  const b = loop.buckets;

  const readyIn = (from, to) => readySeries.filter((s) => s.atMs >= from && s.atMs < to).map((s) => s.ready);
  const stopMs = throttlesStop(b, stepAt, stepEnd);
  results.generator = generator;
  results.step = {
    ratePerSecondBefore: baseRate,
    ratePerSecondAfter: plan.step.factor * baseRate,
    before: totals(b, 0, stepAt),
    after: totals(b, stepAt, stepEnd),
    throttlesStopAfterMs: stopMs,
    duringRamp: stopMs === null ? null : totals(b, stepAt, stepAt + Math.max(stopMs, plan.bucketMs)),
    afterThrottlesStop: stopMs === null ? null : totals(b, stepAt + stopMs, stepEnd),
    readyAtStep: readyIn(0, stepAt + 1).at(-1),
    peakReady: Math.max(...readyIn(stepAt, stepEnd + 1)),
    firstScaleOutAfterMs: (() => {
      const s = readySeries.find((x) => x.atMs >= stepAt && x.ready > results.readyBefore);
      return s ? s.atMs - stepAt : null;
    })(),
  };
  results.scaleDown = {
    ratePerSecond: baseRate,
    ms: rampAt - stepEnd,
    totals: totals(b, stepEnd, rampAt),
    readyAtStart: readyIn(stepEnd, stepEnd + plan.readyPollMs * 2)[0],
    readyAtEnd: lastReady,
    readyBeforeStep,
    scaledDownAt,
    reachedScaledDown: lastReady <= scaledDownAt,
    lowestReady: Math.min(...readyIn(stepEnd, rampAt)),
  };
  const rampReady = readyIn(rampAt, rampEnd + 5_000);
  results.ramp = {
    fromPerSecond: baseRate * plan.ramp.from,
    toPerSecond: baseRate * plan.ramp.to,
    ms: plan.ramp.ms,
    scaledDownFromMs: plan.ramp.realWorldMs,
    totals: totals(b, rampAt, rampEnd),
    readyAtStart: rampReady[0],
    readyAtEnd: rampReady.at(-1),
    peakReady: Math.max(...rampReady),
    readyEvery10s: Array.from({ length: plan.ramp.ms / 10_000 + 1 }, (_, i) => {
      const s = readySeries.filter((x) => x.atMs >= rampAt + i * 10_000 - plan.readyPollMs * 1.5).find(() => true);
      return { atS: i * 10, ratePerSecond: round(rateAt(rampAt + i * 10_000), 1), ready: s?.ready };
    }),
  };
  results.readySeries = readySeries;
  results.throttleSeries = b.map((bucket, i) => ({ atMs: i * plan.bucketMs, sent: bucket?.sent ?? 0, ok: bucket?.ok ?? 0, throttled: bucket?.throttled ?? 0, failed: bucket?.failed ?? 0 })).filter((x, i) => i % 5 === 0 || x.throttled > 0);
  results.machine.loadavgAfter = loadavg().map((v) => round(v, 2));
  results.totalMs = round(performance.now() - runStart);
  return results;
}

// ---------------------------------------------------------------------------
// Tables.

function table(title, rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i] ?? '').length)));
  console.log(`\n${title}`);
  rows.forEach((row, index) => {
    console.log(row.map((cell, i) => String(cell ?? '').padEnd(widths[i])).join('  |  '));
    if (index === 0) console.log(widths.map((w) => '-'.repeat(w)).join('--|--'));
  });
}

const pct = (share) => `${round(100 * share, 2)} %`;

function printTables(r) {
  const windows = r.scalerWindows.map((w) => `${w.label} ${w.benchMs / 1_000} s (default ${w.defaultMs / 1_000} s, ${w.scale}× shorter)`).join('; ');
  const s = r.step;
  const row = (label, t, extra = '') => [label, t.seconds, t.sentPerSecond, t.ok, t.throttled, pct(t.throttledShare), t.failed, t.skipped, `${t.okP50Ms} / ${t.okP99Ms}`, extra];
  table(`scaling on the local cluster — ${windows}`, [
    ['phase', 's', 'sent/s', '200', '429', '429 share', 'other', 'skipped', '200 p50/p99 ms', 'Ready EEs'],
    row(`step: 1× (${s.ratePerSecondBefore} req/s)`, s.before, `${s.readyAtStep}`),
    row(`step: 4× (${s.ratePerSecondAfter} req/s), all 40 s`, s.after, `peak ${s.peakReady}`),
    ...(s.duringRamp ? [row(`  from the step until throttles stop`, s.duringRamp)] : []),
    ...(s.afterThrottlesStop ? [row(`  after throttles stop`, s.afterThrottlesStop)] : []),
    row(`back to 1× (scale-down)`, r.scaleDown.totals, `${r.scaleDown.readyAtStart} → ${r.scaleDown.readyAtEnd} (lowest ${r.scaleDown.lowestReady})`),
    row(`ramp 1× → 2× (${r.ramp.fromPerSecond} → ${r.ramp.toPerSecond} req/s) over ${r.ramp.ms / 1_000} s`, r.ramp.totals, `${r.ramp.readyAtStart} → ${r.ramp.readyAtEnd} (peak ${r.ramp.peakReady})`),
  ]);
  table('figures', [
    ['figure', 'measured', 'target'],
    ['step 1× → 4×: time from the step until throttles stop (no 429 in a 2 s window)', s.throttlesStopAfterMs === null ? 'never within 40 s' : `${round(s.throttlesStopAfterMs / 1_000, 1)} s`, 'as short as possible'],
    ['step: 429 share from the step until throttles stop', s.duringRamp ? `${pct(s.duringRamp.throttledShare)} (${s.duringRamp.throttled} of ${s.duringRamp.sent})` : 'n/a', ''],
    ['step: 429 share over the 40 s at 4×', `${pct(s.after.throttledShare)} (${s.after.throttled} of ${s.after.sent})`, ''],
    ['step: first scale-out seen / peak Ready EEs', `${s.firstScaleOutAfterMs === null ? 'none' : `${round(s.firstScaleOutAfterMs / 1_000, 1)} s`} / ${s.peakReady}`, ''],
    [`ramp 1× → 2× over ${r.ramp.ms / 1_000} s (≙ ${r.ramp.scaledDownFromMs / 60_000} min): 429s`, `${r.ramp.totals.throttled} of ${r.ramp.totals.sent}`, '0'],
    ['calls that failed otherwise (not 200, not 429), whole run', String(Object.entries(r.generator.outcomes).filter(([k]) => k !== '200' && !k.startsWith('429')).reduce((n, [, v]) => n + v, 0)), '0'],
  ]);
  table('Ready EEs during the ramp', [['t', ...r.ramp.readyEvery10s.map((x) => `${x.atS} s`)], ['req/s', ...r.ramp.readyEvery10s.map((x) => x.ratePerSecond)], ['Ready', ...r.ramp.readyEvery10s.map((x) => x.ready)]]);
  const compact = [];
  for (const sample of r.readySeries) if (compact.at(-1)?.ready !== sample.ready) compact.push(sample);
  console.log(`\nReady EEs over the run (changes, s since load start): ${compact.map((x) => `${round(x.atMs / 1_000, 1)}s:${x.ready}`).join(' ')}`);
  console.log(`outcomes ${JSON.stringify(r.generator.outcomes)}; generator lag p50 ${r.generator.lagP50Ms} ms p99 ${r.generator.lagP99Ms} ms; max outstanding ${r.generator.maxOutstandingSeen} (bound ${r.load.maxOutstanding})`);
  if (r.generator.failures.length) console.log(`failures: ${r.generator.failures.join(' | ')}`);
  console.log(`whole run ${round(r.totalMs / 1_000, 1)} s; load average before ${r.machine.loadavgBefore.join(' ')}, after ${r.machine.loadavgAfter.join(' ')} (${r.machine.cpus} cores)`);
}

await runBench('scaling', main, printTables);
