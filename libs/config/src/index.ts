/**
 * Configuration from the environment. Every setting has a documented default;
 * a malformed value stops the process at start with a message naming the
 * variable, instead of failing later in a request.
 */
export { ConfigError, envString, envRequired, envInt, envBool, envList, envMap } from './env.js';
export { loadCommonConfig, defaultGrpcPorts, defaultMetricsPorts, serviceNames, supervisedServiceNames, type CommonConfig, type ServiceName } from './common-config.js';
export { detectRuntimes, type RuntimeInterpreter } from './runtimes.js';
export { loadZoneConfig, type ZoneConfig } from './zones.js';
