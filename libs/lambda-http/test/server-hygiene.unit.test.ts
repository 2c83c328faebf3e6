/**
 * Bad input and connection handling, driven with raw HTTP: no request may
 * crash the process, every rejection is Lambda-shaped, and the server closes
 * gracefully.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ResourceConflictException } from '@hearth/errors';
import type { OperationHandlers } from '../src/index.js';
import { accessLogs, eventually, parseRawResponse, rawExchange, startTestServer, type TestServer } from './test-server.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close(200)));
});

async function start(options: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

const echoHandlers: OperationHandlers = {
  ListFunctions: async (input) => ({ Functions: [], Echo: input }),
  CreateFunction: async (input) => ({ FunctionName: input.FunctionName }),
  Invoke: async (input) => ({ Payload: input.Payload }),
};

async function errorOf(response: Response): Promise<{ status: number; type: string | null; body: Record<string, unknown> }> {
  return { status: response.status, type: response.headers.get('x-amzn-errortype'), body: (await response.json()) as Record<string, unknown> };
}

describe('Lambda-shaped rejections', () => {
  it('answers an unknown path 404 UnknownOperationException', async () => {
    const server = await start({ handlers: echoHandlers });
    const response = await fetch(`${server.url}/2015-03-31/nothing-here`);
    const error = await errorOf(response);
    expect(error.status).toBe(404);
    expect(error.type).toBe('UnknownOperationException');
    expect(error.body).toMatchObject({ Type: 'User', Message: 'No Lambda operation matches GET /2015-03-31/nothing-here.' });
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a wrong method on a known path 405 with Allow', async () => {
    const server = await start({ handlers: echoHandlers });
    const response = await fetch(`${server.url}/2015-03-31/functions`, { method: 'PATCH' });
    const error = await errorOf(response);
    expect(error.status).toBe(405);
    expect(error.type).toBe('MethodNotAllowedException');
    expect(response.headers.get('allow')).toBe('GET, POST');
  });

  it('answers invalid percent-encoding in the path 400', async () => {
    const server = await start({ handlers: echoHandlers });
    const error = await errorOf(await fetch(`${server.url}/2015-03-31/functions/%E0%A4%A/configuration`));
    expect(error.status).toBe(400);
    expect(error.type).toBe('InvalidParameterValueException');
  });

  it('names a non-integer query parameter', async () => {
    const server = await start({ handlers: echoHandlers });
    const error = await errorOf(await fetch(`${server.url}/2015-03-31/functions?MaxItems=many`));
    expect(error.status).toBe(400);
    expect(error.type).toBe('InvalidParameterValueException');
    expect(error.body.Message).toBe("Query parameter MaxItems must be an integer; got 'many'.");
  });

  it('answers malformed and non-object JSON 400 InvalidRequestContentException', async () => {
    const server = await start({ handlers: echoHandlers });
    for (const body of ['{"FunctionName":', '[]', '42']) {
      const error = await errorOf(await fetch(`${server.url}/2015-03-31/functions`, { method: 'POST', body }));
      expect(error.status).toBe(400);
      expect(error.type).toBe('InvalidRequestContentException');
      expect(error.body.Message).toMatch(/^Could not parse request body into json: /);
    }
  });

  it('sends Retry-After and Reason of a handler error, and nothing else of the success path', async () => {
    const server = await start({
      handlers: {
        ListFunctions: async () => {
          throw new ResourceConflictException('The function is being updated', { reason: 'InProgress', retryAfterSeconds: 1.2 });
        },
      },
    });
    const response = await fetch(`${server.url}/2015-03-31/functions`);
    const error = await errorOf(response);
    expect(error.status).toBe(409);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(error.body).toEqual({ Type: 'User', Message: 'The function is being updated', message: 'The function is being updated', Reason: 'InProgress' });
  });

  it('answers a handler that outlives its deadline with ServiceException and aborts its signal', async () => {
    let aborted = false;
    const server = await start({
      timeouts: { handlerTimeoutMs: 100 },
      handlers: {
        ListFunctions: (_input, ctx) =>
          new Promise((resolve) => {
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              resolve({});
            });
          }),
      },
    });
    const error = await errorOf(await fetch(`${server.url}/2015-03-31/functions`));
    expect(error.status).toBe(500);
    expect(error.type).toBe('ServiceException');
    expect(error.body.Message).toBe('The request did not complete within 100 ms.');
    expect(aborted).toBe(true);
  });
});

describe('body limits', () => {
  it('answers 413 as soon as a streamed body passes the limit, without waiting for the rest', async () => {
    let handlerRan = false;
    const server = await start({
      limits: { codeBytes: 1024 },
      handlers: {
        CreateFunction: async () => {
          handlerRan = true;
          return {};
        },
      },
    });
    const { status, errorType, sentBeforeAnswer } = await new Promise<{ status: number; errorType: unknown; sentBeforeAnswer: number }>(
      (resolve, reject) => {
        let sent = 0;
        let answered = false;
        // Chunked (no Content-Length), so only counting can catch the size.
        const req = request(`${server.url}/2015-03-31/functions`, { method: 'POST' }, (res) => {
          answered = true;
          resolve({ status: res.statusCode ?? 0, errorType: res.headers['x-amzn-errortype'], sentBeforeAnswer: sent });
          res.resume();
          req.destroy();
        });
        req.on('error', (error) => {
          if (!answered) reject(error);
        });
        const pump = () => {
          if (answered || sent >= 1024 * 1024) return;
          sent += 512;
          req.write(Buffer.alloc(512, 0x20));
          setTimeout(pump, 2);
        };
        pump();
      },
    );
    expect(status).toBe(413);
    expect(errorType).toBe('RequestTooLargeException');
    expect(sentBeforeAnswer).toBeLessThan(1024 * 1024);
    expect(handlerRan).toBe(false);
    // The server is still fine.
    expect((await fetch(`${server.url}/2015-03-31/functions`, { method: 'POST', body: '{"FunctionName":"f"}' })).status).toBe(201);
  });

  it('rejects a declared Content-Length over the limit before reading', async () => {
    const server = await start({ limits: { invokeBytes: 10 }, handlers: echoHandlers });
    const response = await fetch(`${server.url}/2015-03-31/functions/f/invocations`, { method: 'POST', body: 'x'.repeat(11) });
    expect(response.status).toBe(413);
    await response.arrayBuffer();
    const ok = await fetch(`${server.url}/2015-03-31/functions/f/invocations`, { method: 'POST', body: 'x'.repeat(10) });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('x'.repeat(10));
  });
});

describe('connections that misbehave', () => {
  it('answers oversized headers 431 with a Lambda error', async () => {
    const server = await start({ handlers: echoHandlers });
    const text = await rawExchange(server.port, (socket) =>
      socket.write(`GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    );
    const response = parseRawResponse(text);
    expect(response.status).toBe(431);
    expect(response.headers['x-amzn-errortype']).toBe('RequestHeadersTooLargeException');
    expect(JSON.parse(response.body)).toMatchObject({ Type: 'User' });
  });

  it('answers malformed HTTP 400', async () => {
    const server = await start({ handlers: echoHandlers });
    const response = parseRawResponse(await rawExchange(server.port, (socket) => socket.write('NOT HTTP AT ALL\r\n\r\n')));
    expect(response.status).toBe(400);
    expect(response.headers['x-amzn-errortype']).toBe('InvalidRequestContentException');
  });

  it('survives a truncated body and an aborted upload', async () => {
    const server = await start({ handlers: echoHandlers });
    await rawExchange(
      server.port,
      (socket) => {
        socket.write('POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"Function');
        socket.end();
      },
      500,
    );
    await rawExchange(
      server.port,
      (socket) => {
        socket.write('POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
        setTimeout(() => socket.destroy(), 50);
      },
      500,
    );
    await eventually(() => accessLogs(server).filter((line) => line.clientClosed === true).length === 2);
    expect((await fetch(`${server.url}/2015-03-31/functions`)).status).toBe(200);
  });

  it('aborts the handler signal when the client goes away', async () => {
    let aborted = false;
    let started = false;
    const server = await start({
      handlers: {
        ListFunctions: (_input, ctx) =>
          new Promise((resolve) => {
            started = true;
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              resolve({});
            });
          }),
      },
    });
    const controller = new AbortController();
    const pending = fetch(`${server.url}/2015-03-31/functions`, { signal: controller.signal }).catch(() => undefined);
    await eventually(() => started);
    controller.abort();
    await pending;
    await eventually(() => aborted);
  });

  it('answers a request that is not received in time 408', async () => {
    const server = await start({
      handlers: echoHandlers,
      timeouts: { headersTimeoutMs: 200, requestTimeoutMs: 300, connectionsCheckingIntervalMs: 50 },
    });
    const response = parseRawResponse(
      await rawExchange(server.port, (socket) => socket.write('GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\n'), 2_000),
    );
    expect(response.status).toBe(408);
    expect(response.headers['x-amzn-errortype']).toBe('RequestTimeoutException');
  });
});

describe('extra routes', () => {
  it('serves raw routes with labels next to the Lambda API, with 405 and Lambda errors', async () => {
    const server = await start({
      handlers: echoHandlers,
      extraRoutes: [
        { method: 'GET', path: '/healthz', handle: (_req, res) => void res.end('ok') },
        {
          method: 'GET',
          path: '/hearth/code/{sha}',
          name: 'DownloadCode',
          handle: (_req, res, ctx) => {
            res.setHeader('Content-Type', 'application/zip');
            res.end(`zip of ${ctx.params.sha}`);
          },
        },
        {
          method: 'GET',
          path: '/console/{path+}',
          handle: async () => {
            throw new Error('console is broken');
          },
        },
      ],
    });
    expect(await (await fetch(`${server.url}/healthz`)).text()).toBe('ok');
    expect(await (await fetch(`${server.url}/hearth/code/abc123`)).text()).toBe('zip of abc123');
    expect((await fetch(`${server.url}/healthz`, { method: 'POST' })).headers.get('allow')).toBe('GET');
    const broken = await errorOf(await fetch(`${server.url}/console/a/b`));
    expect(broken.status).toBe(500);
    expect(broken.type).toBe('ServiceException');
    // Lambda routes are still reachable.
    expect((await fetch(`${server.url}/2015-03-31/functions`)).status).toBe(200);
    await eventually(() => accessLogs(server).some((line) => line.operation === 'DownloadCode' && line.status === 200));
  });
});

describe('access log', () => {
  it('writes one line per request with operation, status, duration and bytes', async () => {
    const server = await start({ handlers: echoHandlers });
    const response = await fetch(`${server.url}/2015-03-31/functions/f/invocations`, { method: 'POST', body: '{"a":1}' });
    const requestId = response.headers.get('x-amzn-requestid');
    await response.arrayBuffer();
    await eventually(() => accessLogs(server).length === 1);
    const [line] = accessLogs(server);
    expect(line).toMatchObject({
      operation: 'Invoke',
      method: 'POST',
      path: '/2015-03-31/functions/f/invocations',
      status: 200,
      requestBytes: 7,
      responseBytes: 7,
      requestId,
      service: 'lambda-http-test',
    });
    expect(typeof line?.durationMs).toBe('number');
  });
});

describe('close', () => {
  it('lets an in-flight request finish, refuses new connections, and is idempotent', async () => {
    let release: () => void = () => undefined;
    let started = false;
    const server = await start({
      handlers: {
        ListFunctions: () =>
          new Promise((resolve) => {
            started = true;
            release = () => resolve({ Functions: [] });
          }),
      },
    });
    const pending = fetch(`${server.url}/2015-03-31/functions`);
    await eventually(() => started);
    const closed = server.close(2_000);
    expect(server.close(2_000)).toBe(closed);
    setTimeout(() => release(), 100);
    const response = await pending;
    expect(response.status).toBe(200);
    expect(response.headers.get('connection')).not.toBe('keep-alive');
    await closed;
    await expect(fetch(`${server.url}/2015-03-31/functions`)).rejects.toThrow();
  });

  it('aborts handlers still running when the grace period ends', async () => {
    let aborted = false;
    const server = await start({
      handlers: {
        ListFunctions: (_input, ctx) =>
          new Promise((resolve) => {
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              resolve({});
            });
          }),
      },
    });
    const pending = fetch(`${server.url}/2015-03-31/functions`).catch(() => undefined);
    await eventually(() => server.http.server.listening);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const startedAt = Date.now();
    await server.close(100);
    expect(Date.now() - startedAt).toBeLessThan(1_500);
    expect(aborted).toBe(true);
    await pending;
  });
});
