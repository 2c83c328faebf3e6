/**
 * A Hearth cluster on one host, for `npm start` and for tests: real Postgres,
 * NATS (JetStream) and Temporal (from URLs, containers or local binaries) and
 * the six services as supervised child processes.
 */
export type { InfraEndpoints, InfraMode, StartedInfraPiece } from './infra-types.js';
export {
  resolveInfra,
  persistentDataDir,
  persistentDefaultPorts,
  repoRoot,
  type InfraSource,
  type ResolveInfraOptions,
  type ResolvedInfra,
} from './resolve-infra.js';
export {
  localInfraLayout,
  startLocalPostgres,
  startLocalNats,
  startLocalTemporal,
  describeDefaultNamespace,
  natsGreetsWithJetStream,
  type LocalInfraLayout,
  type LocalInfraPorts,
  type LocalPostgres,
  type LocalPostgresOptions,
  type LocalNats,
  type LocalNatsOptions,
  type LocalTemporal,
  type LocalTemporalOptions,
} from './local-binaries.js';
export { containerRuntimeAvailable, defaultImages } from './container-infra.js';
export {
  startCluster,
  grpcAddressVariable,
  defaultHttpPort,
  type Cluster,
  type ClusterOptions,
} from './supervisor.js';
export { isReadyLine, type ServiceState, type ServiceStatus } from './supervised-service.js';
export type { SupervisorEvent } from './supervisor-log.js';
export { RestartBackoff, type RestartBackoffPolicy } from './restart-backoff.js';
export { PortInUseError, pickFreePort, assertPortFree, loopback } from './ports.js';
export {
  MissingBinaryError,
  installCommand,
  toolsDir,
  toolsFile,
  readToolPaths,
  findPostgresBinDir,
  findNatsServer,
  findTemporalCli,
  type ToolPaths,
} from './tool-paths.js';
export { ManagedProcess, type ExitInfo, type ManagedProcessOptions, type StopOptions } from './managed-process.js';
