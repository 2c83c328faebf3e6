import { ConfigError, defaultGrpcPorts, envInt, envString, loadZoneConfig, type CommonConfig } from '@hearth/config';

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
  /** Where the router answers gRPC (`HEARTH_ROUTER_GRPC_ADDRESS`). Default `127.0.0.1:50054`. */
  routerAddress: string;
  /** Where the instance-manager answers gRPC (`HEARTH_INSTANCE_MANAGER_GRPC_ADDRESS`). Default `127.0.0.1:50053`. */
  instanceManagerAddress: string;
  /** The fleet status route (`GET /hearth/v1/fleet`). */
  fleet: FleetStatusConfig;
  /** Limits of the invoke path. */
  invoke: InvokeConfig;
  /** Bounds of the asynchronous invocation queue (JetStream `${PREFIX}_INVOCATIONS`). */
  asyncQueue: AsyncQueueConfig;
  /** Retention of the function log stream `${PREFIX}_FUNCTION_LOGS`, applied at startup (the api's settings win over the agents'). */
  logs: LogsConfig;
}

/** Retention and read limits of function logs. */
export interface LogsConfig {
  /** Age after which a log line is dropped (`HEARTH_LOGS_MAX_AGE_MS`). Default 86400000 (24 h). */
  maxAgeMs: number;
  /** Bytes the log stream holds before the oldest lines are dropped (`HEARTH_LOGS_MAX_BYTES`). Default 1073741824 (1 GiB). */
  maxBytes: number;
  /** Deadline of reading stored lines for one request (`HEARTH_LOGS_READ_TIMEOUT_MS`). Default 30000. */
  readTimeoutMs: number;
}

/** Settings of the fleet status route. */
export interface FleetStatusConfig {
  /** Longest the route waits for its sources; later ones are left out with a note (`HEARTH_FLEET_STATUS_DEADLINE_MS`). Default 2000. */
  deadlineMs: number;
  /** Window over which an EE's refusals are summed as `recentThrottles` (`HEARTH_FLEET_THROTTLE_WINDOW_MS`). Default 10000. */
  throttleWindowMs: number;
}

/** Limits of the invoke path, each bounding memory or waiting. */
export interface InvokeConfig {
  /** Synchronous invocations awaiting the router at once; more are shed with 429 (`HEARTH_INVOKE_MAX_IN_FLIGHT`). Default 4096. */
  maxInFlight: number;
  /** Payload bytes of those invocations; more are shed with 429 (`HEARTH_INVOKE_MAX_IN_FLIGHT_BYTES`). Default 268435456 (256 MiB). */
  maxInFlightBytes: number;
  /**
   * How long past an invocation's deadline (now + the function's Timeout, when
   * the agent answers with Lambda's timeout error) the api still waits for the
   * router before answering ServiceException (`HEARTH_INVOKE_DEADLINE_MARGIN_MS`). Default 1000.
   */
  deadlineMarginMs: number;
  /** Functions whose state the api keeps in memory for invocations (`HEARTH_FUNCTION_CACHE_ENTRIES`). Default 10000. */
  functionCacheEntries: number;
}

/** Bounds of the asynchronous invocation queue; when full, Event invokes get 429. */
export interface AsyncQueueConfig {
  /** Messages waiting (`HEARTH_ASYNC_QUEUE_MAX_MESSAGES`). Default 100000. */
  maxMessages: number;
  /** Bytes waiting (`HEARTH_ASYNC_QUEUE_MAX_BYTES`). Default 1073741824 (1 GiB). */
  maxBytes: number;
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
    routerAddress: envString('HEARTH_ROUTER_GRPC_ADDRESS', `127.0.0.1:${defaultGrpcPorts.router}`, env),
    instanceManagerAddress: envString('HEARTH_INSTANCE_MANAGER_GRPC_ADDRESS', `127.0.0.1:${defaultGrpcPorts['instance-manager']}`, env),
    fleet: {
      deadlineMs: envInt('HEARTH_FLEET_STATUS_DEADLINE_MS', 2_000, { min: 100, max: 60_000 }, env),
      throttleWindowMs: envInt('HEARTH_FLEET_THROTTLE_WINDOW_MS', 10_000, { min: 1_000, max: 3_600_000 }, env),
    },
    invoke: {
      maxInFlight: envInt('HEARTH_INVOKE_MAX_IN_FLIGHT', 4096, { min: 1, max: 1_000_000 }, env),
      maxInFlightBytes: envInt('HEARTH_INVOKE_MAX_IN_FLIGHT_BYTES', 256 * 1024 * 1024, { min: 6 * 1024 * 1024, max: 64 * 1024 ** 3 }, env),
      deadlineMarginMs: envInt('HEARTH_INVOKE_DEADLINE_MARGIN_MS', 1000, { min: 0, max: 60_000 }, env),
      functionCacheEntries: envInt('HEARTH_FUNCTION_CACHE_ENTRIES', 10_000, { min: 1, max: 10_000_000 }, env),
    },
    asyncQueue: {
      maxMessages: envInt('HEARTH_ASYNC_QUEUE_MAX_MESSAGES', 100_000, { min: 1, max: 1_000_000_000 }, env),
      maxBytes: envInt('HEARTH_ASYNC_QUEUE_MAX_BYTES', 1024 ** 3, { min: 1024 * 1024, max: 1024 ** 4 }, env),
    },
    logs: {
      maxAgeMs: envInt('HEARTH_LOGS_MAX_AGE_MS', 24 * 3_600_000, { min: 1_000, max: 365 * 24 * 3_600_000 }, env),
      maxBytes: envInt('HEARTH_LOGS_MAX_BYTES', 1024 ** 3, { min: 1024 * 1024, max: 1024 ** 4 }, env),
      readTimeoutMs: envInt('HEARTH_LOGS_READ_TIMEOUT_MS', 30_000, { min: 100, max: 600_000 }, env),
    },
  };
}
