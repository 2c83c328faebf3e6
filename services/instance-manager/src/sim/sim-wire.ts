/**
 * What a simulated agent publishes, in the real agent's wire format
 * (services/agent/src/load-report.ts and heartbeat.ts). Re-declared here
 * because services are not libraries; test/sim/sim-wire.unit.test.ts feeds a
 * simulated report through the router's and the scaler's parsers so the two
 * cannot drift apart unnoticed.
 */

/** One EE in a load report. */
export interface SimEnvironmentLoadReport {
  environmentId: string;
  functionName: string;
  version: string;
  functionArn: string;
  revisionId?: string;
  /** `Starting`, `Ready` or `Stopping`. */
  state: string;
  inFlight: number;
  maxConcurrency: number;
  /** CPU over the window, percent of the EE's vCPUs. */
  cpuPercent: number;
  memoryMiB: number;
  /** Invocations refused since the previous report, any reason. */
  rejectedSinceLastReport: number;
  /** Invocations admitted since the previous report. */
  admittedSinceLastReport: number;
}

/** What an agent publishes on `instance.<instanceId>.load`. */
export interface SimLoadReport {
  instanceId: string;
  /** host:port of the agent's gRPC server. */
  agentAddress: string;
  zone: string;
  capacityProviderArn: string;
  /** Epoch ms when it was taken. */
  at: number;
  cpu: { usedPercent: number; environmentsPercent: number };
  memory: { usedMiB: number; capacityMiB: number };
  environments: SimEnvironmentLoadReport[];
}

/** One EE in a heartbeat. */
export interface SimEnvironmentHeartbeat {
  environmentId: string;
  functionArn: string;
  version: string;
  /** Starting, Ready or Failed (Stopped EEs are left out). */
  state: string;
  inFlight: number;
  maxConcurrency: number;
  reasonCode?: string;
}

/** What an agent publishes on `instance.<instanceId>.heartbeat`. */
export interface SimHeartbeat {
  instanceId: string;
  at: number;
  environments: SimEnvironmentHeartbeat[];
}

/** Subject (below `${prefix}.live.`) of an instance's load reports. */
export const loadReportSubject = (instanceId: string): string => `instance.${instanceId}.load`;

/** Subject (below `${prefix}.live.`) of an instance's heartbeats. */
export const heartbeatSubject = (instanceId: string): string => `instance.${instanceId}.heartbeat`;
