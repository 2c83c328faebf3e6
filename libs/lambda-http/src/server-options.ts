import type { BodyLimitClass } from './routes.js';

/** Request body size limits, in bytes. Bodies are counted while they stream in; passing a limit answers 413 at once. */
export interface BodyLimits {
  /**
   * Invoke, InvokeAsync and InvokeWithResponseStream: the synchronous payload
   * cap. The async cap (1 MB) depends on the invocation type, so the handler
   * enforces it from `Payload.byteLength`. Default 6 MiB (6291456).
   */
  invokeBytes?: number;
  /**
   * CreateFunction and UpdateFunctionCode, whose JSON carries a zip of up to
   * 50 MB base64-encoded (about 66.7 MB) plus the configuration.
   * Default 70 MiB (73400320).
   */
  codeBytes?: number;
  /** Every other operation. Default 1 MiB (1048576). */
  defaultBytes?: number;
}

/** Connection and request deadlines, in milliseconds. */
export interface ServerTimeouts {
  /**
   * How long an idle keep-alive connection stays open. Default 65000: longer
   * than the 60 s idle timeout of common load balancers, so one in front of
   * Hearth closes first and never reuses a connection Hearth just closed.
   */
  keepAliveTimeoutMs?: number;
  /** Time allowed to receive a request's headers. Default 20000. Must not exceed `requestTimeoutMs`. */
  headersTimeoutMs?: number;
  /** Time allowed to receive a whole request, body included (not the answer). Default 120000. */
  requestTimeoutMs?: number;
  /** How often Node checks the two timeouts above; they fire up to this late. Default 5000. */
  connectionsCheckingIntervalMs?: number;
  /**
   * Deadline of a handler: then its signal aborts and the client gets
   * ServiceException. Default 960000 (Lambda's 15-minute maximum function
   * timeout plus one minute).
   */
  handlerTimeoutMs?: number;
  /** Time allowed to write an answer to a slow reader before the connection is destroyed. Default 60000. */
  responseWriteTimeoutMs?: number;
  /**
   * After answering early (e.g. 413), how long the rest of the body is read
   * and thrown away before the socket is destroyed. Default 5000.
   */
  discardBodyMs?: number;
  /** Largest total size of request headers, bytes; larger answers 431. Default 16384. */
  maxHeaderBytes?: number;
}

/** Body limits with every default applied. */
export type ResolvedBodyLimits = Readonly<Required<BodyLimits>>;
/** Timeouts with every default applied. */
export type ResolvedServerTimeouts = Readonly<Required<ServerTimeouts>>;

/** Applies the documented defaults of BodyLimits. */
export function resolveBodyLimits(limits: BodyLimits = {}): ResolvedBodyLimits {
  return {
    invokeBytes: limits.invokeBytes ?? 6 * 1024 * 1024,
    codeBytes: limits.codeBytes ?? 70 * 1024 * 1024,
    defaultBytes: limits.defaultBytes ?? 1024 * 1024,
  };
}

/** Applies the documented defaults of ServerTimeouts. */
export function resolveServerTimeouts(timeouts: ServerTimeouts = {}): ResolvedServerTimeouts {
  return {
    keepAliveTimeoutMs: timeouts.keepAliveTimeoutMs ?? 65_000,
    headersTimeoutMs: timeouts.headersTimeoutMs ?? 20_000,
    requestTimeoutMs: timeouts.requestTimeoutMs ?? 120_000,
    connectionsCheckingIntervalMs: timeouts.connectionsCheckingIntervalMs ?? 5_000,
    handlerTimeoutMs: timeouts.handlerTimeoutMs ?? 960_000,
    responseWriteTimeoutMs: timeouts.responseWriteTimeoutMs ?? 60_000,
    discardBodyMs: timeouts.discardBodyMs ?? 5_000,
    maxHeaderBytes: timeouts.maxHeaderBytes ?? 16_384,
  };
}

/** The body limit of an operation's limit class. */
export function bodyLimitFor(limitClass: BodyLimitClass, limits: ResolvedBodyLimits): number {
  switch (limitClass) {
    case 'invoke':
      return limits.invokeBytes;
    case 'code':
      return limits.codeBytes;
    case 'default':
      return limits.defaultBytes;
  }
}
