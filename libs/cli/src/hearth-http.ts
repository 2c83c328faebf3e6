/**
 * The two Hearth HTTP extensions beside the Lambda API (logs and fleet
 * status, `docs/http-extensions` contract), fetched with `fetch`. Error
 * answers are Lambda-shaped: the exception in `x-amzn-ErrorType`, the text in
 * the body's `message`.
 */
import { ApiError, CliError, UnreachableError, toCliError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';

/** How long a plain request may take before the endpoint counts as unreachable. */
export const requestTimeoutMs = 30_000;
/** A follow stream silent this long (the server writes a keep-alive every 15 s) is taken as lost. */
export const followIdleTimeoutMs = 60_000;

/** One line of a function's log, as the logs route sends it. Extra fields are kept. */
export interface LogEvent {
  timestamp: string;
  functionName: string;
  version: string;
  environmentId?: string;
  instanceId?: string;
  stream?: string;
  requestId?: string;
  level?: string;
  message: string;
  [extra: string]: unknown;
}

/** The fleet route's document (see the contract); extra fields are kept. */
export interface FleetStatus {
  capturedAt: string;
  capacityProviders: { name: string; arn: string; state: string; maxVCpuCount: number; vCpusInUse: number }[];
  instances: {
    instanceId: string;
    capacityProviderArn: string;
    capacityProviderName: string;
    instanceType: string;
    zone: string;
    state: string;
    vCpus: number;
    memoryMiB: number;
    launchedAt: string;
    lastReportAt: string | null;
    environments: {
      environmentId: string;
      functionName: string;
      version: string;
      state: string;
      inFlight: number;
      maxConcurrency: number;
      cpuPercent: number;
      throttles: number;
    }[];
  }[];
  totals: { instances: number; environments: number; inFlight: number; maxConcurrency: number; throttles: number };
}

/** Builds `endpoint + path?query`, leaving out undefined query values. */
export function urlOf(endpoint: string, path: string, query: Record<string, string | undefined> = {}): URL {
  const url = new URL(path, endpoint.endsWith('/') ? endpoint : `${endpoint}/`);
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
  return url;
}

/** Reads an error answer into an {@link ApiError} (exception name from the header, else the body, else the status). */
async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let body: { message?: unknown; Message?: unknown; __type?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not JSON (a proxy's page, a plain-text 404): the status and text say what happened.
  }
  const name = response.headers.get('x-amzn-errortype')?.split(':')[0] || (typeof body.__type === 'string' ? body.__type : `HTTP ${response.status}`);
  let message = typeof body.message === 'string' ? body.message : typeof body.Message === 'string' ? body.Message : text.trim() || response.statusText;
  // The route itself is missing: an api from before the HTTP extensions. Say so rather than leave a puzzle.
  if (name === 'UnknownOperationException') message += ' (this Hearth api does not serve the route: it is older than this CLI)';
  return new ApiError(name, message, response.status);
}

async function request(endpoint: string, url: URL, signal: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { signal, headers: { accept: 'application/json, application/x-ndjson' } });
  } catch (error) {
    throw toCliError(error, endpoint);
  }
}

/** GETs a JSON document from a Hearth extension route; errors become {@link ApiError} or {@link UnreachableError}. */
export async function getJson<T>(endpoint: string, path: string, query: Record<string, string | undefined>, interrupt: AbortSignal): Promise<T> {
  const signal = AbortSignal.any([interrupt, AbortSignal.timeout(requestTimeoutMs)]);
  const response = await request(endpoint, urlOf(endpoint, path, query), signal);
  if (!response.ok) throw await errorFrom(response);
  try {
    return (await response.json()) as T;
  } catch (error) {
    throw toCliError(error, endpoint);
  }
}

/**
 * GETs an NDJSON stream and calls `onItem` for each non-empty line (empty
 * lines are the server's keep-alives) until `interrupt` aborts (`'interrupted'`)
 * or the server ends the stream cleanly (`'ended'`: the api closes a follow
 * after 15 minutes, and the caller reconnects). Staying silent longer than
 * {@link followIdleTimeoutMs}, or a broken connection, is an {@link UnreachableError}.
 */
export async function streamNdjson<T>(
  endpoint: string,
  path: string,
  query: Record<string, string | undefined>,
  interrupt: AbortSignal,
  onItem: (item: T) => void,
  idleTimeoutMs = followIdleTimeoutMs,
): Promise<'interrupted' | 'ended'> {
  const idle = new AbortController();
  let idleTimer = setTimeout(() => idle.abort(), idleTimeoutMs);
  const resetIdle = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => idle.abort(), idleTimeoutMs);
  };
  const signal = AbortSignal.any([interrupt, idle.signal]);
  try {
    const response = await request(endpoint, urlOf(endpoint, path, query), signal);
    if (!response.ok) throw await errorFrom(response);
    if (!response.body) throw new UnreachableError(endpoint, 'the answer had no body');
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of response.body) {
        resetIdle();
        buffered += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line === '') continue;
          try {
            onItem(JSON.parse(line) as T);
          } catch (error) {
            if (error instanceof SyntaxError) throw new CliError(`the log stream sent a line that is not JSON: ${line.slice(0, 200)}`, ExitCode.Failure);
            throw error;
          }
        }
      }
    } catch (error) {
      if (interrupt.aborted) return 'interrupted';
      if (idle.signal.aborted) throw new UnreachableError(endpoint, `the stream was silent for ${idleTimeoutMs / 1000} s`);
      throw toCliError(error, endpoint);
    }
    return interrupt.aborted ? 'interrupted' : 'ended';
  } catch (error) {
    if (interrupt.aborted) return 'interrupted';
    if (idle.signal.aborted && !(error instanceof ApiError)) throw new UnreachableError(endpoint, `no answer for ${idleTimeoutMs / 1000} s`);
    throw error;
  } finally {
    clearTimeout(idleTimer);
  }
}
