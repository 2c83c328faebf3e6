#!/usr/bin/env node
// Event store and outbox relay figures: appends/s (one stream and many, 1 and 8
// writers), how fast the relay publishes a backlog, commit → JetStream ack lag
// under a paced and a saturating load, raw JetStream publish rates (sequential
// vs pipelined, the relay's design choice), and a projection consumer's rate.
// Prints a table and writes bench/results/event-store.json. Never passes or
// fails on time.
//
// Run after a build (`npx tsc -b libs/bus`): `node bench/event-store.mjs`.
// Infrastructure: DATABASE_URL and NATS_URL when set, else throw-away local
// servers from libs/cluster (ephemeral mode). HEARTH_BENCH_SECONDS sets the
// length of each timed scenario (default 3).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';

const root = new URL('../', import.meta.url);
const built = {
  eventStore: new URL('libs/event-store/dist/index.js', root),
  bus: new URL('libs/bus/dist/index.js', root),
  telemetry: new URL('libs/telemetry/dist/index.js', root),
  cluster: new URL('libs/cluster/dist/index.js', root),
};
for (const [name, url] of Object.entries(built)) {
  if (name !== 'cluster' && !existsSync(url)) {
    console.error(`${url.pathname} is missing: build first with \`npx tsc -b libs/bus\``);
    process.exit(1);
  }
}
const { createEventStore } = await import(built.eventStore.href);
const { connectBus, startOutboxRelay, runProjection } = await import(built.bus.href);
const { createLogger } = await import(built.telemetry.href);

const scenarioMs = Number(process.env.HEARTH_BENCH_SECONDS ?? 3) * 1_000;
const logger = createLogger('bench-event-store');
logger.level = process.env.HEARTH_LOG_LEVEL ?? 'warn';

/** Postgres and NATS from the environment, else started by libs/cluster. */
async function resolveBenchInfra() {
  if (process.env.DATABASE_URL && process.env.NATS_URL) {
    return { databaseUrl: process.env.DATABASE_URL, natsUrl: process.env.NATS_URL, source: 'env', stop: async () => {} };
  }
  if (!existsSync(built.cluster)) {
    throw new Error('Set DATABASE_URL and NATS_URL, or build libs/cluster (npx tsc -b libs/cluster) to start local servers');
  }
  const { resolveInfra } = await import(built.cluster.href);
  // This bench needs no Temporal: name an address so the resolver does not start one.
  const env = { ...process.env, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? 'unused:7233' };
  const infra = await resolveInfra({ mode: 'ephemeral', env });
  return { databaseUrl: infra.databaseUrl, natsUrl: infra.natsUrl, source: JSON.stringify(infra.sources), stop: () => infra.stop() };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summarise(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? NaN),
  };
}

function round(value, digits = 2) {
  return Number.isFinite(value) ? Number(value.toFixed(digits)) : value;
}

/** Appends single-event batches for `durationMs` from `writers` concurrent loops; returns rate and latency. */
async function appendScenario(store, { name, writers, streams, durationMs }) {
  const runId = randomBytes(3).toString('hex');
  const latencies = [];
  const deadline = performance.now() + durationMs;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      // Each writer owns its streams, so exact expected versions never conflict;
      // on a single shared stream writers use 'any' (they would otherwise conflict).
      const versions = new Map();
      for (let i = 0; performance.now() < deadline; i += 1) {
        const shared = streams === 1;
        const streamId = shared ? `function:single-${runId}` : `instance:${runId}-${writer}-${i % Math.ceil(streams / writers)}`;
        const expectedVersion = shared && writers > 1 ? 'any' : versions.get(streamId) ?? 0;
        const t0 = performance.now();
        const result = await store.append(streamId, [{ type: 'BenchEvent', data: { writer, i } }], { expectedVersion });
        latencies.push(performance.now() - t0);
        versions.set(streamId, result.nextExpectedVersion);
      }
    }),
  );
  const seconds = (performance.now() - startedAt) / 1_000;
  return { name, writers, streams, appends: latencies.length, appendsPerSecond: round(latencies.length / seconds, 0), latencyMs: summarise(latencies) };
}

/** Waits until `check()` is true, polling, up to `timeoutMs`. */
async function until(check, timeoutMs, what) {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Raw JetStream publish rate to a scratch stream: sequential acks vs a window of `window` in flight. */
async function rawPublishRate(bus, window, count) {
  const stream = `${bus.eventStreamName}_SCRATCH`;
  const subject = `${bus.prefix}.scratch.${window}`;
  await bus.jsm.streams.add({ name: stream, subjects: [subject], storage: 'file' });
  const payload = JSON.stringify({ data: randomBytes(150).toString('hex') });
  const startedAt = performance.now();
  for (let sent = 0; sent < count; sent += window) {
    const batch = [];
    for (let i = sent; i < Math.min(count, sent + window); i += 1) batch.push(bus.js.publish(subject, payload, { msgID: `m${i}` }));
    await Promise.all(batch);
  }
  const seconds = (performance.now() - startedAt) / 1_000;
  await bus.jsm.streams.delete(stream);
  return round(count / seconds, 0);
}

async function main() {
  const infra = await resolveBenchInfra();
  const dbName = `hearth_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(infra.databaseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${dbName}`);
  const url = new URL(infra.databaseUrl);
  url.pathname = `/${dbName}`;
  const sql = postgres(url.toString(), { max: 12, onnotice: () => {} });
  const bus = await connectBus({ url: infra.natsUrl, name: 'bench', prefix: `bench${randomBytes(3).toString('hex')}`, logger });
  const results = { when: new Date().toISOString(), machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version }, infra: infra.source, scenarioSeconds: scenarioMs / 1_000 };
  const cleanups = [];
  try {
    await bus.ensureEventStream();
    const store = await createEventStore({ sql });

    // 1. Appends, relay not running.
    results.appends = [];
    for (const scenario of [
      { name: 'one stream, 1 writer', writers: 1, streams: 1 },
      { name: 'one stream, 8 writers', writers: 8, streams: 1 },
      { name: 'many streams, 1 writer', writers: 1, streams: 500 },
      { name: 'many streams, 8 writers', writers: 8, streams: 500 },
    ]) {
      results.appends.push(await appendScenario(store, { ...scenario, durationMs: scenarioMs }));
    }

    // 2. Relay: publish the backlog left by the append scenarios.
    const backlog = await store.headPosition();
    const lag = [];
    let recording = false;
    const recordLag = (event, ackedAtMs) => {
      if (recording) lag.push(ackedAtMs - Date.parse(event.recordedAt));
    };
    const backlogStartedAt = performance.now();
    const relay = await startOutboxRelay({ store, bus, logger, onPublished: recordLag });
    cleanups.push(() => relay.stop());
    await until(() => relay.stats().publishedPosition >= backlog, 600_000, 'the relay to drain the backlog');
    const backlogSeconds = (performance.now() - backlogStartedAt) / 1_000;
    results.relayBacklog = { events: backlog, seconds: round(backlogSeconds), eventsPerSecond: round(backlog / backlogSeconds, 0) };

    // 3. Commit → ack lag at a paced control-plane rate, then under saturation.
    const pacedRate = 100;
    recording = true;
    const pacedStart = performance.now();
    for (let i = 0; performance.now() - pacedStart < scenarioMs; i += 1) {
      const due = pacedStart + (i * 1_000) / pacedRate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await store.append(`function:paced-${i % 20}`, [{ type: 'BenchEvent', data: { i } }], { expectedVersion: 'any' });
    }
    let head = await store.headPosition();
    await until(() => relay.stats().publishedPosition >= head, 60_000, 'the relay to catch up (paced)');
    results.relayLagPaced = { appendsPerSecond: pacedRate, writers: 1, lagMs: summarise(lag) };

    lag.length = 0;
    const saturating = await appendScenario(store, { name: 'saturating', writers: 8, streams: 500, durationMs: scenarioMs });
    head = await store.headPosition();
    await until(() => relay.stats().publishedPosition >= head, 600_000, 'the relay to catch up (saturating)');
    results.relayLagSaturated = { appendsPerSecond: saturating.appendsPerSecond, writers: 8, lagMs: summarise(lag) };
    results.relayStats = relay.stats();
    await relay.stop();

    // 4. The relay's design choice: sequential acks (order-safe) vs a pipelined window.
    const rawCount = 3_000;
    results.jetstreamRawPublish = {
      messages: rawCount,
      sequentialPerSecond: await rawPublishRate(bus, 1, rawCount),
      window16PerSecond: await rawPublishRate(bus, 16, rawCount),
      window64PerSecond: await rawPublishRate(bus, 64, rawCount),
    };

    // 5. A projection consumer (max_ack_pending 1) replaying the whole stream.
    const total = await store.headPosition();
    const replayStartedAt = performance.now();
    const projection = await runProjection({ bus, logger, durableName: 'bench', handle: () => {} });
    cleanups.push(() => projection.stop());
    await until(() => projection.position >= total, 600_000, 'the projection to replay the stream');
    const replaySeconds = (performance.now() - replayStartedAt) / 1_000;
    results.projectionReplay = { events: total, seconds: round(replaySeconds), eventsPerSecond: round(total / replaySeconds, 0) };
    await projection.stop();
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    await bus.jsm.streams.delete(bus.eventStreamName).catch(() => {});
    await bus.close();
    await sql.end({ timeout: 5 });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    await admin.end();
    await infra.stop();
  }
  return results;
}

function printTable(results) {
  const rows = [];
  for (const a of results.appends) {
    rows.push([`append: ${a.name}`, `${a.appendsPerSecond} appends/s`, `latency p50 ${a.latencyMs.p50} ms, p99 ${a.latencyMs.p99} ms`]);
  }
  rows.push(['relay: backlog publish', `${results.relayBacklog.eventsPerSecond} events/s`, `${results.relayBacklog.events} events in ${results.relayBacklog.seconds} s`]);
  const paced = results.relayLagPaced;
  rows.push([`relay lag at ${paced.appendsPerSecond} appends/s`, `p50 ${paced.lagMs.p50} ms`, `p99 ${paced.lagMs.p99} ms, max ${paced.lagMs.max} ms (${paced.lagMs.count} events)`]);
  const sat = results.relayLagSaturated;
  rows.push([`relay lag at ${sat.appendsPerSecond} appends/s (8 writers)`, `p50 ${sat.lagMs.p50} ms`, `p99 ${sat.lagMs.p99} ms, max ${sat.lagMs.max} ms (${sat.lagMs.count} events)`]);
  const raw = results.jetstreamRawPublish;
  rows.push(['JetStream publish, sequential acks', `${raw.sequentialPerSecond} msg/s`, 'what the relay does']);
  rows.push(['JetStream publish, 16 in flight', `${raw.window16PerSecond} msg/s`, 'not order-safe on a failed publish']);
  rows.push(['JetStream publish, 64 in flight', `${raw.window64PerSecond} msg/s`, '']);
  rows.push(['projection consumer replay', `${results.projectionReplay.eventsPerSecond} events/s`, `${results.projectionReplay.events} events, max_ack_pending 1`]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i].length)));
  console.log(`\nevent store and relay (${results.machine.cpus} cores, ${results.machine.node}, ${results.scenarioSeconds} s per scenario, infra ${results.infra})`);
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  |  '));
  console.log('lag = JetStream ack time − the event\'s recorded_at (insert time, just before commit); 1 ms resolution');
}

const results = await main();
printTable(results);
const resultsDir = new URL('bench/results/', root);
mkdirSync(resultsDir, { recursive: true });
writeFileSync(new URL('event-store.json', resultsDir), `${JSON.stringify(results, null, 2)}\n`);
console.log(`written ${new URL('event-store.json', resultsDir).pathname}`);
