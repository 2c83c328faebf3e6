import { ExitCode } from './exit-codes.js';

/** An error the CLI reports as one `error: …` line on stderr and ends with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Bad usage: the command's usage is printed after the message; exit 2. */
export class UsageError extends CliError {
  constructor(
    message: string,
    /** The usage text of the command the user was typing, when known. */
    readonly usage?: string,
  ) {
    super(message, ExitCode.Usage);
    this.name = 'UsageError';
  }
}

/** The API answered an error: `error: <ExceptionName>: <message>`; exit 1. */
export class ApiError extends CliError {
  constructor(
    /** The Lambda exception name (`x-amzn-ErrorType`), e.g. `ResourceNotFoundException`. */
    readonly exceptionName: string,
    readonly apiMessage: string,
    /** HTTP status of the answer. */
    readonly status?: number,
  ) {
    super(`${exceptionName}: ${apiMessage}`, ExitCode.Failure);
    this.name = 'ApiError';
  }
}

/** The endpoint could not be reached; the message names it and suggests `hearth up`. Exit 3. */
export class UnreachableError extends CliError {
  constructor(
    readonly endpoint: string,
    readonly reason: string,
  ) {
    super(`cannot reach Hearth at ${endpoint} (${reason}). Is it running? Start it with \`hearth up\` or point --endpoint / HEARTH_ENDPOINT at it.`, ExitCode.Unreachable);
    this.name = 'UnreachableError';
  }
}

/** Error codes of the network layer that mean "nobody answered at that address". */
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
]);

/** Finds a network error code on an error or along its `cause` chain (fetch wraps it; the SDK does not). */
function networkCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const candidate = current as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
    if (typeof candidate.code === 'string' && unreachableCodes.has(candidate.code)) return candidate.code;
    if (candidate.name === 'TimeoutError') return 'timed out';
    // Node's happy-eyeballs connect reports an AggregateError of per-address failures.
    if (Array.isArray(candidate.errors)) {
      for (const each of candidate.errors) {
        const code = networkCode(each);
        if (code) return code;
      }
    }
    current = candidate.cause;
  }
  return undefined;
}

/**
 * Turns anything a command threw into a {@link CliError}: CLI errors as they
 * are, network failures into {@link UnreachableError}, AWS SDK service
 * exceptions (they carry `$metadata` and the exception's name) into
 * {@link ApiError}, and anything else into a plain failure.
 */
export function toCliError(error: unknown, endpoint: string): CliError {
  if (error instanceof CliError) return error;
  const code = networkCode(error);
  if (code) return new UnreachableError(endpoint, code);
  const maybeService = error as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number }; $fault?: unknown };
  if (error instanceof Error && maybeService.$metadata && typeof maybeService.$fault === 'string') {
    const status = maybeService.$metadata.httpStatusCode;
    // A bare HTTP error the SDK could not name (a proxy's page, a route Hearth lacks) says which status it was.
    const name = error.name && error.name !== 'Error' && error.name !== 'UnknownError' ? error.name : `HTTP ${status ?? '?'}`;
    return new ApiError(name, error.message || 'no message', status);
  }
  return new CliError(error instanceof Error ? error.message : String(error), ExitCode.Failure);
}
