import type { IncomingHttpHeaders } from 'node:http';
import { InvalidParameterValueException, InvalidRequestContentException } from '@hearth/errors';
import type { QueryParameters } from './query-string.js';
import type { LambdaRoute, QueryBinding } from './routes.js';

/** The parts of a request an operation's input is built from. */
export interface RequestParts {
  /** URI-decoded path labels. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: QueryParameters;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Builds an operation's input with Lambda member names: the JSON body's
 * members (JSON operations) or the raw body in the payload member (invoke
 * operations), overlaid by path labels, bound query parameters and bound
 * headers. Unbound query parameters and headers are ignored, as AWS does.
 */
export function buildOperationInput(route: LambdaRoute, parts: RequestParts): Record<string, unknown> {
  const input: Record<string, unknown> = route.requestBody === 'json' ? parseJsonObject(parts.body) : {};
  if (route.requestBody === 'payload' && route.payloadMember) input[route.payloadMember] = parts.body;
  Object.assign(input, parts.params);
  for (const [name, binding] of Object.entries(route.query ?? {})) {
    const values = parts.query.get(name);
    if (values !== undefined) input[binding.member] = queryValue(name, binding, values);
  }
  for (const [name, binding] of Object.entries(route.headers ?? {})) {
    const value = headerValue(parts.headers[name]);
    if (value === undefined) {
      if (binding.default !== undefined) input[binding.member] = binding.default;
      continue;
    }
    if (binding.allowed && !binding.allowed.includes(value)) {
      throw new InvalidParameterValueException(
        `Header ${name} value '${value.slice(0, 100)}' is not valid (allowed: ${binding.allowed.join(', ')}).`,
      );
    }
    input[binding.member] = value;
  }
  return input;
}

/**
 * Parses a JSON request body that must be an object; an empty body is `{}`.
 * Anything else is InvalidRequestContentException, worded as Lambda words it.
 */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.byteLength === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    // Deeply nested input can overflow the parser's stack (RangeError); that is bad content too.
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidRequestContentException(`Could not parse request body into json: ${reason}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const got = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
    throw new InvalidRequestContentException(`Could not parse request body into json: expected a JSON object, got ${got}.`);
  }
  return parsed as Record<string, unknown>;
}

function queryValue(name: string, binding: QueryBinding, values: readonly string[]): unknown {
  if (binding.kind === 'string-list') return [...values];
  // A repeated scalar parameter keeps its first value, as the SDK never repeats one.
  const first = values[0] ?? '';
  if (binding.kind === 'string') return first;
  if (!/^-?\d{1,15}$/.test(first)) {
    throw new InvalidParameterValueException(`Query parameter ${name} must be an integer; got '${first.slice(0, 100)}'.`);
  }
  return Number(first);
}

function headerValue(raw: string | string[] | undefined): string | undefined {
  return Array.isArray(raw) ? raw.join(', ') : raw;
}
