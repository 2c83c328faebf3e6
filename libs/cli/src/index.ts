/**
 * `@hearth/cli`: the `hearth` command line. `main.ts` runs it on the real
 * process; `run` is the whole CLI for a given argv and I/O (tests use it).
 */
export { run, commands, globalOptions, resolveInvocation, resolveEndpoint, mainUsage, commandUsage, usageLine, type Invocation } from './cli.js';
export { ExitCode, type ExitCodeValue } from './exit-codes.js';
export { CliError, UsageError, ApiError, UnreachableError, toCliError } from './cli-error.js';
export type { CliIo } from './io.js';
export { formatTable, formatKeyValues, flatten, formatElapsed } from './format.js';
export { parseSince, parseDuration } from './since.js';
export { codePackageFrom, zipDirectory, type CodePackage } from './zip.js';
export { readPayload } from './payload.js';
export { formatLogEvent } from './commands/logs.js';
export { formatFleet } from './commands/status.js';
export { describeVersionState, publishOutcome } from './commands/publish.js';
export { upSteps, findRepoRoot } from './commands/up.js';
export { defaultSubnets, defaultRoles } from './names.js';
export type { LogEvent, FleetStatus } from './hearth-http.js';
