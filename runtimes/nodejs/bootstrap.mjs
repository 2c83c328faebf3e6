/**
 * Hearth's Node.js runtime: a Lambda Runtime API client that runs inside an
 * execution environment, with Node.js builtins only (no node_modules here).
 *
 * Multi-concurrency the Lambda Managed Instances way: the main thread starts
 * worker threads (AWS_LAMBDA_NODEJS_WORKER_COUNT, else the CPUs, at least 1,
 * never more than AWS_LAMBDA_MAX_CONCURRENCY). Each worker loads the handler once
 * and runs its share of AWS_LAMBDA_MAX_CONCURRENCY concurrent
 * `/next → handler → /response` loops, over keep-alive sockets. The main thread
 * never loads user code: it supervises workers, reports an init failure once, and
 * restarts a worker that crashes after init (a crash loop ends the process).
 *
 * Handler `file.export` (nested: `src/app.handler`, `index.a.b`), resolved as
 * `.js` (ESM when the nearest package.json says "type": "module", else
 * CommonJS), `.mjs`, `.cjs`, then a package under node_modules. console output
 * becomes JSON lines carrying the invocation's requestId (AsyncLocalStorage).
 *
 * The Runtime API is the EE's lifeline: when it cannot be reached (the agent is
 * gone), the runtime exits rather than linger.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const API = process.env.AWS_LAMBDA_RUNTIME_API;
const BASE = '/2018-06-01/runtime';
const HANDLER = process.env._HANDLER ?? '';
const TASK_ROOT = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
/** Exit code when the Runtime API is unreachable: the agent is gone, so is the EE. */
const EXIT_API_GONE = 70;

const requestStore = new AsyncLocalStorage();

// ---------------------------------------------------------------- logging

/** Writes one JSON log line, as Lambda's JSON log format: timestamp, level, requestId, message. */
function logLine(level, args, fields = undefined) {
  const record = { timestamp: new Date().toISOString(), level };
  const requestId = requestStore.getStore()?.requestId;
  if (requestId) record.requestId = requestId;
  const only = args.length === 1 ? args[0] : undefined;
  if (only instanceof Error) {
    record.message = only.message;
    record.errorType = only.name;
    record.errorMessage = only.message;
    record.stackTrace = String(only.stack ?? '').split('\n');
  } else {
    record.message = format(...args);
  }
  if (fields) Object.assign(record, fields);
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

function patchConsole() {
  const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
  for (const [method, level] of Object.entries(levels)) console[method] = (...args) => logLine(level, args);
}

// ---------------------------------------------------------------- Runtime API client

/** A Runtime API client; node:http is loaded on first use, so the main thread only pays for it on an init failure. */
async function createClient(maxSockets) {
  const { default: http } = await import('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, noDelay: true });
  const [host, portText] = String(API).split(':');
  const port = Number(portText);
  /** One HTTP exchange with the Runtime API; rejects on a connection error or `timeoutMs` (0 = none). */
  function request(method, path, body, headers = {}, timeoutMs = 0) {
    return new Promise((resolvePromise, reject) => {
      const req = http.request(
        { host, port, method, path: BASE + path, agent, headers: body ? { ...headers, 'Content-Length': body.byteLength } : headers },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('socket', (socket) => socket.setNoDelay(true));
      req.on('error', reject);
      if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new Error(`Runtime API ${method} ${path} timed out after ${timeoutMs} ms`)));
      req.end(body);
    });
  }
  return {
    next: () => request('GET', '/invocation/next'),
    respond: (id, body, timing) =>
      request('POST', `/invocation/${encodeURIComponent(id)}/response`, body, { 'Content-Type': 'application/json', ...timingHeader(timing) }, 30_000),
    fail: (id, error, timing) => postError(request, `/invocation/${encodeURIComponent(id)}/error`, error, timingHeader(timing)),
    initError: (error) => postError(request, '/init/error', error),
  };
}

function postError(request, path, error, extraHeaders = {}) {
  const body = Buffer.from(JSON.stringify(error));
  return request(
    'POST',
    path,
    body,
    { 'Content-Type': 'application/json', 'Lambda-Runtime-Function-Error-Type': error.errorType, ...extraHeaders },
    10_000,
  );
}

/** Now, epoch microseconds (performance's clock: monotonic within the process, anchored at its epoch origin). */
function nowMicros() {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * `Hearth-Handler-Timing` for an answer: when the handler ran, so the agent can
 * draw the handler's span (the runtime itself has no tracing; ADR 0010).
 */
function timingHeader(timing) {
  return timing ? { 'Hearth-Handler-Timing': `start=${timing.start};end=${timing.end}` } : {};
}

/** Lambda's error body of anything thrown. */
function errorBody(error) {
  if (error instanceof Error) {
    return { errorType: error.name || 'Error', errorMessage: error.message, stackTrace: String(error.stack ?? '').split('\n').slice(1).map((line) => line.trim()) };
  }
  return { errorType: typeof error, errorMessage: typeof error === 'string' ? error : safeStringify(error), stackTrace: [] };
}

function safeStringify(value) {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** An init failure with the errorType Lambda reports for it. */
class RuntimeError extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

// ---------------------------------------------------------------- main thread

function workerCount(maxConcurrency) {
  const configured = Number.parseInt(process.env.AWS_LAMBDA_NODEJS_WORKER_COUNT ?? '', 10);
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const count = Number.isInteger(configured) && configured > 0 ? configured : cpus;
  return Math.max(1, Math.min(count, maxConcurrency));
}

function main() {
  patchConsole();
  if (!API) {
    console.error('AWS_LAMBDA_RUNTIME_API is not set: this bootstrap runs inside a Hearth execution environment');
    process.exit(1);
  }
  const maxConcurrency = Math.max(1, Number.parseInt(process.env.AWS_LAMBDA_MAX_CONCURRENCY ?? '1', 10) || 1);
  const workers = workerCount(maxConcurrency);
  const crashes = [];
  let initFailed = false;

  const reportInitError = async (error) => {
    if (initFailed) return;
    initFailed = true;
    logLine('ERROR', [`Init failed: ${error.errorType}: ${error.errorMessage}`]);
    const client = await createClient(1);
    await client.initError(error).catch(() => undefined);
    process.exit(1);
  };

  const start = (index) => {
    // Workers split the concurrency exactly, so the runtime never polls beyond AWS_LAMBDA_MAX_CONCURRENCY.
    const loops = Math.floor(maxConcurrency / workers) + (index < maxConcurrency % workers ? 1 : 0);
    const worker = new Worker(new URL(import.meta.url), { workerData: { loops, index } });
    let ready = false;
    worker.on('message', (message) => {
      if (message?.type === 'ready') ready = true;
      else if (message?.type === 'init-error') void reportInitError(message.error);
      else if (message?.type === 'api-gone') process.exit(EXIT_API_GONE);
    });
    worker.on('error', (error) => logLine('ERROR', [`worker ${index} crashed:`, error]));
    worker.on('exit', (code) => {
      if (initFailed) return;
      if (!ready) {
        void reportInitError({ errorType: 'Runtime.ExitError', errorMessage: `Worker ${index} exited with code ${code} during init` });
        return;
      }
      const now = Date.now();
      crashes.push(now);
      while (crashes.length > 0 && (crashes[0] ?? now) < now - 60_000) crashes.shift();
      if (crashes.length > 10) {
        logLine('ERROR', [`workers crashed ${crashes.length} times within a minute; exiting`]);
        process.exit(1);
      }
      logLine('WARN', [`worker ${index} exited with code ${code}; restarting it`]);
      start(index);
    });
  };
  for (let index = 0; index < workers; index += 1) start(index);
}

// ---------------------------------------------------------------- worker thread

/** `dir/module.export.path` → module and export path, as Lambda splits it. */
function splitHandler(handler) {
  const slash = handler.lastIndexOf('/');
  const dir = handler.slice(0, slash + 1);
  const rest = handler.slice(slash + 1);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot === rest.length - 1) throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler ${handler}`);
  const modulePath = dir + rest.slice(0, dot);
  if (isAbsolute(modulePath) || modulePath.split('/').includes('..')) {
    throw new RuntimeError('Runtime.MalformedHandlerName', `'../' and absolute paths are not allowed in the handler name: ${handler}`);
  }
  return { modulePath, exportPath: rest.slice(dot + 1).split('.') };
}

/** Whether the nearest package.json at or above `dir` (within the task root) says "type": "module". */
function isModuleScope(dir) {
  for (let current = dir; current.startsWith(TASK_ROOT); current = dirname(current)) {
    const candidate = join(current, 'package.json');
    if (existsSync(candidate)) {
      try {
        return JSON.parse(readFileSync(candidate, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    if (current === dirname(current)) break;
  }
  return false;
}

async function loadModule(modulePath) {
  const require = createRequire(join(TASK_ROOT, 'index.js'));
  const base = resolve(TASK_ROOT, modulePath);
  if (!base.startsWith(TASK_ROOT + sep) && base !== TASK_ROOT) {
    throw new RuntimeError('Runtime.MalformedHandlerName', `Handler module ${modulePath} is outside the task root`);
  }
  const viaImport = async (file) => import(pathToFileURL(file).href);
  const viaRequire = (file) => {
    try {
      return require(file);
    } catch (error) {
      if (error?.code === 'ERR_REQUIRE_ESM') return viaImport(file);
      throw error;
    }
  };
  if (existsSync(`${base}.js`)) return isModuleScope(dirname(base)) ? viaImport(`${base}.js`) : viaRequire(`${base}.js`);
  if (existsSync(`${base}.mjs`)) return viaImport(`${base}.mjs`);
  if (existsSync(`${base}.cjs`)) return viaRequire(`${base}.cjs`);
  // Lambda also resolves a handler module from node_modules (a package, or a bare file name Node finds).
  let resolved;
  try {
    resolved = require.resolve(modulePath, { paths: [TASK_ROOT] });
  } catch {
    throw new RuntimeError('Runtime.ImportModuleError', `Error: Cannot find module '${modulePath}'\nRequire stack:\n- ${import.meta.url}`);
  }
  return resolved.endsWith('.mjs') ? viaImport(resolved) : viaRequire(resolved);
}

/** Loads the handler function, or throws a RuntimeError typed as Lambda types init failures. */
async function loadHandler() {
  const { modulePath, exportPath } = splitHandler(HANDLER);
  let loaded;
  try {
    loaded = await loadModule(modulePath);
  } catch (error) {
    if (error instanceof RuntimeError) throw error;
    if (error instanceof SyntaxError) throw new RuntimeError('Runtime.UserCodeSyntaxError', `${error.name}: ${error.message}`);
    if (error?.code === 'MODULE_NOT_FOUND' || error?.code === 'ERR_MODULE_NOT_FOUND') {
      throw new RuntimeError('Runtime.ImportModuleError', `Error: ${error.message}`);
    }
    throw error;
  }
  const find = (root) => exportPath.reduce((value, key) => (value == null ? undefined : value[key]), root);
  let handler = find(loaded);
  // A CommonJS module loaded through import() keeps its exports under `default`.
  if (handler === undefined && loaded && typeof loaded === 'object' && 'default' in loaded) handler = find(loaded.default);
  if (typeof handler !== 'function') {
    throw new RuntimeError('Runtime.HandlerNotFound', `${HANDLER} is undefined or not exported`);
  }
  return handler;
}

function parseClientContext(header) {
  if (!header) return undefined;
  for (const text of [header, Buffer.from(header, 'base64').toString('utf8')]) {
    try {
      return JSON.parse(text);
    } catch {
      // try the next encoding
    }
  }
  return undefined;
}

function makeContext(headers, requestId) {
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  return {
    awsRequestId: requestId,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parseClientContext(headers['lambda-runtime-client-context']),
    identity: undefined,
    // Accepted for compatibility; an LMI EE is never frozen, so it changes nothing.
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

/** Calls the handler: async, returning a value, or (arity ≥ 3) with a callback. */
function callHandler(handler, event, context) {
  if (handler.length >= 3 && handler.constructor?.name !== 'AsyncFunction') {
    return new Promise((resolvePromise, reject) => {
      const returned = handler(event, context, (error, result) => (error ? reject(error) : resolvePromise(result)));
      if (returned && typeof returned.then === 'function') returned.then(resolvePromise, reject);
    });
  }
  return Promise.resolve().then(() => handler(event, context));
}

async function worker() {
  patchConsole();
  const { loops } = workerData;
  const client = await createClient(loops + 2);
  const inFlight = new Set();
  const apiGone = (error) => {
    logLine('ERROR', [`Runtime API unreachable (${error?.message ?? error}); exiting`]);
    parentPort.postMessage({ type: 'api-gone' });
    // Keep the loop from spinning while the main thread ends the process.
    return new Promise(() => {});
  };

  let handler;
  try {
    handler = await loadHandler();
  } catch (error) {
    parentPort.postMessage({ type: 'init-error', error: errorBody(error) });
    return;
  }

  // An exception nobody caught leaves this worker in an unknown state: fail its in-flight
  // invocations at once (their callers need not wait for the deadline) and let the main
  // thread start a fresh worker.
  process.on('uncaughtException', (error) => {
    logLine('ERROR', ['Uncaught exception', error]);
    const body = errorBody(error);
    void Promise.allSettled([...inFlight].map((id) => client.fail(id, body))).then(() => process.exit(1));
  });
  process.on('unhandledRejection', (reason) => logLine('ERROR', ['Unhandled promise rejection', reason]));
  parentPort.postMessage({ type: 'ready' });

  const loop = async () => {
    for (;;) {
      let invocation;
      try {
        invocation = await client.next();
      } catch (error) {
        return apiGone(error);
      }
      if (invocation.status !== 200) {
        // 403: the EE is stopping. Anything else is a protocol error worth a pause, not a spin.
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const requestId = String(invocation.headers['lambda-runtime-aws-request-id'] ?? '');
      inFlight.add(requestId);
      try {
        await requestStore.run({ requestId }, () => runInvocation(client, handler, invocation, requestId));
      } catch (error) {
        return apiGone(error);
      } finally {
        inFlight.delete(requestId);
      }
    }
  };
  await Promise.all(Array.from({ length: loops }, loop));
}

async function runInvocation(client, handler, invocation, requestId) {
  let event;
  try {
    event = invocation.body.byteLength === 0 ? {} : JSON.parse(invocation.body.toString('utf8'));
  } catch (error) {
    await client.fail(requestId, { errorType: 'Runtime.UnmarshalError', errorMessage: `Unable to parse the event as JSON: ${error.message}`, stackTrace: [] });
    return;
  }
  let body;
  const timing = { start: nowMicros(), end: 0 };
  try {
    const result = await callHandler(handler, event, makeContext(invocation.headers, requestId));
    timing.end = nowMicros();
    body = Buffer.from(JSON.stringify(result === undefined ? null : result));
  } catch (error) {
    timing.end = nowMicros();
    const failure = errorBody(error);
    logLine('ERROR', ['Invoke Error'], failure);
    await client.fail(requestId, failure, timing);
    return;
  }
  const answer = await client.respond(requestId, body, timing);
  if (answer.status === 413) logLine('ERROR', ['The response is larger than the Runtime API accepts']);
}

if (isMainThread) main();
else void worker();
