/**
 * The agent end to end on one instance: real runtimes (Node.js and Python
 * bootstraps) started from packages in the code store on the test NATS server,
 * driven through AgentService over gRPC. Covers init (Ready and every kind of
 * init failure), invocations (results, context, errors, timeouts), faults after
 * Ready, stop, the EE's environment, multi-concurrency, admission and heartbeats.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { detectRuntimes } from '@hearth/config';
import { TooManyRequestsException } from '@hearth/errors';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceHeartbeat } from '../src/heartbeat.js';
import { groupRssMib, liveProcessesInGroup, startAgentFixture, type AgentFixture } from './support.js';

const pythonRuntime = [...detectRuntimes().values()].find((runtime) => runtime.family === 'python')?.runtime ?? 'python3';
const isRoot = process.getuid?.() === 0;

/** A Node.js ESM handler that reports what it sees, sleeps, throws or logs on request. */
const nodeEsm = {
  'index.mjs': `
    import { threadId } from 'node:worker_threads';
    import { writeFileSync, readFileSync } from 'node:fs';
    import { join } from 'node:path';
    import { tmpdir } from 'node:os';
    export const handler = async (event, context) => {
      if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
      if (event.throwType) { const error = new Error(event.message); error.name = event.throwType; throw error; }
      if (event.log) console.log('logged', event.log);
      let tmpWritable = false;
      if (event.tmp) { const file = join(tmpdir(), context.awsRequestId); writeFileSync(file, 'x'); tmpWritable = readFileSync(file, 'utf8') === 'x'; }
      return {
        echo: event,
        context: {
          awsRequestId: context.awsRequestId,
          functionName: context.functionName,
          functionVersion: context.functionVersion,
          invokedFunctionArn: context.invokedFunctionArn,
          memoryLimitInMB: context.memoryLimitInMB,
          logGroupName: context.logGroupName,
          logStreamName: context.logStreamName,
          remaining: context.getRemainingTimeInMillis(),
          clientContext: context.clientContext,
          callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
        },
        env: event.env ? process.env : undefined,
        uid: process.getuid(),
        cwd: process.cwd(),
        threadId,
        tmpWritable,
      };
    };
  `,
};

/** A CommonJS handler in a nested directory, with no package.json in the package. */
const nodeCjs = {
  'lib/app.js': `
    const path = require('node:path');
    exports.handler = async (event, context) => ({ cjs: typeof module === 'object', file: path.basename(__filename), requestId: context.awsRequestId, echo: event });
    exports.sync = (event) => ({ sync: true, echo: event });
  `,
};

const python = {
  'app/__init__.py': '',
  'app/main.py': `
import os, time, json, logging
logger = logging.getLogger("app")
def handler(event, context):
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("raise"):
        raise ValueError(event["raise"])
    print("printed", event.get("log"))
    logger.info("logged %s", event.get("log"))
    cc = context.client_context
    return {
        "echo": event,
        "context": {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
            "client_context_custom": cc.custom if cc else None,
        },
        "pid": os.getpid(),
        "uid": os.getuid(),
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
    }
`,
};

let fx: AgentFixture;

beforeAll(async () => {
  fx = await startAgentFixture('ee');
});
afterEach(async () => {
  // Each test's EEs end with it: a dozen idle runtimes would otherwise share two cores and the memory.
  const { environments } = await fx.list();
  await Promise.all(environments.filter((e) => e.state !== 'Stopped').map((e) => fx.stop(e.environmentId)));
});
afterAll(async () => {
  await fx?.close();
});

describe('init and invocations', () => {
  it('starts a Node.js ESM handler Ready and answers with its result and a full context', async () => {
    const spec = await fx.spec(nodeEsm, { functionName: 'esm-fn', logGroup: '/custom/group' });
    const started = performance.now();
    const status = await fx.start(spec);
    const startMs = performance.now() - started;
    expect(status).toMatchObject({ environmentId: spec.environmentId, state: 'Ready', maxConcurrency: 64, version: '1', functionArn: spec.functionArn });
    expect(status.pid).toBeGreaterThan(0);
    expect(status.runtimeApi).toMatch(/^127\.0\.0\.1:\d+$/);
    const rss = groupRssMib(status.pid);
    console.log(`Node EE: init ${status.initDurationMs} ms (StartEnvironment ${startMs.toFixed(0)} ms), idle RSS ${rss.toFixed(1)} MiB`);

    const clientContext = Buffer.from(JSON.stringify({ custom: { tenant: 'a' } })).toString('base64');
    const { result, response } = await fx.invokeJson(spec.environmentId, { hello: 'world' }, { requestId: 'req-esm-1', clientContext, timeoutMs: 5_000 });
    expect(response.functionError).toBeUndefined();
    expect(result.echo).toEqual({ hello: 'world' });
    expect(result.context).toMatchObject({
      awsRequestId: 'req-esm-1',
      functionName: 'esm-fn',
      functionVersion: '1',
      invokedFunctionArn: spec.functionArn,
      memoryLimitInMB: '2048',
      logGroupName: '/custom/group',
      clientContext: { custom: { tenant: 'a' } },
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(result.context.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[1\]ee/);
    expect(result.context.remaining).toBeGreaterThan(4_000);
    expect(result.context.remaining).toBeLessThanOrEqual(5_000);
    expect(result.cwd).toBe(join(fx.workDir, 'environments', spec.environmentId, 'task'));
    // A worker thread runs the handler, never the main thread.
    expect(result.threadId).toBeGreaterThan(0);
    if (isRoot) expect(result.uid).toBe(65534);
  });

  it('runs a CommonJS handler from a nested path, async and sync', async () => {
    const spec = await fx.spec(nodeCjs, { handler: 'lib/app.handler' });
    expect((await fx.start(spec)).state).toBe('Ready');
    const { result } = await fx.invokeJson(spec.environmentId, { n: 1 }, { requestId: 'req-cjs' });
    expect(result).toEqual({ cjs: true, file: 'app.js', requestId: 'req-cjs', echo: { n: 1 } });

    const syncSpec = await fx.spec(nodeCjs, { handler: 'lib/app.sync' });
    expect((await fx.start(syncSpec)).state).toBe('Ready');
    expect((await fx.invokeJson(syncSpec.environmentId, { n: 2 })).result).toEqual({ sync: true, echo: { n: 2 } });
  });

  it('resolves .js as ESM under "type": "module", and .cjs as CommonJS', async () => {
    const esmJs = await fx.spec(
      { 'package.json': '{"type":"module"}', 'index.js': 'export const handler = async () => ({ esm: typeof require === "undefined" });' },
      {},
    );
    const cjs = await fx.spec({ 'handlers/main.cjs': 'module.exports.nested = { run: async () => ({ cjs: typeof require === "function" }) };' }, {
      handler: 'handlers/main.nested.run',
    });
    await Promise.all([fx.start(esmJs), fx.start(cjs)]);
    expect((await fx.invokeJson(esmJs.environmentId, {})).result).toEqual({ esm: true });
    expect((await fx.invokeJson(cjs.environmentId, {})).result).toEqual({ cjs: true });
  });

  it('starts a Python handler Ready and answers with its result, context and logs', async () => {
    const spec = await fx.spec(python, { runtime: pythonRuntime, handler: 'app.main.handler', maxConcurrency: 2, functionName: 'py-fn' });
    const status = await fx.start(spec);
    expect(status).toMatchObject({ state: 'Ready', maxConcurrency: 2 });
    console.log(`Python EE (2 processes): init ${status.initDurationMs} ms`);
    const clientContext = Buffer.from(JSON.stringify({ custom: { k: 'v' } })).toString('base64');
    const { result, response } = await fx.invokeJson(spec.environmentId, { log: 'marker-py' }, { requestId: 'req-py-1', clientContext });
    expect(response.functionError).toBeUndefined();
    expect(result.context).toMatchObject({
      aws_request_id: 'req-py-1',
      function_name: 'py-fn',
      function_version: '1',
      invoked_function_arn: spec.functionArn,
      memory_limit_in_mb: '2048',
      log_group_name: '/aws/lambda/py-fn',
      client_context_custom: { k: 'v' },
    });
    expect(result.context.remaining).toBeGreaterThan(2_000);
    expect(result.trace).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]$/);

    // print() and logging become JSON lines with the requestId in the EE's output.log.
    const logFile = join(fx.workDir, 'environments', spec.environmentId, 'output.log');
    await expect
      .poll(async () => (await readFile(logFile, 'utf8')).split('\n').filter((line) => line.includes('marker-py')).length, { timeout: 5_000 })
      .toBe(2);
    const lines = (await readFile(logFile, 'utf8')).split('\n').filter((line) => line.includes('marker-py')).map((line) => JSON.parse(line));
    for (const line of lines) {
      expect(line).toMatchObject({ environmentId: spec.environmentId, function: 'py-fn', version: '1', requestId: 'req-py-1', stream: 'stdout' });
    }
  });

  it('writes Node.js console output to output.log as JSON lines with the requestId', async () => {
    const spec = await fx.spec(nodeEsm, {});
    await fx.start(spec);
    await fx.invokeJson(spec.environmentId, { log: 'marker-node' }, { requestId: 'req-log-1' });
    const logFile = join(fx.workDir, 'environments', spec.environmentId, 'output.log');
    await expect.poll(async () => (await readFile(logFile, 'utf8')).includes('marker-node'), { timeout: 5_000 }).toBe(true);
    const line = (await readFile(logFile, 'utf8')).split('\n').find((text) => text.includes('marker-node')) ?? '';
    expect(JSON.parse(line)).toMatchObject({ requestId: 'req-log-1', level: 'INFO', message: 'logged marker-node', environmentId: spec.environmentId });
  });

  it('returns function errors as function_error Unhandled with Lambda error JSON (Node.js and Python)', async () => {
    const node = await fx.spec(nodeEsm, {});
    const py = await fx.spec(python, { runtime: pythonRuntime, handler: 'app.main.handler', maxConcurrency: 1 });
    await Promise.all([fx.start(node), fx.start(py)]);

    const nodeError = await fx.invokeJson(node.environmentId, { throwType: 'ValidationError', message: 'bad input' });
    expect(nodeError.response.functionError).toBe('Unhandled');
    expect(nodeError.result).toMatchObject({ errorType: 'ValidationError', errorMessage: 'bad input' });
    expect(Array.isArray(nodeError.result.stackTrace)).toBe(true);

    const pyError = await fx.invokeJson(py.environmentId, { raise: 'no good' });
    expect(pyError.response.functionError).toBe('Unhandled');
    expect(pyError.result).toMatchObject({ errorType: 'ValueError', errorMessage: 'no good' });
    expect(pyError.result.stackTrace.join('')).toContain('main.py');

    // The EEs stay Ready and keep serving.
    expect((await fx.invokeJson(node.environmentId, { ok: 1 })).result.echo).toEqual({ ok: 1 });
    expect((await fx.invokeJson(py.environmentId, { ok: 2 })).result.echo).toEqual({ ok: 2 });
  });

  it("times an invocation out with Lambda's message and keeps the EE running", async () => {
    const spec = await fx.spec(nodeEsm, { maxConcurrency: 4 });
    await fx.start(spec);
    const started = performance.now();
    const { result, response } = await fx.invokeJson(spec.environmentId, { sleepMs: 3_000 }, { requestId: 'req-slow', timeoutMs: 300 });
    const elapsed = performance.now() - started;
    expect(response.functionError).toBe('Unhandled');
    expect(result).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: req-slow Error: Task timed out after 0.30 seconds' });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);
    const status = (await fx.list()).environments.find((environment) => environment.environmentId === spec.environmentId);
    expect(status?.state).toBe('Ready');
    // The timed-out request still holds its slot (its code keeps running), the others serve.
    expect(status?.inFlight).toBe(1);
    expect((await fx.invokeJson(spec.environmentId, { after: true })).result.echo).toEqual({ after: true });
  });
});

describe('init failures', () => {
  it('reports init errors with their Lambda reason codes and leaves no process', async () => {
    const cases: { files: Record<string, string>; handler?: string; runtime?: string; reasonCode: string; reason: RegExp }[] = [
      { files: { 'index.mjs': `throw new Error('boom at init');\nexport const handler = async () => 1;` }, reasonCode: 'FunctionError.RuntimeInitError', reason: /Error: boom at init/ },
      { files: { 'index.mjs': 'export const handler = async () => {' }, reasonCode: 'FunctionError.RuntimeInitError', reason: /Runtime\.UserCodeSyntaxError/ },
      { files: { 'index.mjs': `import 'not-a-package';\nexport const handler = async () => 1;` }, reasonCode: 'FunctionError.RuntimeInitError', reason: /Runtime\.ImportModuleError/ },
      { files: { 'index.mjs': 'export const other = async () => 1;' }, reasonCode: 'FunctionError.InvalidEntryPoint', reason: /Runtime\.HandlerNotFound: index\.handler is undefined or not exported/ },
      { files: { 'index.mjs': 'export const handler = 1;' }, handler: 'indexhandler', reasonCode: 'FunctionError.InvalidEntryPoint', reason: /Runtime\.MalformedHandlerName/ },
      { files: { 'other.js': '' }, reasonCode: 'FunctionError.RuntimeInitError', reason: /Runtime\.ImportModuleError: Error: Cannot find module 'index'/ },
      { files: { 'app.py': 'import not_a_module\n' }, runtime: pythonRuntime, handler: 'app.handler', reasonCode: 'FunctionError.RuntimeInitError', reason: /Runtime\.ImportModuleError: Unable to import module 'app'/ },
      { files: { 'app.py': 'def other(e, c): pass\n' }, runtime: pythonRuntime, handler: 'app.handler', reasonCode: 'FunctionError.InvalidEntryPoint', reason: /Runtime\.HandlerNotFound: Handler 'handler' missing on module 'app'/ },
      { files: { 'app.py': 'raise RuntimeError("py init")\n' }, runtime: pythonRuntime, handler: 'app.handler', reasonCode: 'FunctionError.RuntimeInitError', reason: /RuntimeError: py init/ },
      { files: { 'app.py': 'def handler(e, c)\n' }, runtime: pythonRuntime, handler: 'app.handler', reasonCode: 'FunctionError.RuntimeInitError', reason: /Runtime\.UserCodeSyntaxError/ },
    ];
    const specs = await Promise.all(
      cases.map((c) =>
        fx.spec(c.files, { handler: c.handler ?? 'index.handler', ...(c.runtime ? { runtime: c.runtime, maxConcurrency: 2 } : {}) }),
      ),
    );
    const statuses = await Promise.all(specs.map((spec) => fx.start(spec)));
    statuses.forEach((status, index) => {
      const expected = cases[index]!;
      expect(status.state, JSON.stringify(status)).toBe('Failed');
      expect(status.reasonCode, status.reason).toBe(expected.reasonCode);
      expect(status.reason).toMatch(expected.reason);
      expect(liveProcessesInGroup(status.pid)).toEqual([]);
    });
  });

  it('fails an init that outlives init_timeout_ms with FunctionError.InitTimeout and kills the runtime', async () => {
    const spec = await fx.spec(
      { 'index.mjs': 'await new Promise((resolve) => setTimeout(resolve, 20_000));\nexport const handler = async () => 1;' },
      { initTimeoutMs: 500 },
    );
    const started = performance.now();
    const status = await fx.start(spec);
    expect(status).toMatchObject({ state: 'Failed', reasonCode: 'FunctionError.InitTimeout' });
    expect(status.reason).toContain('500 ms');
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(liveProcessesInGroup(status.pid)).toEqual([]);
  });

  it('fails with the exit code and stderr of a runtime that exits before init', async () => {
    const { writeFile, chmod, mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'hearth-fake-runtime-'));
    const fake = join(dir, 'node');
    await writeFile(fake, '#!/bin/sh\necho "fatal: this interpreter is broken" >&2\nexit 7\n');
    await chmod(fake, 0o755);
    const broken = await startAgentFixture('broken', { runtimes: new Map([['nodejs20.x', { runtime: 'nodejs20.x', executable: fake, family: 'nodejs' }]]) });
    try {
      const spec = await broken.spec(nodeEsm, { runtime: 'nodejs20.x' });
      const status = await broken.start(spec);
      expect(status).toMatchObject({ state: 'Failed', reasonCode: 'FunctionError.RuntimeInitError' });
      expect(status.reason).toContain('exit status 7');
      expect(status.reason).toContain('fatal: this interpreter is broken');

      const unknown = await broken.start(await broken.spec(python, { runtime: 'python2.7', handler: 'app.main.handler' }));
      expect(unknown).toMatchObject({ state: 'Failed', reasonCode: 'InvalidRuntime' });
    } finally {
      await broken.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('faults and stop', () => {
  it('marks an EE whose process dies after Ready as Failed', async () => {
    const spec = await fx.spec(nodeEsm, {});
    const status = await fx.start(spec);
    process.kill(status.pid, 'SIGKILL');
    await expect
      .poll(async () => (await fx.list()).environments.find((environment) => environment.environmentId === spec.environmentId)?.state, { timeout: 5_000 })
      .toBe('Failed');
    const failed = (await fx.list()).environments.find((environment) => environment.environmentId === spec.environmentId);
    expect(failed).toMatchObject({ reasonCode: 'Runtime.ExitError', reason: expect.stringContaining('signal: killed') });
    await expect(fx.invoke({ environmentId: spec.environmentId, payload: Buffer.from('{}') })).rejects.toMatchObject({
      name: 'ServiceUnavailableException',
    });
  });

  it('stops an EE without leaving a process; its in-flight invocation gets an error', async () => {
    const node = await fx.spec(nodeEsm, {});
    const py = await fx.spec(python, { runtime: pythonRuntime, handler: 'app.main.handler', maxConcurrency: 3 });
    const [nodeStatus, pyStatus] = await Promise.all([fx.start(node), fx.start(py)]);
    expect(liveProcessesInGroup(pyStatus.pid).length).toBe(4);
    const inFlight = fx.invokeJson(node.environmentId, { sleepMs: 10_000 }, { requestId: 'req-cut', timeoutMs: 20_000 });
    await expect.poll(async () => (await fx.list()).environments.find((e) => e.environmentId === node.environmentId)?.inFlight).toBe(1);

    const [nodeStopped, pyStopped] = await Promise.all([fx.stop(node.environmentId, 1_000), fx.stop(py.environmentId, 1_000)]);
    expect(nodeStopped.state).toBe('Stopped');
    expect(pyStopped.state).toBe('Stopped');
    expect(liveProcessesInGroup(nodeStatus.pid)).toEqual([]);
    expect(liveProcessesInGroup(pyStatus.pid)).toEqual([]);
    const { result, response } = await inFlight;
    expect(response.functionError).toBe('Unhandled');
    expect(result).toEqual({ errorType: 'Runtime.ExitError', errorMessage: 'RequestId: req-cut Error: Runtime exited with error: signal: terminated' });
    // Idempotent, and unknown ids answer Stopped.
    expect((await fx.stop(node.environmentId)).state).toBe('Stopped');
    expect((await fx.stop('never-started')).state).toBe('Stopped');
  });
});

describe('the execution environment', () => {
  it("gets exactly Lambda's variables plus the function's, never the agent's own", async () => {
    const previous = process.env.DATABASE_URL;
    process.env.DATABASE_URL = 'postgres://agent-secret@localhost/hearth';
    try {
      const spec = await fx.spec(nodeEsm, {
        functionName: 'env-fn',
        variables: { GREETING: 'hi', AWS_REGION: 'eu-west-9', TZ: 'Europe/Paris' },
        region: 'us-west-2',
        memorySizeMb: 4096,
        vcpus: 2,
      });
      await fx.start(spec);
      const { result } = await fx.invokeJson(spec.environmentId, { env: true, tmp: true });
      const env = result.env as Record<string, string>;
      const dir = join(fx.workDir, 'environments', spec.environmentId);
      expect(env).toMatchObject({
        AWS_LAMBDA_FUNCTION_NAME: 'env-fn',
        AWS_LAMBDA_FUNCTION_VERSION: '1',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '4096',
        AWS_LAMBDA_MAX_CONCURRENCY: '128',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/env-fn',
        AWS_REGION: 'us-west-2',
        AWS_DEFAULT_REGION: 'us-west-2',
        AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
        LAMBDA_TASK_ROOT: join(dir, 'task'),
        _HANDLER: 'index.handler',
        TZ: 'Europe/Paris',
        LANG: 'en_US.UTF-8',
        TMPDIR: join(dir, 'tmp'),
        HOME: join(dir, 'tmp'),
        GREETING: 'hi',
        AWS_LAMBDA_NODEJS_WORKER_COUNT: '2',
      });
      expect(env.AWS_LAMBDA_RUNTIME_API).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(env.LAMBDA_RUNTIME_DIR).toMatch(/runtimes\/nodejs$/);
      expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/\[1\]/);
      expect(env.PATH).toContain('/usr/bin');
      expect(env.DATABASE_URL).toBeUndefined();
      expect(Object.keys(env).filter((name) => name.startsWith('HEARTH_') || name === 'NATS_URL')).toEqual([]);
      expect(result.tmpWritable).toBe(true);
    } finally {
      if (previous === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = previous;
    }
  });
});

describe('multi-concurrency', () => {
  it('runs 64 concurrent 200 ms invocations on one Node.js EE in about one 200 ms', async () => {
    const spec = await fx.spec(nodeEsm, { maxConcurrency: 64 });
    await fx.start(spec);
    await fx.invokeJson(spec.environmentId, { warm: true });
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 64 }, (_, i) => fx.invokeJson(spec.environmentId, { sleepMs: 200, i })));
    const elapsed = performance.now() - started;
    console.log(`Node EE, max concurrency 64: 64 × 200 ms invocations took ${elapsed.toFixed(0)} ms`);
    expect(results.every(({ response }) => response.functionError === undefined)).toBe(true);
    expect(elapsed).toBeLessThan(400);
  });

  it('runs 4 concurrent sleeping invocations on a Python EE of 4 processes in about one sleep', async () => {
    const spec = await fx.spec(python, { runtime: pythonRuntime, handler: 'app.main.handler', maxConcurrency: 4 });
    await fx.start(spec);
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => fx.invokeJson(spec.environmentId, { sleep: 0.5, i })));
    const elapsed = performance.now() - started;
    console.log(`Python EE, 4 processes: 4 × 500 ms invocations took ${elapsed.toFixed(0)} ms`);
    expect(new Set(results.map(({ result }) => result.pid)).size).toBe(4);
    expect(elapsed).toBeLessThan(900);
  });

  it('refuses an invocation beyond max concurrency at once, with a reason', async () => {
    const spec = await fx.spec(nodeEsm, { maxConcurrency: 2 });
    await fx.start(spec);
    const running = [fx.invokeJson(spec.environmentId, { sleepMs: 400 }), fx.invokeJson(spec.environmentId, { sleepMs: 400 })];
    await expect.poll(async () => (await fx.list()).environments.find((e) => e.environmentId === spec.environmentId)?.inFlight).toBe(2);
    const started = performance.now();
    const refused = await fx.invoke({ environmentId: spec.environmentId, payload: Buffer.from('{}') }).catch((error: unknown) => error);
    expect(performance.now() - started).toBeLessThan(100);
    expect(refused).toBeInstanceOf(TooManyRequestsException);
    expect(refused).toMatchObject({ reason: 'ConcurrencyLimit' });
    expect((refused as Error).message).toContain('maximum concurrency (2 in flight)');
    await Promise.all(running);
  });
});

describe('heartbeats', () => {
  it('publishes every EE with its state and load on instance.<id>.heartbeat', async () => {
    const spec = await fx.spec(nodeEsm, { maxConcurrency: 8 });
    const broken = await fx.spec({ 'index.mjs': 'export const other = 1;' }, {});
    const beats: InstanceHeartbeat[] = [];
    const subscription = fx.bus.subscribeLive<InstanceHeartbeat>(`instance.${fx.instanceId}.heartbeat`, (beat) => void beats.push(beat));
    try {
      await Promise.all([fx.start(spec), fx.start(broken)]);
      // Both settled before start() returned; the beat that says so follows within the 20 ms coalescing delay.
      const settled = (beat: InstanceHeartbeat) =>
        beat.environments.some((e) => e.environmentId === spec.environmentId && e.state === 'Ready') &&
        beat.environments.some((e) => e.environmentId === broken.environmentId && e.state === 'Failed');
      await expect.poll(() => beats.some(settled), { timeout: 3_000 }).toBe(true);
      const beat = beats.find(settled)!;
      expect(beat.instanceId).toBe(fx.instanceId);
      expect(Math.abs(beat.at - Date.now())).toBeLessThan(5_000);
      expect(beat.environments.find((e) => e.environmentId === spec.environmentId)).toEqual({
        environmentId: spec.environmentId,
        functionArn: spec.functionArn,
        version: '1',
        state: 'Ready',
        inFlight: 0,
        maxConcurrency: 8,
      });
      // Failed EEs carry their reason code.
      expect(beat.environments.find((e) => e.environmentId === broken.environmentId)).toMatchObject({
        state: 'Failed',
        reasonCode: 'FunctionError.InvalidEntryPoint',
      });
      const count = beats.length;
      await expect.poll(() => beats.length, { timeout: 3_000 }).toBeGreaterThanOrEqual(count + 2);
    } finally {
      subscription.unsubscribe();
    }
  });
});
