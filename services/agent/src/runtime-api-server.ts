import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '@hearth/telemetry';
import type { Invocation, InvocationBroker, Poller, ReportedTiming } from './invocation-broker.js';
import { responseTooLargeError, type LambdaErrorBody } from './invocation-errors.js';

/** Largest body the Runtime API accepts (a response, an error), as Lambda's synchronous payload limit: 6 MiB. */
export const defaultMaxBodyBytes = 6 * 1024 * 1024;

/** What the EE that owns a Runtime API is told. */
export interface RuntimeApiEvents {
  /** A /next poll arrived. Return false to refuse it (the EE is no longer starting or ready). */
  onNext(): boolean;
  /** The runtime reported that init failed. */
  onInitError(error: LambdaErrorBody): void;
}

/** Options of startRuntimeApiServer. */
export interface RuntimeApiServerOptions {
  broker: InvocationBroker;
  /** Qualified ARN of the function version (`Lambda-Runtime-Invoked-Function-Arn`). */
  functionArn: string;
  events: RuntimeApiEvents;
  logger: Logger;
  /** Largest request body, bytes. Default 6 MiB. */
  maxBodyBytes?: number;
  /** Host to bind. Default 127.0.0.1. */
  host?: string;
}

/** A running Runtime API server of one EE. */
export interface RuntimeApiServer {
  /** `host:port`, the EE's `AWS_LAMBDA_RUNTIME_API`. */
  readonly address: string;
  /** Stops listening and closes every connection, including waiting polls. Idempotent. */
  close(): Promise<void>;
}

const base = '/2018-06-01/runtime';
const pendingPoll = Symbol('pendingPoll');
type PolledResponse = ServerResponse & { [pendingPoll]?: PendingPoll };

/** One waiting /next long-poll: a class, so a poll costs one object rather than closures. */
class PendingPoll implements Poller {
  delivered = false;
  constructor(
    private readonly res: ServerResponse,
    private readonly functionArn: string,
  ) {}

  deliver(invocation: Invocation): boolean {
    const res = this.res;
    if (res.destroyed || res.writableEnded || res.socket === null || res.socket.destroyed) return false;
    this.delivered = true;
    // A flat [name, value, …] list: Node writes it as is, without building a header map per invocation.
    const headers = [
      'Content-Type',
      'application/json',
      'Content-Length',
      String(invocation.payload.byteLength),
      'Lambda-Runtime-Aws-Request-Id',
      invocation.requestId,
      'Lambda-Runtime-Deadline-Ms',
      String(invocation.deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn',
      this.functionArn,
      'Lambda-Runtime-Trace-Id',
      invocation.traceHeader,
    ];
    if (invocation.clientContext !== undefined) headers.push('Lambda-Runtime-Client-Context', invocation.clientContext);
    res.writeHead(200, headers);
    res.end(invocation.payload);
    return true;
  }
}
/**
 * Header (lower case, as Node gives it) in which a Hearth runtime reports when
 * its handler ran, with the /response or /error it belongs to:
 * `Hearth-Handler-Timing: start=<epoch µs>;end=<epoch µs>`. Optional: without
 * it the agent times the handler from hand-over to answer.
 */
export const handlerTimingHeader = 'hearth-handler-timing';
const handlerTimingPattern = /^start=(\d{1,17});end=(\d{1,17})$/;

/** The handler times a runtime reported, epoch ms; undefined when absent or malformed. */
export function parseHandlerTiming(value: string | string[] | undefined): ReportedTiming | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const match = handlerTimingPattern.exec(text.trim());
  if (!match) return undefined;
  return { startMs: Number(match[1]) / 1000, endMs: Number(match[2]) / 1000 };
}

const invocationPath = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/;

type BodyResult = { ok: true; body: Buffer } | { ok: false };

/**
 * Serves the Lambda Runtime API to one EE on its own port: `GET …/invocation/next`
 * long-polls, concurrently up to the EE's max concurrency (LMI); `POST
 * …/invocation/{id}/response` and `…/error` answer an invocation (202); `POST
 * …/init/error` reports a failed init (202). An unknown request id is 400 with a
 * JSON error, a body over the limit 413 (and a response that large fails its
 * invocation with Function.ResponseSizeTooLarge, as in Lambda). Connections are
 * kept alive without Nagle's algorithm: a runtime's loop is a request-response
 * ping-pong on a warm socket, where delayed ACKs would add tens of milliseconds.
 */
export async function startRuntimeApiServer(options: RuntimeApiServerOptions): Promise<RuntimeApiServer> {
  const { broker, events, logger, functionArn } = options;
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;
  const sockets = new Set<Socket>();

  const server = createServer(
    {
      keepAlive: true,
      noDelay: true,
      // A /next may wait indefinitely for work; only slow headers are a fault.
      requestTimeout: 0,
      headersTimeout: 30_000,
      keepAliveTimeout: 120_000,
    },
    (req, res) => {
      route(req, res).catch((error: unknown) => {
        logger.warn({ err: error, url: req.url }, 'runtime API request failed');
        if (!res.headersSent) sendJson(res, 500, { errorMessage: 'Internal error in the Runtime API', errorType: 'ServiceException' });
        else res.destroy();
      });
    },
  );
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '';
    const query = raw.indexOf('?');
    const url = query < 0 ? raw : raw.slice(0, query);
    if (url === `${base}/invocation/next`) {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      return next(req, res);
    }
    if (url === `${base}/init/error`) {
      if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
      const body = await readBody(req, res, maxBodyBytes);
      if (!body.ok) return;
      events.onInitError(errorBodyOf(body.body, req.headers['lambda-runtime-function-error-type']));
      return sendAccepted(res);
    }
    const match = invocationPath.exec(url);
    if (match) {
      if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
      const requestId = decodeURIComponent(match[1] ?? '');
      if (!broker.holds(requestId)) {
        req.resume();
        return sendJson(res, 400, { errorMessage: `Invalid request ID: ${requestId}`, errorType: 'InvalidRequestID' });
      }
      const body = await readBody(req, res, maxBodyBytes);
      if (!body.ok) {
        broker.answer(requestId, { errorBody: responseTooLargeError(maxBodyBytes) });
        return;
      }
      const reported = parseHandlerTiming(req.headers[handlerTimingHeader]);
      const answered =
        match[2] === 'response'
          ? broker.answer(requestId, { payload: body.body }, reported)
          : broker.answer(requestId, { errorBody: errorPayloadOf(body.body, req.headers['lambda-runtime-function-error-type']) }, reported);
      if (!answered) return sendJson(res, 400, { errorMessage: `Invalid request ID: ${requestId}`, errorType: 'InvalidRequestID' });
      return sendAccepted(res);
    }
    req.resume();
    sendJson(res, 404, { errorMessage: `No Runtime API route ${req.method} ${url}`, errorType: 'NotFound' });
  }

  function next(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    if (!events.onNext()) {
      sendJson(res, 403, { errorMessage: 'The execution environment is not taking invocations', errorType: 'InvalidStateTransition' });
      return;
    }
    const poll = new PendingPoll(res, functionArn);
    (res as PolledResponse)[pendingPoll] = poll;
    res.once('close', withdrawPoll);
    broker.poll(poll);
  }

  /** A /next connection closed: a poll still waiting takes no invocation. Shared by every poll (`this` is the response). */
  function withdrawPoll(this: PolledResponse): void {
    const poll = this[pendingPoll];
    if (poll && !poll.delivered) broker.withdraw(poll);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    address: `${address}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

/** The 202 of every answered invocation, serialised once rather than per invocation. */
const acceptedBody = Buffer.from(JSON.stringify({ status: 'OK' }));
const acceptedHeaders = ['Content-Type', 'application/json', 'Content-Length', String(acceptedBody.byteLength)];

function sendAccepted(res: ServerResponse): void {
  res.writeHead(202, acceptedHeaders);
  res.end(acceptedBody);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function methodNotAllowed(res: ServerResponse, allowed: string): void {
  res.setHeader('Allow', allowed);
  sendJson(res, 405, { errorMessage: `Use ${allowed}`, errorType: 'MethodNotAllowed' });
}

/** Reads a body up to `limit` bytes; past it, answers 413 and closes the connection (the rest is never read). */
function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<BodyResult> {
  const tooLarge = (): BodyResult => {
    res.setHeader('Connection', 'close');
    sendJson(res, 413, {
      errorMessage: `Request body exceeds the maximum allowed size of ${limit} bytes`,
      errorType: 'RequestEntityTooLarge',
    });
    return { ok: false };
  };
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(tooLarge());
  return new Promise<BodyResult>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        resolve(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    // Most bodies arrive in one chunk: use it as is rather than copy it.
    req.once('end', () => resolve({ ok: true, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) }));
    req.once('error', reject);
  });
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The error a runtime reported, as Lambda's `{errorMessage, errorType, stackTrace}`. */
function errorBodyOf(body: Buffer, typeHeader: string | string[] | undefined): LambdaErrorBody {
  const headerType = headerText(typeHeader);
  try {
    const parsed = JSON.parse(body.toString('utf8')) as Partial<LambdaErrorBody> | null;
    if (parsed && typeof parsed === 'object') {
      const result: LambdaErrorBody = {
        errorMessage: typeof parsed.errorMessage === 'string' ? parsed.errorMessage : '',
        errorType: typeof parsed.errorType === 'string' && parsed.errorType !== '' ? parsed.errorType : headerType ?? 'Unknown',
      };
      if (Array.isArray(parsed.stackTrace)) result.stackTrace = parsed.stackTrace.map(String);
      return result;
    }
  } catch {
    // not JSON: the body is the message
  }
  return { errorMessage: body.toString('utf8'), errorType: headerType ?? 'Unknown' };
}

/**
 * The payload a caller gets for an invocation error: the runtime's JSON object
 * as it sent it (Lambda passes it through), or one built from a non-JSON body.
 */
function errorPayloadOf(body: Buffer, typeHeader: string | string[] | undefined): Buffer | LambdaErrorBody {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return body;
  } catch {
    // fall through
  }
  return errorBodyOf(body, typeHeader);
}
