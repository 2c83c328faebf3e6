import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '@hearth/telemetry';
import { createLambdaHttpServer, type LambdaHttpServer, type LambdaHttpServerOptions } from '../src/index.js';

/** A server under test on 127.0.0.1 with a free port, and the JSON lines it logged. */
export interface TestServer {
  readonly http: LambdaHttpServer;
  readonly url: string;
  readonly port: number;
  readonly logs: Array<Record<string, unknown>>;
  close(graceMs?: number): Promise<void>;
}

/** Starts a server whose logger records every line (level debug) instead of printing it. */
export async function startTestServer(options: Omit<LambdaHttpServerOptions, 'logger'>): Promise<TestServer> {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line));
      callback();
    },
  });
  const logger = createLogger('lambda-http-test', sink);
  logger.level = 'debug';
  const http = createLambdaHttpServer({ ...options, logger });
  const address = await http.listen(0, '127.0.0.1');
  return {
    http,
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    logs,
    close: (graceMs = 1_000) => http.close(graceMs),
  };
}

/** The access log lines (one per request). */
export function accessLogs(server: TestServer): Array<Record<string, unknown>> {
  return server.logs.filter((line) => line.event === 'http.request');
}

/** Waits until `predicate` holds, polling every 10 ms, for at most `timeoutMs`. */
export async function eventually(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Sends raw bytes over a fresh TCP connection and collects what comes back
 * until the server closes the connection or `timeoutMs` passes.
 */
export function rawExchange(
  port: number,
  send: (socket: ReturnType<typeof connect>) => void,
  timeoutMs = 3_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Buffer.concat(received).toString('utf8'));
    }, timeoutMs);
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(received).toString('utf8'));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may reset a connection it rejected; what arrived before still counts.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return;
      clearTimeout(timer);
      reject(error);
    });
    socket.on('connect', () => send(socket));
  });
}

/** The status code and the headers (lower-case) and body of a raw HTTP/1.1 response text. */
export function parseRawResponse(text: string): { status: number; headers: Record<string, string>; body: string } {
  const split = text.indexOf('\r\n\r\n');
  const head = split === -1 ? text : text.slice(0, split);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: split === -1 ? '' : text.slice(split + 4) };
}
