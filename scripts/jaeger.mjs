#!/usr/bin/env node
/**
 * Shows Hearth's traces in a real Jaeger.
 *
 * 1. Finds Jaeger v2 (`$JAEGER_BIN`, else `$HEARTH_TOOLS_DIR/tools/jaeger-<version>/jaeger`,
 *    default `~/.cache/hearth/tools/…`), building it with Go when it is missing:
 *    `go install …/cmd/jaeger@<version>` refuses Jaeger's module (its go.mod has a
 *    replace directive), so it is built from a small wrapper module that requires
 *    it and repeats the replace. Takes several minutes the first time.
 * 2. Starts it on 127.0.0.1 with in-memory storage: OTLP gRPC on
 *    `JAEGER_OTLP_GRPC_PORT` (4317), OTLP HTTP on `JAEGER_OTLP_HTTP_PORT` (4318),
 *    the UI and query API on `JAEGER_QUERY_PORT` (16686).
 * 3. Starts an ephemeral cluster exporting to it (`OTEL_EXPORTER_OTLP_ENDPOINT`,
 *    protocol from `--protocol`, default `http/protobuf`), or with `--endpoint URL`
 *    uses a running one (e.g. `npm start` run with
 *    `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318`).
 * 4. Creates a capacity provider and a function, publishes it, invokes it once
 *    synchronously and once asynchronously.
 * 5. Fetches each trace from Jaeger's query API (`/api/traces?service=hearth-api…`)
 *    and prints its spans as a tree.
 *
 * Then it stops everything it started, unless `--keep` (Ctrl-C stops).
 *
 *   npm run build && node scripts/jaeger.mjs [--protocol grpc|http/protobuf|http/json] [--endpoint URL] [--keep]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const jaegerVersion = 'v1.76.0';
const repo = fileURLToPath(new URL('..', import.meta.url));

function fail(message) {
  process.stderr.write(`jaeger: ${message}\n`);
  process.exit(1);
}

function say(message) {
  process.stdout.write(`jaeger: ${message}\n`);
}

function parseArgs(argv) {
  const options = { protocol: 'http/protobuf', endpoint: undefined, keep: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--keep') options.keep = true;
    else if (arg === '--protocol') options.protocol = argv[++i];
    else if (arg === '--endpoint') options.endpoint = argv[++i];
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: node scripts/jaeger.mjs [--protocol grpc|http/protobuf|http/json] [--endpoint URL] [--keep]\n');
      process.exit(0);
    } else fail(`unknown argument ${arg}`);
  }
  if (!['grpc', 'http/protobuf', 'http/json'].includes(options.protocol)) fail(`--protocol ${options.protocol}: use grpc, http/protobuf or http/json`);
  return options;
}

function port(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) fail(`${name}=${raw} is not a port number`);
  return value;
}

// ------------------------------------------------------------------ 1. the binary

function findGo() {
  for (const candidate of ['go', '/usr/local/go/bin/go', join(homedir(), 'go', 'bin', 'go')]) {
    if (spawnSync(candidate, ['version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return undefined;
}

function ensureJaeger() {
  if (process.env.JAEGER_BIN) {
    if (!existsSync(process.env.JAEGER_BIN)) fail(`JAEGER_BIN=${process.env.JAEGER_BIN} does not exist`);
    return process.env.JAEGER_BIN;
  }
  const tools = join(process.env.HEARTH_TOOLS_DIR || join(homedir(), '.cache', 'hearth'), 'tools');
  const binary = join(tools, `jaeger-${jaegerVersion}`, 'jaeger');
  if (existsSync(binary)) return binary;
  const go = findGo();
  if (!go) fail(`no Jaeger at ${binary} and no Go to build it: install Go, or set JAEGER_BIN to a Jaeger v2 binary`);
  const source = join(tools, `jaeger-${jaegerVersion}-src`);
  mkdirSync(source, { recursive: true });
  // Jaeger's go.mod has a replace directive, which `go install pkg@version` refuses; a wrapper module builds it.
  writeFileSync(
    join(source, 'go.mod'),
    `module hearth.local/jaeger-build\n\ngo 1.25\n\nrequire github.com/jaegertracing/jaeger ${jaegerVersion}\n\nreplace github.com/Shopify/sarama => github.com/Shopify/sarama v1.33.0\n`,
  );
  say(`building Jaeger ${jaegerVersion} with ${go} into ${binary} (several minutes the first time)…`);
  for (const args of [
    ['get', `github.com/jaegertracing/jaeger/cmd/jaeger@${jaegerVersion}`],
    ['build', '-o', binary, 'github.com/jaegertracing/jaeger/cmd/jaeger'],
  ]) {
    const result = spawnSync(go, args, { cwd: source, stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) fail(`\`go ${args.join(' ')}\` failed (exit ${result.status})`);
  }
  return binary;
}

// ------------------------------------------------------------------ 2. Jaeger itself

function jaegerConfig(ports) {
  return `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:${ports.health}
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${ports.query}
    grpc:
      endpoint: 127.0.0.1:${ports.queryGrpc}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${ports.otlpGrpc}
      http:
        endpoint: 127.0.0.1:${ports.otlpHttp}
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}

async function until(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function startJaeger(binary, ports) {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-jaeger-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(config, jaegerConfig(ports));
  const child = spawn(binary, ['--config', `file:${config}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const query = `http://127.0.0.1:${ports.query}`;
  try {
    await Promise.race([
      until('Jaeger query API', async () => (await fetch(`${query}/api/services`)).ok, 60_000),
      exited.then((code) => {
        throw new Error(`Jaeger exited (${code}) while starting:\n${stderr}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    query,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------ 3-4. a cluster and some work

async function importBuilt(path, what) {
  const url = new URL(path, `file://${repo}/`);
  if (!existsSync(fileURLToPath(url))) fail(`${what} is not built: run \`npm run build\` first`);
  return import(url.href);
}

async function doWork(endpoint) {
  const { LambdaClient, CreateCapacityProviderCommand, GetCapacityProviderCommand, CreateFunctionCommand, PublishVersionCommand, GetFunctionConfigurationCommand, InvokeCommand } =
    await import('@aws-sdk/client-lambda');
  const { zipSync, strToU8 } = await import('fflate');
  const lambda = new LambdaClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  const suffix = Date.now().toString(36);
  const role = 'arn:aws:iam::000000000000:role/hearth-jaeger';
  try {
    const providerName = `jaeger-${suffix}`;
    const { CapacityProvider } = await lambda.send(
      new CreateCapacityProviderCommand({
        CapacityProviderName: providerName,
        VpcConfig: { SubnetIds: ['subnet-a'], SecurityGroupIds: [] },
        PermissionsConfig: { CapacityProviderOperatorRoleArn: role },
      }),
    );
    await until('capacity provider Active', async () => (await lambda.send(new GetCapacityProviderCommand({ CapacityProviderName: providerName }))).CapacityProvider?.State === 'Active', 30_000);
    const functionName = `traced-${suffix}`;
    const handler = `export const handler = async (event) => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { hello: event.name ?? 'world' };
};`;
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: functionName,
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: role,
        Code: { ZipFile: zipSync({ 'index.mjs': strToU8(handler) }) },
        CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: CapacityProvider.CapacityProviderArn } },
      }),
    );
    const published = await lambda.send(new PublishVersionCommand({ FunctionName: functionName }));
    say(`published ${functionName}:${published.Version} (request ${published.$metadata.requestId}); waiting for it to be Active…`);
    await until(
      `${functionName}:1 Active`,
      async () => {
        const state = (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: '1' }))).State;
        if (state === 'Failed') throw new Error(`${functionName}:1 failed`);
        return state === 'Active';
      },
      180_000,
    );
    const sync = await lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: '1', Payload: Buffer.from('{"name":"jaeger"}') }));
    say(`invoked synchronously: ${Buffer.from(sync.Payload ?? []).toString()} (request ${sync.$metadata.requestId})`);
    const event = await lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: '1', InvocationType: 'Event', Payload: Buffer.from('{}') }));
    say(`invoked asynchronously: ${event.StatusCode} (request ${event.$metadata.requestId})`);
    return {
      publish: published.$metadata.requestId,
      sync: sync.$metadata.requestId,
      event: event.$metadata.requestId,
    };
  } finally {
    lambda.destroy();
  }
}

// ------------------------------------------------------------------ 5. the traces, from Jaeger

const tag = (span, key) => span.tags.find((t) => t.key === key)?.value;

/** The trace whose hearth-api span carries `requestId`, once it holds `complete(trace)`. */
async function fetchTrace(query, requestId, complete, timeoutMs = 60_000) {
  return until(
    `the trace of request ${requestId} in Jaeger`,
    async () => {
      const tags = encodeURIComponent(JSON.stringify({ 'hearth.request_id': requestId }));
      const response = await fetch(`${query}/api/traces?service=hearth-api&tags=${tags}&lookback=1h&limit=5`);
      if (!response.ok) return undefined;
      const { data } = await response.json();
      if (!Array.isArray(data) || data.length === 0) return undefined;
      // A search answers with the traces that match; fetch the whole trace by id (later spans included).
      const whole = await (await fetch(`${query}/api/traces/${data[0].traceID}`)).json();
      const trace = whole.data?.[0];
      return trace && complete(trace) ? trace : undefined;
    },
    timeoutMs,
  );
}

const hasSpan = (name) => (trace) => trace.spans.some((span) => span.operationName === name);

function publishComplete(trace) {
  const count = (prefix) => trace.spans.filter((span) => span.operationName.startsWith(prefix)).length;
  return count('RunWorkflow:') > 0 && count('StartActivity:') > 0 && count('StartActivity:') === count('RunActivity:');
}

/** The spans of a trace as an indented tree, children in start order. */
function renderTree(trace) {
  const children = new Map();
  const ids = new Set(trace.spans.map((span) => span.spanID));
  const roots = [];
  for (const span of trace.spans) {
    const parent = span.references?.find((ref) => ref.refType === 'CHILD_OF' && ids.has(ref.spanID))?.spanID;
    if (parent) children.set(parent, [...(children.get(parent) ?? []), span]);
    else roots.push(span);
  }
  const start = Math.min(...trace.spans.map((span) => span.startTime));
  const interesting = [
    'hearth.function',
    'hearth.version',
    'hearth.environment_id',
    'hearth.instance_id',
    'hearth.zone',
    'hearth.throttle_reason',
    'hearth.rejection_reason',
    'hearth.attempts',
    'hearth.outcome',
    'hearth.handler.timing',
    'rpc.method',
    'messaging.system',
  ];
  const lines = [`trace ${trace.traceID} (${trace.spans.length} spans)`];
  const walk = (span, depth) => {
    const service = trace.processes[span.processID]?.serviceName ?? '?';
    const attrs = interesting
      .map((key) => [key, tag(span, key)])
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key.replace(/^hearth\./, '')}=${value}`)
      .join(' ');
    const at = ((span.startTime - start) / 1000).toFixed(1);
    const took = (span.duration / 1000).toFixed(1);
    lines.push(`${'  '.repeat(depth)}${depth > 0 ? '└─ ' : ''}${service}: ${span.operationName}  [+${at} ms, ${took} ms]${attrs ? `  ${attrs}` : ''}`);
    for (const child of (children.get(span.spanID) ?? []).sort((a, b) => a.startTime - b.startTime)) walk(child, depth + 1);
  };
  for (const root of roots.sort((a, b) => a.startTime - b.startTime)) walk(root, 0);
  return lines.join('\n');
}

// ------------------------------------------------------------------ main

const options = parseArgs(process.argv.slice(2));
const ports = {
  otlpGrpc: port('JAEGER_OTLP_GRPC_PORT', 4317),
  otlpHttp: port('JAEGER_OTLP_HTTP_PORT', 4318),
  query: port('JAEGER_QUERY_PORT', 16686),
  queryGrpc: port('JAEGER_QUERY_GRPC_PORT', 16685),
  health: port('JAEGER_HEALTH_PORT', 13133),
};
const cleanups = [];
let cleaning;
const cleanup = () =>
  (cleaning ??= (async () => {
    for (const step of cleanups.reverse()) await step().catch((error) => process.stderr.write(`jaeger: cleanup: ${error.message}\n`));
  })());
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
process.on('SIGTERM', () => void cleanup().then(() => process.exit(143)));

try {
  const binary = ensureJaeger();
  const jaeger = await startJaeger(binary, ports);
  cleanups.push(() => jaeger.stop());
  say(`Jaeger ${jaegerVersion} running: UI and query API ${jaeger.query}, OTLP gRPC 127.0.0.1:${ports.otlpGrpc}, OTLP HTTP 127.0.0.1:${ports.otlpHttp}`);

  let endpoint = options.endpoint;
  if (!endpoint) {
    const { startCluster } = await importBuilt('libs/cluster/dist/index.js', 'libs/cluster');
    const otlpEndpoint = options.protocol === 'grpc' ? `http://127.0.0.1:${ports.otlpGrpc}` : `http://127.0.0.1:${ports.otlpHttp}`;
    say(`starting an ephemeral cluster exporting over OTLP ${options.protocol} to ${otlpEndpoint}…`);
    const cluster = await startCluster({
      mode: 'ephemeral',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: options.protocol, OTEL_BSP_SCHEDULE_DELAY: '200' },
    });
    cleanups.push(() => cluster.stop());
    endpoint = cluster.httpEndpoint;
    say(`cluster ready: Lambda API ${endpoint}, logs ${cluster.logsDir}`);
  }

  const requests = await doWork(endpoint);
  const traces = [
    // Complete once the workflow ended and every activity it scheduled has run.
    ['PublishVersion', requests.publish, publishComplete],
    ['synchronous Invoke', requests.sync, hasSpan('hearth.ee.Handler')],
    ['asynchronous Invoke', requests.event, hasSpan('hearth.ee.Handler')],
  ];
  for (const [what, requestId, complete] of traces) {
    const trace = await fetchTrace(jaeger.query, requestId, complete);
    process.stdout.write(`\n${what} — ${jaeger.query}/trace/${trace.traceID}\n${renderTree(trace)}\n`);
  }
  if (options.keep) {
    say(`keeping Jaeger${options.endpoint ? '' : ' and the cluster'} running: ${jaeger.query} — Ctrl-C stops`);
    await new Promise(() => {});
  }
} catch (error) {
  process.stderr.write(`jaeger: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  if (!options.keep) await cleanup();
}
// Child processes and sockets are gone; leave without waiting for stray timers.
process.exit(process.exitCode ?? 0);
