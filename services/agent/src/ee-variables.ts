import { dirname } from 'node:path';
import { reservedEnvironmentVariables } from '@hearth/domain';
import { defaultNodeWorkerCount, type RuntimeFamily } from './concurrency.js';

/** What the environment of one EE is built from. */
export interface EnvironmentVariablesInput {
  functionName: string;
  version: string;
  memorySizeMb: number;
  /** The concurrency the EE admits (`AWS_LAMBDA_MAX_CONCURRENCY`). */
  maxConcurrency: number;
  vcpus: number;
  /** Lambda runtime identifier, e.g. `nodejs20.x`. */
  runtime: string;
  family: RuntimeFamily;
  handler: string;
  region: string;
  logGroup: string;
  logStream: string;
  /** `host:port` of this EE's Runtime API. */
  runtimeApi: string;
  /** The unpacked package (`LAMBDA_TASK_ROOT`). */
  taskRoot: string;
  /** Directory of the runtime bootstrap (`LAMBDA_RUNTIME_DIR`). */
  runtimeDir: string;
  /** The EE's private temporary directory (`TMPDIR` and `HOME`). */
  tmpDir: string;
  /** The interpreter; its directory leads PATH, as `/var/lang/bin` does in Lambda. */
  interpreter: string;
  /** The function's own variables. */
  variables: Readonly<Record<string, string>>;
}

/** The environment of an EE, and the function variables it refused because they are reserved. */
export interface EnvironmentVariables {
  env: Record<string, string>;
  /** Names the function set that Lambda reserves; they were dropped (the api rejects them at create, so this is defence in depth). */
  ignored: string[];
}

const reserved = new Set(reservedEnvironmentVariables);

/**
 * Builds the complete environment of an EE process, as Lambda sets it: the
 * function's identity and limits, the Runtime API address, task and runtime
 * directories, region, `TZ=:UTC`, `LANG`, `PATH`, a private `TMPDIR` that is also
 * `HOME`, then the function's own variables (which may override PATH, LANG, TZ and
 * the like, but never a reserved name). Nothing of the agent's own environment is
 * inherited: the result is the process's whole environment.
 */
export function buildEnvironmentVariables(input: EnvironmentVariablesInput): EnvironmentVariables {
  const path = [...new Set([dirname(input.interpreter), '/usr/local/bin', '/usr/bin', '/bin'])].join(':');
  const env: Record<string, string> = {
    AWS_LAMBDA_FUNCTION_NAME: input.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: input.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(input.memorySizeMb),
    AWS_LAMBDA_MAX_CONCURRENCY: String(input.maxConcurrency),
    AWS_LAMBDA_RUNTIME_API: input.runtimeApi,
    AWS_LAMBDA_LOG_GROUP_NAME: input.logGroup,
    AWS_LAMBDA_LOG_STREAM_NAME: input.logStream,
    AWS_REGION: input.region,
    AWS_DEFAULT_REGION: input.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${input.runtime}`,
    LAMBDA_TASK_ROOT: input.taskRoot,
    LAMBDA_RUNTIME_DIR: input.runtimeDir,
    _HANDLER: input.handler,
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: path,
    TMPDIR: input.tmpDir,
    HOME: input.tmpDir,
  };
  // Lambda's runtime sizes its worker pool from the EE's cgroup CPU quota; Hearth's EEs
  // have none, so the agent states the EE's vCPUs through the runtime's own knob.
  if (input.family === 'nodejs') env.AWS_LAMBDA_NODEJS_WORKER_COUNT = String(defaultNodeWorkerCount(input.vcpus));
  const ignored: string[] = [];
  for (const [name, value] of Object.entries(input.variables)) {
    if (reserved.has(name)) ignored.push(name);
    else env[name] = value;
  }
  return { env, ignored };
}

/** Lambda's log stream name of an EE: `YYYY/MM/DD/[<version>]<environment id>`. */
export function logStreamName(version: string, environmentId: string, now: Date = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[${version}]${environmentId.replaceAll('-', '')}`;
}
