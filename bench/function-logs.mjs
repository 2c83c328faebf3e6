#!/usr/bin/env node
// Function logs, measured against a real NATS JetStream: what an EE's output line
// costs the agent on the EE's path (offer() into the log publisher, µs per line),
// how many lines/s the publisher gets acked, what it drops when lines come faster
// than NATS takes them, and how fast the api reads (the newest 1000 of N stored
// lines, with and without a requestId filter; follow latency publish → reader).
// Prints a table and writes bench/results/function-logs.json. Never passes or fails
// on time.
//
// Run after a build (`npx tsc -b`): `node bench/function-logs.mjs`.
// Infrastructure: NATS_URL when set, else a throw-away local nats-server from
// libs/cluster. HEARTH_BENCH_LINES sets the lines per scenario (default 100000).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

const root = new URL('../', import.meta.url);
const built = {
  bus: new URL('libs/bus/dist/index.js', root),
  telemetry: new URL('libs/telemetry/dist/index.js', root),
  cluster: new URL('libs/cluster/dist/index.js', root),
  publisher: new URL('services/agent/dist/log-publisher.js', root),
  logs: new URL('services/api/dist/logs/index.js', root),
};
for (const url of Object.values(built)) {
  if (!existsSync(url)) {
    console.error(`${url.pathname} is missing: build first with \`npx tsc -b\``);
    process.exit(1);
  }
}
const { connectBus, ensureFunctionLogStream, functionLogStreamName, functionLogSubject, publishFunctionLog } = await import(built.bus.href);
const { createLogger } = await import(built.telemetry.href);
const { createLogPublisher } = await import(built.publisher.href);
const { parseLogQuery, readLogEvents, followLogEvents } = await import(built.logs.href);

const lineCount = Number(process.env.HEARTH_BENCH_LINES ?? 100_000);
const logger = createLogger('bench-function-logs');
logger.level = process.env.HEARTH_LOG_LEVEL ?? 'error';
const round = (value, digits = 1) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);

async function resolveNats() {
  if (process.env.NATS_URL) return { natsUrl: process.env.NATS_URL, stop: async () => {} };
  const { resolveInfra } = await import(built.cluster.href);
  // Only NATS is needed: name the others so the resolver does not start them.
  const env = { ...process.env, DATABASE_URL: 'postgres://unused', TEMPORAL_ADDRESS: 'unused:7233' };
  const infra = await resolveInfra({ mode: 'ephemeral', env });
  return { natsUrl: infra.natsUrl, stop: () => infra.stop() };
}

const line = (i, requestId) => ({
  time: new Date().toISOString(),
  environmentId: 'ee-bench',
  function: 'bench',
  version: '1',
  stream: 'stdout',
  requestId,
  level: 'INFO',
  message: `line ${i} ${'x'.repeat(80)}`,
});

const until = async (condition, timeoutMs = 120_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('bench condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const nats = await resolveNats();
const bus = await connectBus({ url: nats.natsUrl, name: 'bench-function-logs', prefix: `blogs${randomBytes(3).toString('hex')}`, logger });
const results = { when: new Date().toISOString(), machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version }, lines: lineCount };
try {
  await ensureFunctionLogStream(bus, { maxBytes: 1024 ** 3 }, { update: true });
  const publish = (subject, payload, requestId) => publishFunctionLog(bus, subject, payload, requestId);

  // 1. Paced: bursts of 100 lines every millisecond-ish, the backlog big enough; all should arrive.
  {
    const publisher = createLogPublisher({ publish, prefix: bus.prefix, instanceId: 'i-bench', logger });
    let offerMs = 0;
    const started = performance.now();
    for (let i = 0; i < lineCount; i += 100) {
      const t0 = performance.now();
      for (let j = i; j < Math.min(i + 100, lineCount); j += 1) publisher.offer(line(j, `r-${j % 1000}`));
      offerMs += performance.now() - t0;
      // Let the publisher run between bursts, as an EE's output arrives in chunks.
      while (publisher.stats().backlogLines > 5_000) await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => publisher.stats().backlogLines === 0 && publisher.stats().published + publisher.stats().dropped.publishFailed >= lineCount);
    const seconds = (performance.now() - started) / 1_000;
    const stats = publisher.stats();
    await publisher.close();
    results.paced = { offerMicrosPerLine: round((offerMs * 1_000) / lineCount, 2), ackedLinesPerSecond: round(stats.published / seconds, 0), dropped: stats.dropped };
  }

  // 2. Flood: every line offered at once; the backlog (10000) bounds memory, the rest is dropped and counted.
  {
    const publisher = createLogPublisher({ publish, prefix: bus.prefix, instanceId: 'i-bench', logger });
    const t0 = performance.now();
    for (let i = 0; i < lineCount; i += 1) publisher.offer(line(i, undefined));
    const offerMs = performance.now() - t0;
    await until(() => publisher.stats().backlogLines === 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stats = publisher.stats();
    await publisher.close();
    results.flood = { offerMicrosPerLine: round((offerMs * 1_000) / lineCount, 2), published: stats.published, dropped: stats.dropped };
  }

  // 3. Reads: the newest 1000 of everything stored, and one invocation's lines.
  const stored = (await bus.jsm.streams.info(functionLogStreamName(bus.prefix))).state.messages;
  results.reads = { storedLines: stored };
  for (const [name, query] of [
    ['newest 1000', 'limit=1000&since=0'],
    ['one requestId', 'requestId=r-7&since=0'],
    ['newest 10000', 'limit=10000&since=0'],
  ]) {
    const t0 = performance.now();
    const events = await readLogEvents(bus, parseLogQuery('bench', query), { readTimeoutMs: 120_000 });
    const ms = performance.now() - t0;
    results.reads[name] = { events: events.length, ms: round(ms, 0), scannedLinesPerSecond: round(stored / (ms / 1_000), 0) };
  }

  // 4. Follow latency: publish → a follower has it, one line at a time.
  {
    const controller = new AbortController();
    const events = await followLogEvents(bus, parseLogQuery('bench', `since=${Date.now()}&qualifier=2`), controller.signal);
    const latencies = [];
    const reader = (async () => {
      for await (const event of events) latencies.push(performance.now() - JSON.parse(event).sentAt);
    })();
    for (let i = 0; i < 200; i += 1) {
      const payload = Buffer.from(JSON.stringify({ ...line(i), version: '2', sentAt: performance.now() }));
      await publishFunctionLog(bus, functionLogSubject(bus.prefix, 'bench', '2', 'ee-bench'), payload, undefined);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await until(() => latencies.length === 200, 30_000);
    controller.abort();
    await reader;
    latencies.sort((a, b) => a - b);
    results.follow = { lines: latencies.length, p50Ms: round(latencies[99], 2), p99Ms: round(latencies[197], 2), maxMs: round(latencies[199], 2) };
  }

  console.table({
    'paced: offer µs/line': results.paced.offerMicrosPerLine,
    'paced: acked lines/s': results.paced.ackedLinesPerSecond,
    'paced: dropped': JSON.stringify(results.paced.dropped),
    'flood: offer µs/line': results.flood.offerMicrosPerLine,
    'flood: published': results.flood.published,
    'flood: dropped': JSON.stringify(results.flood.dropped),
    ...Object.fromEntries(
      Object.entries(results.reads)
        .filter(([, value]) => typeof value === 'object')
        .map(([name, value]) => [`read ${name} (of ${stored})`, `${value.events} events in ${value.ms} ms`]),
    ),
    'follow p50/p99 ms': `${results.follow.p50Ms} / ${results.follow.p99Ms}`,
  });
  mkdirSync(new URL('bench/results/', root), { recursive: true });
  writeFileSync(new URL('bench/results/function-logs.json', root), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await bus.jsm.streams.delete(functionLogStreamName(bus.prefix)).catch(() => undefined);
  await bus.close();
  await nats.stop();
}
