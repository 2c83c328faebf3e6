/**
 * Function logs on the api: `GET /hearth/v1/functions/{FunctionName}/logs`,
 * read from the JetStream stream `${PREFIX}_FUNCTION_LOGS` the agents publish
 * every EE output line to.
 */
export { functionLogsRoute, functionLogsPath, type FunctionLogsRouteOptions } from './function-logs-route.js';
export { parseLogQuery, defaultLogLimit, maxLogLimit, defaultLogSinceMs, type LogQuery } from './log-query.js';
export { readLogEvents, followLogEvents, type LogReadLimits } from './log-reader.js';
