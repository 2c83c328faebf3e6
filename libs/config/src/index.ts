/**
 * Configuration from the environment. Every setting has a documented default;
 * a malformed value stops the process at start with a message naming the
 * variable, instead of failing later in a request.
 */

/** Raised at start when an environment variable is malformed. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads a string variable, or `fallback` when unset or empty. */
export function envString(name: string, fallback: string, env: Env = process.env): string {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
}

/** Reads a required string variable; throws ConfigError naming it when unset. */
export function envRequired(name: string, env: Env = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ConfigError(`${name} is required but not set`);
  return value;
}

/** Reads an integer variable within [min, max], or `fallback` when unset. */
export function envInt(
  name: string,
  fallback: number,
  range: { min?: number; max?: number } = {},
  env: Env = process.env,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw} is not an integer between ${min} and ${max}`);
  }
  return value;
}

/** Reads a boolean variable (`true/false/1/0/yes/no`), or `fallback` when unset. */
export function envBool(name: string, fallback: boolean, env: Env = process.env): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const normalised = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalised)) return true;
  if (['0', 'false', 'no', 'off'].includes(normalised)) return false;
  throw new ConfigError(`${name}=${raw} is not a boolean (use true or false)`);
}

/** Reads a comma-separated list, trimming blanks; `fallback` when unset. */
export function envList(name: string, fallback: readonly string[], env: Env = process.env): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [...fallback];
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Reads `key=value,key=value` pairs into a map; `fallback` when unset. */
export function envMap(name: string, env: Env = process.env): Map<string, string> {
  const result = new Map<string, string>();
  for (const pair of envList(name, [], env)) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) {
      throw new ConfigError(`${name} entry "${pair}" is not of the form key=value`);
    }
    result.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return result;
}

/** Settings every Hearth service shares. */
export interface CommonConfig {
  /** Postgres connection URL (`DATABASE_URL`). No default: required by services that store events. */
  databaseUrl: string | undefined;
  /** NATS server URL (`NATS_URL`). Default `nats://127.0.0.1:4222`. */
  natsUrl: string;
  /** Temporal frontend address (`TEMPORAL_ADDRESS`). Default `127.0.0.1:7233`. */
  temporalAddress: string;
  /** Temporal namespace (`TEMPORAL_NAMESPACE`). Default `default`. */
  temporalNamespace: string;
  /** Host the gRPC server binds (`HEARTH_GRPC_HOST`). Default `127.0.0.1`. */
  grpcHost: string;
  /** Region reported in ARNs (`HEARTH_REGION`). Default `us-east-1`. */
  region: string;
  /** Account id reported in ARNs (`HEARTH_ACCOUNT_ID`). Default `000000000000`. */
  accountId: string;
  /** Milliseconds a graceful shutdown may take before in-flight work is abandoned (`HEARTH_SHUTDOWN_GRACE_MS`). Default 10000. */
  shutdownGraceMs: number;
}

/** Reads the settings every service shares. */
export function loadCommonConfig(env: Env = process.env): CommonConfig {
  const accountId = envString('HEARTH_ACCOUNT_ID', '000000000000', env);
  if (!/^\d{12}$/.test(accountId)) throw new ConfigError(`HEARTH_ACCOUNT_ID=${accountId} is not 12 digits`);
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    natsUrl: envString('NATS_URL', 'nats://127.0.0.1:4222', env),
    temporalAddress: envString('TEMPORAL_ADDRESS', '127.0.0.1:7233', env),
    temporalNamespace: envString('TEMPORAL_NAMESPACE', 'default', env),
    grpcHost: envString('HEARTH_GRPC_HOST', '127.0.0.1', env),
    region: envString('HEARTH_REGION', 'us-east-1', env),
    accountId,
    shutdownGraceMs: envInt('HEARTH_SHUTDOWN_GRACE_MS', 10_000, { min: 0, max: 600_000 }, env),
  };
}

/** Default gRPC port of each service (`HEARTH_GRPC_PORT` overrides for the one process). */
export const defaultGrpcPorts: Readonly<Record<ServiceName, number>> = Object.freeze({
  api: 50051,
  placement: 50052,
  'instance-manager': 50053,
  router: 50054,
  agent: 50055,
  scaler: 50056,
});

/** The six Hearth services. */
export type ServiceName = 'api' | 'placement' | 'instance-manager' | 'router' | 'agent' | 'scaler';

/** All service names, in start order. */
export const serviceNames: readonly ServiceName[] = Object.freeze([
  'api',
  'placement',
  'instance-manager',
  'router',
  'agent',
  'scaler',
]);
