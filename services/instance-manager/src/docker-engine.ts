/**
 * A minimal client of the Docker Engine API over its Unix socket
 * (`/var/run/docker.sock`), with `node:http` only: the docker provider needs
 * a dozen calls, not a Docker SDK and its dependency tree.
 *
 * Paths are unversioned (`/containers/create`, not `/v1.43/…`): the daemon
 * then answers with its own API version, which keeps this working across
 * Engine releases that raise their minimum supported version.
 */
import { request, type IncomingMessage } from 'node:http';

/** A call the daemon answered with an HTTP error status (its JSON `message` is kept). */
export class DockerApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly daemonMessage: string,
  ) {
    super(`Docker Engine API ${method} ${path} answered ${status}: ${daemonMessage}`);
    this.name = 'DockerApiError';
  }
}

/** A call that got no answer: the socket is missing, refused, or the deadline passed. */
export class DockerUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DockerUnreachableError';
  }
}

/** Options of one call. */
export interface DockerCallOptions {
  /** JSON request body. */
  body?: unknown;
  /** Deadline of the whole call (connect, send, full answer), ms. Required: every wait has one. */
  timeoutMs: number;
  /** Status codes that are answers, not errors (e.g. 304 Not Modified of a stop, 404 of a removal). */
  accept?: readonly number[];
}

/** A decoded answer. */
export interface DockerResponse<T> {
  status: number;
  /** The parsed JSON body, or undefined when empty or not JSON. */
  body: T | undefined;
}

/** Largest answer body read into memory; the calls used here answer a few kilobytes. */
const maxBodyBytes = 8 * 1024 * 1024;

/** The Docker Engine API at one Unix socket. */
export class DockerEngine {
  constructor(
    /** Path of the daemon's socket, e.g. `/var/run/docker.sock`. */
    readonly socketPath: string,
  ) {}

  /** One JSON call. Rejects with DockerApiError on an error status, DockerUnreachableError on no answer. */
  async call<T>(method: string, path: string, options: DockerCallOptions): Promise<DockerResponse<T>> {
    const deadlineAt = Date.now() + options.timeoutMs;
    const response = await this.open(method, path, options.body, options.timeoutMs);
    const { status, text } = await readBody(response, Math.max(1, deadlineAt - Date.now())).catch((error: unknown) => {
      throw new DockerUnreachableError(`Docker Engine API ${method} ${path}: the answer was cut off: ${messageOf(error)}`, { cause: error });
    });
    let body: T | undefined;
    try {
      body = text === '' ? undefined : (JSON.parse(text) as T);
    } catch {
      body = undefined;
    }
    if (status >= 400 && !(options.accept ?? []).includes(status)) {
      const message = (body as { message?: unknown } | undefined)?.message;
      throw new DockerApiError(method, path, status, typeof message === 'string' ? message : text.slice(0, 500));
    }
    return { status, body };
  }

  /**
   * A call whose answer flows for as long as a container lives (`/logs` with
   * `follow`, `/wait`): resolves with the response once its headers arrive
   * within `timeoutMs`; the body has no deadline and ends when the daemon ends
   * it or the caller destroys the response. An error status rejects.
   */
  async stream(method: string, path: string, options: { timeoutMs: number }): Promise<IncomingMessage> {
    const response = await this.open(method, path, undefined, options.timeoutMs);
    if ((response.statusCode ?? 0) >= 400) {
      const { status, text } = await readBody(response, options.timeoutMs).catch(() => ({ status: response.statusCode ?? 0, text: '' }));
      let message = text.slice(0, 500);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw new DockerApiError(method, path, status, message);
    }
    return response;
  }

  private open(method: string, path: string, body: unknown, timeoutMs: number): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request({
        socketPath: this.socketPath,
        method,
        path,
        // The daemon ignores Host, but HTTP/1.1 requires one.
        headers: {
          Host: 'docker',
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
        },
      });
      const timer = setTimeout(
        () => req.destroy(new DockerUnreachableError(`Docker Engine API ${method} ${path}: no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      // This deadline is the headers'; the body's is readBody's (a log stream has none).
      req.on('response', (response) => {
        clearTimeout(timer);
        resolve(response);
      });
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(
          error instanceof DockerUnreachableError
            ? error
            : new DockerUnreachableError(`Docker Engine API at ${this.socketPath} (${method} ${path}): ${messageOf(error)}`, { cause: error }),
        );
      });
      req.end(payload);
    });
  }
}

/** The JSON body of a streamed answer (a `/wait` result), read to its end without a deadline. */
export async function readJsonBody<T>(response: IncomingMessage): Promise<T | undefined> {
  const { text } = await readBody(response, undefined);
  try {
    return text === '' ? undefined : (JSON.parse(text) as T);
  } catch {
    return undefined;
  }
}

/** Reads a whole answer (bounded); a body past `maxBodyBytes` is an error. */
function readBody(response: IncomingMessage, timeoutMs: number | undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs !== undefined) timer = setTimeout(() => response.destroy(new Error(`body not read within ${timeoutMs} ms`)), timeoutMs);
    response.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBodyBytes) {
        response.destroy(new Error(`answer larger than ${maxBodyBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => {
      clearTimeout(timer);
      resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
    });
    response.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // A connection that closes before the end of the body (daemon restarted, response destroyed).
    response.on('close', () => {
      clearTimeout(timer);
      if (!response.complete) reject(new Error('connection closed before the answer ended'));
    });
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
