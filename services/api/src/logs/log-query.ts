import { InvalidParameterValueException } from '@hearth/errors';

/** A request for function logs, validated. */
export interface LogQuery {
  functionName: string;
  /** One version, or undefined for every version. */
  qualifier: string | undefined;
  /** Start time, epoch ms. */
  sinceMs: number;
  /** Most events returned (the newest ones); ignored with `follow`. */
  limit: number;
  /** Only lines of this invocation. */
  requestId: string | undefined;
  follow: boolean;
}

/** Default `limit`. */
export const defaultLogLimit = 1_000;
/** Largest `limit`. */
export const maxLogLimit = 10_000;
/** Default `since`: one hour before now. */
export const defaultLogSinceMs = 3_600_000;

const functionNamePattern = /^[a-zA-Z0-9_-]{1,64}$/;
const qualifierPattern = /^(?:[1-9][0-9]{0,9}|\$LATEST(?:\.PUBLISHED)?)$/;
const requestIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const isoPattern = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Parses the path's function name and the query string of
 * `GET /hearth/v1/functions/{FunctionName}/logs`; throws
 * InvalidParameterValueException naming the parameter and what is allowed.
 * Unknown parameters are ignored; a repeated one takes its last value.
 */
export function parseLogQuery(functionName: string, rawQuery: string, now = Date.now()): LogQuery {
  if (!functionNamePattern.test(functionName)) {
    throw new InvalidParameterValueException(
      `FunctionName '${functionName.slice(0, 100)}' is not a function name (allowed: 1–64 characters of a-z, A-Z, 0-9, '-' and '_').`,
    );
  }
  const query = parseQuery(rawQuery);
  const qualifier = query.get('qualifier');
  if (qualifier !== undefined && !qualifierPattern.test(qualifier)) {
    throw new InvalidParameterValueException(
      `qualifier '${qualifier.slice(0, 100)}' is not a version (allowed: a version number such as 1 or 2, $LATEST or $LATEST.PUBLISHED).`,
    );
  }
  const requestId = query.get('requestId');
  if (requestId !== undefined && !requestIdPattern.test(requestId)) {
    throw new InvalidParameterValueException(
      `requestId '${requestId.slice(0, 100)}' is not a request id (allowed: 1–128 letters, digits, '.', '_', ':' or '-').`,
    );
  }
  const follow = query.get('follow');
  if (follow !== undefined && follow !== 'true' && follow !== 'false') {
    throw new InvalidParameterValueException(`follow '${follow.slice(0, 100)}' is not a boolean (allowed: true or false).`);
  }
  return {
    functionName,
    qualifier,
    sinceMs: parseSince(query.get('since'), now),
    limit: parseLimit(query.get('limit')),
    requestId,
    follow: follow === 'true',
  };
}

function parseSince(raw: string | undefined, now: number): number {
  if (raw === undefined || raw === '') return now - defaultLogSinceMs;
  const value = /^\d{1,15}$/.test(raw) ? Number(raw) : isoPattern.test(raw) ? Date.parse(raw) : Number.NaN;
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidParameterValueException(
      `since '${raw.slice(0, 100)}' is not a time (allowed: epoch milliseconds such as 1795300000000, or ISO-8601 such as 2026-11-27T22:00:00Z).`,
    );
  }
  return value;
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return defaultLogLimit;
  const value = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1 && value <= maxLogLimit)) {
    throw new InvalidParameterValueException(`limit '${raw.slice(0, 100)}' is not allowed (allowed: an integer from 1 to ${maxLogLimit}).`);
  }
  return value;
}

/** Query parameters by name, last value wins; `+` stays a plus (clients percent-encode spaces). */
function parseQuery(raw: string): Map<string, string> {
  const parameters = new Map<string, string>();
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = decode(equals === -1 ? pair : pair.slice(0, equals));
    parameters.set(name, equals === -1 ? '' : decode(pair.slice(equals + 1)));
  }
  return parameters;
}

function decode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidParameterValueException(
      `The query string component '${raw.slice(0, 100)}' is not valid percent-encoding (allowed: %XX escapes of UTF-8 bytes).`,
    );
  }
}
