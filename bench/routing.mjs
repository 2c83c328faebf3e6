#!/usr/bin/env node
// Routing quality and router overhead (issue #4, benchmark (c)), each side by
// side with its baseline in the same process.
//
// (c) spread: fake agents whose EEs differ in speed (2, 4, 8, 16 ms per
// invocation, 32 slots each) or in limit (8, 16, 32, 64 slots at 5 ms), driven
// by closed-loop callers through the router's InvokeStream. The in-flight count
// of every EE is sampled each millisecond and compared with the ideal of the
// least-loaded policy: equal load relative to each EE's limit (ideal_i =
// total in flight × limit_i / Σ limits). "Imbalance" is the share of in-flight
// invocations that sit on the wrong EE (Σ|inflight_i − ideal_i| / 2·total); the
// completion share of each EE is shown against the ideal share (∝ speed × limit).
// Baseline: the same callers choosing an EE uniformly at random and calling the
// agents' streams directly (a load balancer blind to load).
//
// Overhead: a no-op EE (answers in the same tick), 1 and 64 closed-loop callers,
// calls/s and p50/p99 through router.InvokeStream → fake agent, against the same
// callers on the fake agent's InvokeStream directly; ratio printed.
// Everything (callers, router, agents) shares one process and event loop, so
// the router's cost competes with the load generator's: read the ratio as what
// the router hop costs in CPU per invocation, not as a multi-process figure.
//
// Prints tables and writes bench/results/routing.json. Never passes or fails on time.
// Run after a build (`npx tsc -b services/router libs/cluster`): `node bench/routing.mjs`.
// Infrastructure: NATS_URL when set (own subject prefix), else a throw-away local
// nats-server from libs/cluster (ephemeral mode; Postgres and Temporal are not needed).
// HEARTH_BENCH_SECONDS sets each timed phase (default 2).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

const root = new URL('../', import.meta.url);
const built = {
  cluster: new URL('libs/cluster/dist/index.js', root),
  bus: new URL('libs/bus/dist/index.js', root),
  grpc: new URL('libs/grpc/dist/index.js', root),
  proto: new URL('libs/proto/dist/index.js', root),
  telemetry: new URL('libs/telemetry/dist/index.js', root),
  router: new URL('services/router/dist/index.js', root),
  testing: new URL('services/router/dist/testing/index.js', root),
};
for (const url of Object.values(built)) {
  if (!existsSync(url)) {
    console.error(`${url.pathname} is missing: build first with \`npx tsc -b services/router libs/cluster\``);
    process.exit(1);
  }
}
const { resolveInfra } = await import(built.cluster.href);
const { connectBus } = await import(built.bus.href);
const { createClient } = await import(built.grpc.href);
const { agent: agentProto, router: routerProto } = await import(built.proto.href);
const { createLogger } = await import(built.telemetry.href);
const { startRouter, loadRouterConfig } = await import(built.router.href);
const { FakeAgent, MultiplexedStream } = await import(built.testing.href);
const grpc = await import('@grpc/grpc-js');

const phaseMs = Number(process.env.HEARTH_BENCH_SECONDS ?? 2) * 1_000;
const logger = createLogger('bench-routing');
logger.level = 'silent';

// ---------------------------------------------------------------------------
// Infrastructure: only NATS. Placeholders for the other two keep resolveInfra from starting them.
const infra = await resolveInfra({
  mode: 'ephemeral',
  env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL || 'postgres://unused', TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS || 'unused:0' },
});
const bus = await connectBus({ url: infra.natsUrl, name: 'bench-routing', prefix: `bench${randomBytes(4).toString('hex')}`, logger });
const cleanups = [];
async function cleanup() {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => undefined);
  await bus.close().catch(() => undefined);
  await infra.stop().catch(() => undefined);
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

const router = startRouter({ bus, logger, config: { ...loadRouterConfig(), warmupMs: 0 } });
cleanups.push(() => router.close());
const server = new grpc.Server({ 'grpc.max_receive_message_length': 7 * 1024 * 1024 });
server.addService(routerProto.RouterServiceService, router.implementation);
const routerPort = await new Promise((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
);
cleanups.push(() => server.forceShutdown());
const routerClient = createClient(routerProto.RouterServiceClient, `127.0.0.1:${routerPort}`);
cleanups.push(() => routerClient.close());
const routerStream = new MultiplexedStream(routerClient.invokeStream());
cleanups.push(() => routerStream.end());

// ---------------------------------------------------------------------------
let sequence = 0;
const payload = Buffer.from('{}');

function routeRequest(functionName) {
  return { requestId: `b${++sequence}`, functionName, version: '1', payload, deadlineUnixMs: Date.now() + 30_000, traceContext: {}, cancel: false };
}

function agentRequest(environmentId) {
  return { requestId: `d${++sequence}`, environmentId, payload, deadlineUnixMs: Date.now() + 30_000, traceContext: {}, cancel: false };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** `callers` closed-loop callers of `call` for `ms`; latencies in ms and outcome counts. */
async function closedLoop(callers, ms, call) {
  const latencies = [];
  const outcomes = {};
  const stopAt = performance.now() + ms;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < stopAt) {
        const started = performance.now();
        const kind = await call();
        latencies.push(performance.now() - started);
        outcomes[kind] = (outcomes[kind] ?? 0) + 1;
      }
    }),
  );
  const seconds = (performance.now() - startedAt) / 1_000;
  latencies.sort((a, b) => a - b);
  return {
    callers,
    calls: latencies.length,
    perSecond: Math.round(latencies.length / seconds),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    outcomes,
  };
}

function round(value, digits = 3) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

const kindOfRoute = (response) => response.outcome?.$case === 'throttled' ? `throttled:${response.outcome.value.reason}` : (response.outcome?.$case ?? 'none');
const kindOfAgent = (outcome) => (outcome.outcome?.$case === 'rejected' ? `rejected:${outcome.outcome.value.reason}` : (outcome.outcome?.$case ?? 'none'));

async function startAgents(functionName, specs) {
  const agents = [];
  for (const [index, spec] of specs.entries()) {
    const agent = await FakeAgent.start({ instanceId: `i-${functionName}-${index}`, zone: `us-east-1${'abc'[index % 3]}`, bus, environments: [{ ...spec, functionName }] });
    agents.push(agent);
    cleanups.push(() => agent.stop());
  }
  const deadline = Date.now() + 10_000;
  while (router.describe(functionName).length < specs.length || !router.stats().agents.every((agent) => agent.up)) {
    if (Date.now() > deadline) throw new Error(`the router did not see the agents of ${functionName} within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return agents;
}

function directStreams(agents) {
  return agents.map((agent) => {
    const client = createClient(agentProto.AgentServiceClient, agent.address, { channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
    const stream = new MultiplexedStream(client.invokeStream());
    cleanups.push(() => {
      stream.end();
      client.close();
    });
    return stream;
  });
}

// ---------------------------------------------------------------------------
// (c) spread of in-flight invocations against the ideal

/**
 * Samples, each ms while `run` runs, every EE's outstanding invocations as the
 * dispatcher sees them (`dispatched(i)`: sent and not yet answered — what the
 * routing policy balances) and as the agent sees them (admitted and not yet
 * finished); returns the spread figures of both against the ideal.
 */
async function measureSpread(agents, specs, dispatched, run) {
  const limits = specs.map((spec) => spec.maxConcurrency);
  const limitSum = limits.reduce((a, b) => a + b, 0);
  const views = { dispatcher: newView(specs.length), agent: newView(specs.length) };
  const before = agents.map((agent, i) => agent.environment(specs[i].environmentId).completed);
  const sampler = setInterval(() => {
    sample(views.dispatcher, specs.map((_, i) => dispatched(i)), limits, limitSum);
    sample(views.agent, agents.map((agent, i) => agent.environment(specs[i].environmentId).inFlight), limits, limitSum);
  }, 1);
  const load = await run();
  clearInterval(sampler);
  const completed = agents.map((agent, i) => agent.environment(specs[i].environmentId).completed - before[i]);
  const completedSum = completed.reduce((a, b) => a + b, 0);
  // Throughput share when every EE holds in flight ∝ its limit: ∝ limit / service time.
  const capacity = specs.map((spec) => spec.maxConcurrency / spec.serviceMs);
  const capacitySum = capacity.reduce((a, b) => a + b, 0);
  const summary = (view) => {
    const mean = view.sums.map((sum) => sum / Math.max(1, view.samples));
    const total = mean.reduce((a, b) => a + b, 0);
    return {
      samples: view.samples,
      imbalancePercent: round((100 * view.imbalanceSum) / Math.max(1, view.samples), 1),
      meanMaxDeviation: round(view.maxDeviationSum / Math.max(1, view.samples), 2),
      meanInFlight: mean.map((value) => round(value, 2)),
      idealInFlight: limits.map((limit) => round((total * limit) / limitSum, 2)),
    };
  };
  return {
    dispatcher: summary(views.dispatcher),
    agent: summary(views.agent),
    environments: specs.map((spec, i) => ({
      environmentId: spec.environmentId,
      serviceMs: spec.serviceMs,
      maxConcurrency: spec.maxConcurrency,
      completedShare: round(completed[i] / Math.max(1, completedSum), 3),
      idealShare: round(capacity[i] / capacitySum, 3),
    })),
    load,
  };
}

function newView(n) {
  return { sums: new Array(n).fill(0), samples: 0, imbalanceSum: 0, maxDeviationSum: 0 };
}

function sample(view, inFlight, limits, limitSum) {
  const total = inFlight.reduce((a, b) => a + b, 0);
  if (total === 0) return;
  view.samples += 1;
  let deviation = 0;
  let maxDeviation = 0;
  inFlight.forEach((value, i) => {
    view.sums[i] += value;
    const ideal = (total * limits[i]) / limitSum;
    deviation += Math.abs(value - ideal);
    maxDeviation = Math.max(maxDeviation, Math.abs(value - ideal));
  });
  view.imbalanceSum += deviation / (2 * total);
  view.maxDeviationSum += maxDeviation;
}

async function spreadScenario(name, specs, callers) {
  const functionName = `spread-${name.replaceAll(' ', '-')}`;
  const agents = await startAgents(functionName, specs);
  const direct = directStreams(agents);
  const routed = await measureSpread(
    agents,
    specs,
    (i) => router.table.environment(specs[i].environmentId)?.own ?? 0,
    () => closedLoop(callers, phaseMs, async () => kindOfRoute(await routerStream.call(routeRequest(functionName)))),
  );
  const outstanding = new Array(specs.length).fill(0);
  const random = await measureSpread(
    agents,
    specs,
    (i) => outstanding[i],
    () =>
      closedLoop(callers, phaseMs, async () => {
        const i = Math.floor(Math.random() * specs.length);
        outstanding[i] += 1;
        try {
          return kindOfAgent(await direct[i].call(agentRequest(specs[i].environmentId)));
        } finally {
          outstanding[i] -= 1;
        }
      }),
  );
  return { name, callers, router: routed, randomBaseline: random };
}

function printSpread(result) {
  const { router: r, randomBaseline: b } = result;
  console.log(`\n(c) ${result.name}: ${result.callers} closed-loop callers, ${phaseMs / 1000} s each`);
  console.log('                                   router (least-loaded)        random baseline');
  console.log(`imbalance, dispatcher's view       ${pad(`${r.dispatcher.imbalancePercent} % misplaced`, 29)}${b.dispatcher.imbalancePercent} %`);
  console.log(`imbalance, agents' view            ${pad(`${r.agent.imbalancePercent} % misplaced`, 29)}${b.agent.imbalancePercent} %`);
  console.log(`mean max deviation (dispatcher)    ${pad(`${r.dispatcher.meanMaxDeviation} invocations`, 29)}${b.dispatcher.meanMaxDeviation}`);
  console.log(`throughput                         ${pad(`${r.load.perSecond}/s p99 ${r.load.p99Ms} ms`, 29)}${b.load.perSecond}/s p99 ${b.load.p99Ms} ms`);
  console.log(`outcomes                           ${pad(JSON.stringify(r.load.outcomes), 29)}${JSON.stringify(b.load.outcomes)}`);
  console.log('EE          ms limit | outstanding router / random / ideal | at agent router / random | completions router / random / ideal');
  r.environments.forEach((ee, i) => {
    console.log(
      `${pad(ee.environmentId, 10)}${pad(String(ee.serviceMs), 4, true)}${pad(String(ee.maxConcurrency), 6, true)} | ` +
        `${pad(`${r.dispatcher.meanInFlight[i]} / ${b.dispatcher.meanInFlight[i]} / ${r.dispatcher.idealInFlight[i]}`, 36)}| ` +
        `${pad(`${r.agent.meanInFlight[i]} / ${b.agent.meanInFlight[i]}`, 24)}| ` +
        `${(100 * ee.completedShare).toFixed(1)} % / ${(100 * b.environments[i].completedShare).toFixed(1)} % / ${(100 * ee.idealShare).toFixed(1)} %`,
    );
  });
}

function pad(text, width, left = false) {
  return left ? text.padStart(width) : text.padEnd(width);
}

// ---------------------------------------------------------------------------
// Router overhead against the fake agent called directly

async function overhead() {
  const functionName = 'noop';
  const spec = { environmentId: 'noop-ee', maxConcurrency: 4_096, serviceMs: 0 };
  const agents = await startAgents(functionName, [spec]);
  const [direct] = directStreams(agents);
  const viaRouter = async () => kindOfRoute(await routerStream.call(routeRequest(functionName)));
  const viaAgent = async () => kindOfAgent(await direct.call(agentRequest(spec.environmentId)));
  // Warm both paths (JIT, HTTP/2 windows) before measuring.
  await closedLoop(16, 300, viaRouter);
  await closedLoop(16, 300, viaAgent);
  const rows = [];
  for (const callers of [1, 64]) {
    const directRun = await closedLoop(callers, phaseMs, viaAgent);
    const routedRun = await closedLoop(callers, phaseMs, viaRouter);
    rows.push({
      callers,
      direct: directRun,
      router: routedRun,
      throughputRatio: round(routedRun.perSecond / directRun.perSecond, 2),
      addedP50Ms: round(routedRun.p50Ms - directRun.p50Ms),
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------
try {
  const spreadSpeed = await spreadScenario(
    'unequal speed',
    [
      { environmentId: 'ee-2ms', serviceMs: 2, maxConcurrency: 32 },
      { environmentId: 'ee-4ms', serviceMs: 4, maxConcurrency: 32 },
      { environmentId: 'ee-8ms', serviceMs: 8, maxConcurrency: 32 },
      { environmentId: 'ee-16ms', serviceMs: 16, maxConcurrency: 32 },
    ],
    48,
  );
  printSpread(spreadSpeed);
  const spreadLimit = await spreadScenario(
    'unequal limits',
    [
      { environmentId: 'ee-8', serviceMs: 5, maxConcurrency: 8 },
      { environmentId: 'ee-16', serviceMs: 5, maxConcurrency: 16 },
      { environmentId: 'ee-32', serviceMs: 5, maxConcurrency: 32 },
      { environmentId: 'ee-64', serviceMs: 5, maxConcurrency: 64 },
    ],
    60,
  );
  printSpread(spreadLimit);

  const rows = await overhead();
  console.log('\nrouter overhead: no-op EE, router.InvokeStream → fake agent vs the fake agent\'s InvokeStream directly');
  console.log('callers | direct calls/s  p50 ms  p99 ms | via router calls/s  p50 ms  p99 ms | throughput ratio | added p50 ms');
  for (const row of rows) {
    console.log(
      `${pad(String(row.callers), 7, true)} | ${pad(String(row.direct.perSecond), 14, true)} ${pad(row.direct.p50Ms.toFixed(3), 7, true)} ${pad(row.direct.p99Ms.toFixed(3), 7, true)} | ` +
        `${pad(String(row.router.perSecond), 18, true)} ${pad(row.router.p50Ms.toFixed(3), 7, true)} ${pad(row.router.p99Ms.toFixed(3), 7, true)} | ` +
        `${pad(`${row.throughputRatio}×`, 16, true)} | ${pad(row.addedP50Ms.toFixed(3), 12, true)}`,
    );
  }

  const results = {
    benchmark: 'routing',
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    phaseSeconds: phaseMs / 1_000,
    natsSource: infra.sources.natsUrl,
    routerConfig: router.config,
    spread: [spreadSpeed, spreadLimit],
    overhead: rows,
    routerStats: router.stats(),
  };
  const dir = new URL('bench/results/', root);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL('routing.json', dir), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nsaved bench/results/routing.json`);
} finally {
  await cleanup();
}
