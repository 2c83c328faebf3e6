import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@hearth/telemetry';

/** What an extra route's handler receives besides the raw request and response. */
export interface ExtraRouteContext {
  /** The id of this request, already set as the `x-amzn-RequestId` response header. */
  readonly requestId: string;
  /** Path labels, URI-decoded; a greedy `{name+}` label holds the rest of the path joined with `/`. */
  readonly params: Readonly<Record<string, string>>;
  /** Aborted when the client disconnects, the handler deadline passes, or the server's close grace runs out. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/**
 * A non-Lambda route served next to the Lambda API (code package download,
 * health check, web console), with raw request and response access. The
 * handler must end the response; throwing before it wrote anything answers a
 * Lambda-shaped error. It runs inside the request's span and request id, and
 * gets an access log line like every Lambda operation.
 */
export interface ExtraRoute {
  /** HTTP method, or `*` for any. */
  readonly method: string;
  /** Path template: literal segments, `{name}` (one segment), and as last segment `{name+}` (the rest). */
  readonly path: string;
  /** Name in the access log and span. Default: `<method> <path>`. */
  readonly name?: string;
  handle(req: IncomingMessage, res: ServerResponse, ctx: ExtraRouteContext): Promise<void> | void;
}
