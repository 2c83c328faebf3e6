import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { headers as natsHeaders, nanos } from '@nats-io/transport-node';
import type { Bus } from './connect-bus.js';
import { assertPrefix } from './naming.js';

/**
 * One line an execution environment printed, as the agent publishes it and
 * `GET /hearth/v1/functions/{FunctionName}/logs` returns it. `requestId` and
 * `level` are present when the runtime knew them (it printed a JSON line
 * carrying them during an invocation). Readers must tolerate extra fields
 * (`truncated`, `errorType`, `errorMessage`, `stackTrace`).
 */
export interface LogEvent {
  /** When the agent captured the line, ISO-8601. */
  timestamp: string;
  functionName: string;
  version: string;
  environmentId: string;
  instanceId: string;
  stream: 'stdout' | 'stderr';
  requestId?: string;
  level?: string;
  message: string;
  /** The line was longer than the agent keeps and was cut. */
  truncated?: boolean;
  [extra: string]: unknown;
}

/** NATS header carrying a log line's request id, so readers filter by invocation without parsing the body. */
export const logRequestIdHeader = 'Hearth-Request-Id';

/** Retention of the function log stream. */
export interface FunctionLogRetention {
  /** Age after which a line is dropped, ms (`HEARTH_LOGS_MAX_AGE_MS`). Default 86400000 (24 h). */
  maxAgeMs?: number;
  /** Bytes the stream holds before the oldest lines are dropped (`HEARTH_LOGS_MAX_BYTES`). Default 1073741824 (1 GiB). */
  maxBytes?: number;
}

/** Default age limit of the function log stream: 24 hours. */
export const defaultLogMaxAgeMs = 24 * 3_600_000;
/** Default size limit of the function log stream: 1 GiB. */
export const defaultLogMaxBytes = 1024 ** 3;

/** Name of the JetStream stream holding function logs: `${PREFIX}_FUNCTION_LOGS` (`HEARTH_FUNCTION_LOGS`). */
export function functionLogStreamName(prefix: string): string {
  assertPrefix(prefix);
  return `${prefix.toUpperCase().replaceAll('-', '_')}_FUNCTION_LOGS`;
}

const plainToken = /^[A-Za-z0-9_-]$/;

/**
 * Encodes text as one NATS subject token: letters, digits, `_` and `-` stay,
 * every other UTF-8 byte (`.`, `*`, `>`, `$`, whitespace, `~` itself…)
 * becomes `~XX` (upper-case hex). Function names (`[a-zA-Z0-9-_]+`) and
 * numbered versions pass unchanged; `$LATEST` becomes `~24LATEST`. The
 * encoding is injective, so a filter on an encoded token never matches
 * another name.
 */
export function encodeSubjectToken(text: string): string {
  if (text === '') throw new RangeError('a subject token cannot be empty');
  let out = '';
  for (const char of text) {
    if (plainToken.test(char)) {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8')) out += `~${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The inverse of encodeSubjectToken. */
export function decodeSubjectToken(token: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < token.length; ) {
    if (token[i] === '~') {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(token.charCodeAt(i));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Subject of one EE's log lines: `${prefix}.logs.<function>.<version>.<environmentId>`, each token encoded. */
export function functionLogSubject(prefix: string, functionName: string, version: string, environmentId: string): string {
  return `${prefix}.logs.${encodeSubjectToken(functionName)}.${encodeSubjectToken(version)}.${encodeSubjectToken(environmentId)}`;
}

/** Filter of a function's log lines, of one version or (omitted) of every version. */
export function functionLogFilterSubject(prefix: string, functionName: string, version?: string): string {
  return `${prefix}.logs.${encodeSubjectToken(functionName)}.${version === undefined ? '*' : encodeSubjectToken(version)}.*`;
}

/** The stream's configuration; an update may change everything but retention and storage. */
export function functionLogStreamConfig(prefix: string, retention: FunctionLogRetention = {}) {
  const updatable = {
    subjects: [`${prefix}.logs.>`],
    max_age: nanos(retention.maxAgeMs ?? defaultLogMaxAgeMs),
    max_bytes: retention.maxBytes ?? defaultLogMaxBytes,
    max_msgs: -1,
    // Logs are a window onto recent output: the oldest lines make room, publishers are never refused.
    discard: DiscardPolicy.Old,
    // Lines carry no message id; a short window keeps the server's dedup index small.
    duplicate_window: nanos(Math.min(60_000, retention.maxAgeMs ?? defaultLogMaxAgeMs)),
  } satisfies Partial<StreamConfig>;
  return {
    updatable,
    create: {
      name: functionLogStreamName(prefix),
      ...updatable,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: 1,
    } satisfies Partial<StreamConfig>,
  };
}

/**
 * Makes sure the function log stream exists. With `update` (the api, whose
 * settings are authoritative) an existing stream gets `retention`'s limits;
 * without it (agents) an existing stream is left as it is, so agents and the
 * api configured differently never fight over it. Race-safe: a concurrent
 * create by another process is taken as success.
 */
export async function ensureFunctionLogStream(
  bus: Bus,
  retention: FunctionLogRetention = {},
  options: { update?: boolean } = {},
): Promise<StreamInfo> {
  const config = functionLogStreamConfig(bus.prefix, retention);
  const name = config.create.name;
  try {
    const info = await bus.jsm.streams.info(name);
    return options.update ? await bus.jsm.streams.update(name, config.updatable) : info;
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== JetStreamApiCodes.StreamNotFound) throw error;
  }
  try {
    return await bus.jsm.streams.add(config.create);
  } catch (error) {
    // Another process created it between our info and add.
    if (!(error instanceof JetStreamApiError)) throw error;
    return options.update ? bus.jsm.streams.update(name, config.updatable) : bus.jsm.streams.info(name);
  }
}

const headerSafeRequestId = /^[\x21-\x7e]{1,128}$/;

/**
 * Publishes one LogEvent's JSON on its subject and resolves on the stream's
 * ack (rejects after `bus.requestTimeoutMs`), with the request id as the
 * `Hearth-Request-Id` header when there is one (and it is 1–128 visible ASCII
 * characters; others are left out of the header, so filtering by them finds nothing).
 */
export function publishFunctionLog(bus: Bus, subject: string, payload: Uint8Array, requestId: string | undefined): Promise<unknown> {
  const options: { timeout: number; headers?: ReturnType<typeof natsHeaders> } = { timeout: bus.requestTimeoutMs };
  // A user can print a JSON line with any "requestId": only a header-safe one goes in the header.
  if (requestId && headerSafeRequestId.test(requestId)) {
    options.headers = natsHeaders();
    options.headers.set(logRequestIdHeader, requestId);
  }
  return bus.js.publish(subject, payload, options);
}
