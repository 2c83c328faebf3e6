import { InvalidParameterValueException } from '@hearth/errors';

/** Query parameters by name, each with every value it was given, in order. */
export type QueryParameters = ReadonlyMap<string, readonly string[]>;

/**
 * Parses a raw query string (without `?`). Unlike URLSearchParams, `+` stays
 * a plus: AWS SDKs percent-encode spaces, and pagination markers are often
 * base64, whose `+` must survive a client that leaves it unencoded. Invalid
 * percent-encoding is InvalidParameterValueException (HTTP 400).
 */
export function parseQueryString(raw: string): QueryParameters {
  const parameters = new Map<string, string[]>();
  if (raw === '') return parameters;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = decodeQueryComponent(equals === -1 ? pair : pair.slice(0, equals));
    const value = equals === -1 ? '' : decodeQueryComponent(pair.slice(equals + 1));
    const values = parameters.get(name);
    if (values) values.push(value);
    else parameters.set(name, [value]);
  }
  return parameters;
}

function decodeQueryComponent(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidParameterValueException(
      `The query string component '${raw.slice(0, 200)}' is not valid percent-encoding ` +
        '(allowed: %XX escapes of UTF-8 bytes).',
    );
  }
}
