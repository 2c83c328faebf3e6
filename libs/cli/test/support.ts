/**
 * Test helpers: an in-memory {@link CliIo} and a small HTTP server whose
 * routes the tests script (a fake of Hearth's HTTP surface, unit tests only).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { run, type CliIo } from '@hearth/cli';

/** What a CLI run printed and returned. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli}. */
export interface RunOptions {
  env?: Record<string, string>;
  stdin?: string;
  cwd?: string;
  now?: () => number;
  /** Aborts the run's interrupt signal (as Ctrl-C would) when it fires. */
  interrupt?: AbortSignal;
  /** Called with everything written to stdout so far, after each write. */
  onStdout?: (soFar: string) => void;
}

/** Runs the CLI in-process with captured output. */
export async function runCli(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: {
      write(text: string) {
        stdout += text;
        options.onStdout?.(stdout);
        return true;
      },
    },
    stderr: {
      write(text: string) {
        stderr += text;
        return true;
      },
    },
    stdin: Readable.from([Buffer.from(options.stdin ?? '')]),
    env: { HEARTH_ENDPOINT: 'http://127.0.0.1:1', ...options.env },
    cwd: options.cwd ?? process.cwd(),
    interrupt: options.interrupt ?? new AbortController().signal,
    now: options.now ?? (() => Date.now()),
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

/** A request the fake server saw. */
export interface SeenRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (request: SeenRequest, res: ServerResponse) => unknown;

/** A scripted HTTP server on a free local port. */
export interface FakeServer {
  endpoint: string;
  requests: SeenRequest[];
  /** Routes `METHOD /path` (path without query) to a handler; unmatched requests get 404 UnknownOperation. */
  on(method: string, path: string | RegExp, handler: Handler): void;
  close(): Promise<void>;
}

/** Starts a {@link FakeServer}. */
export async function startFakeServer(): Promise<FakeServer> {
  const routes: { method: string; path: string | RegExp; handler: Handler }[] = [];
  const requests: SeenRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const seen: SeenRequest = { method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://fake'), headers: req.headers, body: Buffer.concat(chunks).toString() };
      requests.push(seen);
      const route = routes.find((each) => each.method === seen.method && (typeof each.path === 'string' ? each.path === seen.url.pathname : each.path.test(seen.url.pathname)));
      if (!route) return lambdaError(res, 404, 'UnknownOperationException', `no route for ${seen.method} ${seen.url.pathname}`);
      void Promise.resolve(route.handler(seen, res)).catch((error: unknown) => lambdaError(res, 500, 'ServiceException', String(error)));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    on(method, path, handler) {
      routes.push({ method, path, handler });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers JSON with a status. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': 'req-fake-1', ...headers });
  res.end(JSON.stringify(body));
}

/** Answers a Lambda-shaped error, as Hearth does. */
export function lambdaError(res: ServerResponse, status: number, exception: string, message: string): void {
  json(res, status, { Type: 'User', message }, { 'x-amzn-errortype': exception });
}

/** A local port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
