/**
 * What a simulated agent publishes: the real agent's wire format, shared
 * through `@hearth/fleet/agent-wire`. test/sim-wire.unit.test.ts also feeds a
 * simulated report through the router's and the scaler's parsers.
 */
export type {
  EnvironmentLoadReport as SimEnvironmentLoadReport,
  LoadReport as SimLoadReport,
  EnvironmentHeartbeat as SimEnvironmentHeartbeat,
  InstanceHeartbeat as SimHeartbeat,
} from '@hearth/fleet/agent-wire';
export { loadReportSubject, heartbeatSubject } from '@hearth/fleet/agent-wire';
