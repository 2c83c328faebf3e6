import type { ServerResponse } from 'node:http';
import type { Bus } from '@hearth/bus';
import { ResourceNotFoundException } from '@hearth/errors';
import type { ExtraRoute } from '@hearth/lambda-http';
import { parseLogQuery } from './log-query.js';
import { followLogEvents, readLogEvents, type LogReadLimits } from './log-reader.js';

/** Path of the function logs route. */
export const functionLogsPath = '/hearth/v1/functions/{FunctionName}/logs';

/** What the function logs route needs. */
export interface FunctionLogsRouteOptions extends LogReadLimits {
  bus: Bus;
  /** Whether the function exists (unknown functions answer ResourceNotFoundException). */
  functionExists(functionName: string): Promise<boolean>;
  /** Interval of the empty keep-alive lines of a `follow` stream, ms. Default 15000. */
  keepAliveMs?: number;
  /**
   * How long a `follow` stream lasts before the api ends it cleanly, ms; kept
   * under the HTTP server's handler deadline (960 s), which would cut the
   * connection instead. Clients reconnect with `since` = the last event's
   * timestamp. Default 900000 (15 min).
   */
  followMaxMs?: number;
  /** How long a `follow` client may take nothing from a full socket buffer before it is disconnected, ms. Default 60000. */
  stalledClientMs?: number;
}

/**
 * `GET /hearth/v1/functions/{FunctionName}/logs` (docs/… and the api README):
 * the function's log events from the function log stream, as JSON, or with
 * `follow=true` as an NDJSON stream of stored then live events with an empty
 * keep-alive line every 15 s. A slow follower is served at its own pace: the
 * api stops reading the stream while the socket's buffer is full (so it holds
 * at most one pull batch), and disconnects a client that takes nothing for
 * `stalledClientMs`.
 */
export function functionLogsRoute(options: FunctionLogsRouteOptions): ExtraRoute {
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const followMaxMs = options.followMaxMs ?? 900_000;
  const stalledClientMs = options.stalledClientMs ?? 60_000;
  return {
    method: 'GET',
    path: functionLogsPath,
    name: 'GetFunctionLogs',
    async handle(req, res, ctx) {
      const url = req.url ?? '';
      const queryStart = url.indexOf('?');
      const query = parseLogQuery(ctx.params.FunctionName ?? '', queryStart === -1 ? '' : url.slice(queryStart + 1));
      if (!(await options.functionExists(query.functionName))) {
        throw new ResourceNotFoundException(`Function not found: ${query.functionName}`);
      }
      if (!query.follow) {
        const events = await readLogEvents(options.bus, query, options, ctx.signal);
        const body = Buffer.from(`{"events":[${events.join(',')}]}`, 'utf8');
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.byteLength });
        res.end(body);
        return;
      }

      // The stream ends on client disconnect (ctx.signal), at followMaxMs, or when the client stalls.
      const stop = new AbortController();
      const onRequestAbort = () => stop.abort(ctx.signal.reason);
      ctx.signal.addEventListener('abort', onRequestAbort, { once: true });
      const maxTimer = setTimeout(() => stop.abort(new Error('follow time limit')), followMaxMs);
      let keepAlive: NodeJS.Timeout | undefined;
      let events: AsyncGenerator<string> | undefined;
      try {
        // The consumer is created before the headers go out, so a failure still answers a proper error.
        events = await followLogEvents(options.bus, query, stop.signal);
        res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
        res.flushHeaders();
        keepAlive = setInterval(() => res.write('\n'), keepAliveMs);
        for await (const event of events) {
          if (stop.signal.aborted) break;
          if (!res.write(`${event}\n`)) await drained(res, stop.signal, stalledClientMs);
        }
        if (!res.destroyed) res.end();
      } finally {
        clearInterval(keepAlive);
        clearTimeout(maxTimer);
        ctx.signal.removeEventListener('abort', onRequestAbort);
        stop.abort();
        await events?.return(undefined);
      }
    },
  };
}

/** Resolves when the response's buffer drained or `signal` aborted; destroys a response that stays full for `stalledMs`. */
function drained(res: ServerResponse, signal: AbortSignal, stalledMs: number): Promise<void> {
  if (signal.aborted || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      res.destroy();
      done();
    }, stalledMs);
    function done() {
      clearTimeout(timer);
      res.off('drain', done).off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    }
    res.once('drain', done).once('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
