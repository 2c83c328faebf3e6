#!/usr/bin/env node
// The agent's invoke path, measured: invocations/s and latency (p50/p99/p99.9) of a
// no-op Node.js handler on one EE, from an in-process gRPC client, through
// AgentService.InvokeStream (one long-lived stream, invocations matched by request id)
// and, side by side in the same process, through the unary InvokeEnvironment it
// replaces on the hot path. 1 and 64 concurrent callers. The EE is a real runtime
// process (1 vCPU: one worker thread, max concurrency 64) behind the real Runtime API.
// Prints a table and writes services/agent/bench/results/invoke-stream.json. Never
// passes or fails on time.
//
// Run after a build (`npx tsc -b services/agent`): `node services/agent/bench/invoke-stream.mjs`.
// HEARTH_BENCH_SECONDS sets the length of each timed scenario (default 3); HEARTH_BENCH_CALLERS
// (default "1,64") and HEARTH_BENCH_PATHS (default "InvokeEnvironment,InvokeStream") pick scenarios,
// e.g. to profile one of them. HEARTH_BENCH_TRACING=1 registers the tracer provider as every
// service does (spans recorded, not exported) and sends each invocation a traceparent.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const root = new URL('../../../', import.meta.url);
const dist = new URL('services/agent/dist/', root);
if (!existsSync(new URL('agent.js', dist))) {
  console.error(`${dist.pathname}agent.js is missing: build first with \`npx tsc -b services/agent\``);
  process.exit(1);
}
const { createAgent } = await import(new URL('agent.js', dist).href);
const { createAgentService } = await import(new URL('grpc-service.js', dist).href);
const { createProcfsSampler } = await import(new URL('proc-sampler.js', dist).href);
const { Server, ServerCredentials } = await import('@grpc/grpc-js');
const { callUnary, createClient } = await import('@hearth/grpc');
const { agent: proto } = await import('@hearth/proto');
const { createLogger, startTelemetry } = await import('@hearth/telemetry');
const tracing = process.env.HEARTH_BENCH_TRACING === '1';
const telemetry = tracing ? startTelemetry({ serviceName: 'agent-bench', spanProcessors: [] }) : undefined;
const traceContext = tracing ? { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } : {};
const { strToU8, zipSync } = await import('fflate');

const scenarioMs = Number(process.env.HEARTH_BENCH_SECONDS ?? 3) * 1_000;
const warmupMs = 1_000;
const callerCounts = (process.env.HEARTH_BENCH_CALLERS ?? '1,64').split(',').map(Number);
const paths = (process.env.HEARTH_BENCH_PATHS ?? 'InvokeEnvironment,InvokeStream').split(',');
const logger = createLogger('agent-bench');
logger.level = 'silent';

const zip = zipSync({ 'index.mjs': strToU8('export const handler = async () => null;\n') });
const dataDir = mkdtempSync(join(tmpdir(), 'hearth-agent-bench-'));
const agent = await createAgent({
  instanceId: 'i-bench',
  workDir: join(dataDir, 'instances', 'i-bench'),
  codeStore: { get: async () => zip },
  logger,
  sandboxUser: null,
});
const server = new Server({ 'grpc.max_receive_message_length': 7 * 1024 * 1024 });
server.addService(proto.AgentServiceService, createAgentService(agent, logger));
const port = await new Promise((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
);
const client = createClient(proto.AgentServiceClient, `127.0.0.1:${port}`, { maxReceiveMessageBytes: 7 * 1024 * 1024 });

const environmentId = 'ee-bench';
const status = await agent.startEnvironment({
  environmentId,
  functionName: 'noop',
  functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:noop:1',
  version: '1',
  runtime: `nodejs${process.versions.node.split('.')[0]}.x`,
  handler: 'index.handler',
  memorySizeMb: 2048,
  timeoutSeconds: 30,
  maxConcurrency: 64,
  vcpus: 1,
  variables: {},
  codeSha256Hex: '0'.repeat(64),
  logGroup: '',
  initTimeoutMs: 0,
  region: 'us-east-1',
});
if (status.state !== 'Ready') throw new Error(`the EE did not start: ${status.reasonCode} ${status.reason}`);
const payload = Buffer.from('{}');
const eeSampler = createProcfsSampler();
/** CPU the EE's processes used since the previous call, ms. */
const eeCpuMs = () => eeSampler.sample(new Set([status.pid])).get(status.pid)?.cpuMs ?? 0;

/** The unary path: one InvokeEnvironment call per invocation. */
function unaryInvoker() {
  return {
    invoke: () => callUnary(client, client.invokeEnvironment, { environmentId, requestId: '', payload, timeoutMs: 0 }, { deadlineMs: 30_000 }),
    close: async () => {},
  };
}

/** The stream path: one InvokeStream for every caller, outcomes matched by request id. */
function streamInvoker() {
  const call = client.invokeStream();
  const waiting = new Map();
  let sequence = 0;
  call.on('data', (outcome) => {
    const settle = waiting.get(outcome.requestId);
    waiting.delete(outcome.requestId);
    if (outcome.outcome?.$case === 'result') settle?.resolve(outcome);
    else settle?.reject(new Error(`rejected: ${JSON.stringify(outcome.outcome?.value)}`));
  });
  const ended = new Promise((resolve) => {
    call.on('end', resolve);
    call.on('error', resolve);
  });
  return {
    invoke: () =>
      new Promise((resolve, reject) => {
        const requestId = `b-${++sequence}`;
        waiting.set(requestId, { resolve, reject });
        call.write({ requestId, environmentId, payload, deadlineUnixMs: 0, traceContext, cancel: false });
      }),
    close: async () => {
      call.end();
      await ended;
    },
  };
}

/** Runs `callers` concurrent loops of invoke → await for `ms`; returns the latencies (ms) of the calls that ended in time. */
async function drive(invoker, callers, ms) {
  const latencies = [];
  const deadline = performance.now() + ms;
  let failures = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < deadline) {
        const started = performance.now();
        try {
          await invoker.invoke();
          latencies.push(performance.now() - started);
        } catch {
          failures += 1;
        }
      }
    }),
  );
  return { latencies, failures };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function scenario(path, callers) {
  const invoker = path === 'InvokeStream' ? streamInvoker() : unaryInvoker();
  await drive(invoker, callers, warmupMs);
  eeCpuMs();
  const eluBefore = performance.eventLoopUtilization();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const { latencies, failures } = await drive(invoker, callers, scenarioMs);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const eeCpu = eeCpuMs();
  const elu = performance.eventLoopUtilization(eluBefore);
  await invoker.close();
  latencies.sort((a, b) => a - b);
  return {
    path,
    callers,
    invocations: latencies.length,
    failures,
    perSecond: Math.round(latencies.length / seconds),
    p50Ms: +percentile(latencies, 50).toFixed(3),
    p99Ms: +percentile(latencies, 99).toFixed(3),
    p999Ms: +percentile(latencies, 99.9).toFixed(3),
    // Client and agent share this process: CPU per invocation of both, not of the agent alone.
    processCpuUsPerInvocation: Math.round((cpu.user + cpu.system) / Math.max(1, latencies.length)),
    /** The EE's runtime process (its Runtime API client and the handler), per invocation and as a share of one core. */
    eeCpuUsPerInvocation: Math.round((eeCpu * 1000) / Math.max(1, latencies.length)),
    eeCpuPercentOfCore: Math.round((eeCpu / (seconds * 1000)) * 100),
    /** How busy this process's event loop (client and agent together) was. */
    eventLoopUtilization: +elu.utilization.toFixed(2),
  };
}

const results = [];
try {
  for (const callers of callerCounts) {
    for (const path of paths) {
      const result = await scenario(path, callers);
      results.push(result);
      console.log(
        `${path.padEnd(18)} ${String(callers).padStart(2)} caller(s): ${String(result.perSecond).padStart(6)} inv/s  ` +
          `p50 ${result.p50Ms.toFixed(2).padStart(6)} ms  p99 ${result.p99Ms.toFixed(2).padStart(6)} ms  p99.9 ${result.p999Ms.toFixed(2).padStart(6)} ms  ` +
          `CPU/inv: ${result.processCpuUsPerInvocation} µs client+agent, ${result.eeCpuUsPerInvocation} µs EE (EE at ${result.eeCpuPercentOfCore}% of a core), loop ${Math.round(result.eventLoopUtilization * 100)}% busy` +
          `${result.failures ? `  ${result.failures} failed` : ''}`,
      );
    }
  }
  for (const callers of callerCounts) {
    const unary = results.find((r) => r.path === 'InvokeEnvironment' && r.callers === callers);
    const stream = results.find((r) => r.path === 'InvokeStream' && r.callers === callers);
    if (unary && stream) console.log(`${callers} caller(s): InvokeStream/InvokeEnvironment throughput ×${(stream.perSecond / unary.perSecond).toFixed(2)}`);
  }
  const resultsDir = new URL('results/', import.meta.url);
  mkdirSync(resultsDir, { recursive: true });
  const out = {
    benchmark: 'agent-invoke-stream',
    at: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    scenarioSeconds: scenarioMs / 1000,
    tracing,
    handler: 'Node.js no-op (async () => null), one EE, 1 vCPU, max concurrency 64',
    results,
  };
  const name = tracing ? 'invoke-stream-tracing.json' : 'invoke-stream.json';
  writeFileSync(new URL(name, resultsDir), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${new URL(name, resultsDir).pathname}`);
} finally {
  await agent.close();
  client.close();
  server.forceShutdown();
  await telemetry?.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
}
