import { ConfigError, envInt, envString, loadZoneConfig, type CommonConfig } from '@hearth/config';

/** Settings of the api service, from the environment. */
export interface ApiConfig {
  /** Postgres URL of the event store (`DATABASE_URL`). Required. */
  databaseUrl: string;
  /** Host the Lambda HTTP API binds (`HEARTH_HTTP_HOST`). Default `127.0.0.1`. */
  httpHost: string;
  /** Port of the Lambda HTTP API (`HEARTH_HTTP_PORT`). Default 9000. */
  httpPort: number;
  /** Base URL clients reach the HTTP API at, used in `Code.Location` (`HEARTH_PUBLIC_URL`). Default: the bound address. */
  publicUrl: string | undefined;
  /** Availability zones subnets map onto (`HEARTH_ZONES`). Default `<region>a,<region>b,<region>c`. */
  zones: string[];
  /** Explicit subnet → zone mapping (`HEARTH_SUBNET_ZONES=subnet-1=us-east-1a,…`); other subnets hash onto `zones`. */
  subnetZones: Map<string, string>;
  /** Most capacity providers the account may have (`HEARTH_MAX_CAPACITY_PROVIDERS`). Default 1000, as Lambda's quota. */
  maxCapacityProviders: number;
  /** Schema of the event store and read models (`HEARTH_DB_SCHEMA`). Default `hearth`. */
  schema: string;
}

/** Reads the api's settings; throws ConfigError naming a malformed variable. */
export function loadApiConfig(common: CommonConfig, env: NodeJS.ProcessEnv = process.env): ApiConfig {
  if (!common.databaseUrl) throw new ConfigError('DATABASE_URL is required by the api (the event store lives in Postgres)');
  const httpHost = envString('HEARTH_HTTP_HOST', '127.0.0.1', env);
  const httpPort = envInt('HEARTH_HTTP_PORT', 9000, { min: 0, max: 65535 }, env);
  const schema = envString('HEARTH_DB_SCHEMA', 'hearth', env);
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new ConfigError(`HEARTH_DB_SCHEMA=${schema} is not a lower-case SQL identifier`);
  return {
    databaseUrl: common.databaseUrl,
    httpHost,
    httpPort,
    publicUrl: env.HEARTH_PUBLIC_URL || undefined,
    ...loadZoneConfig(common.region, env),
    maxCapacityProviders: envInt('HEARTH_MAX_CAPACITY_PROVIDERS', 1000, { min: 1, max: 1_000_000 }, env),
    schema,
  };
}
