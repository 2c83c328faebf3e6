/**
 * What an agent publishes about its instance on NATS (live subjects, below
 * `${prefix}.live.`): heartbeats for the instance-manager and load reports for
 * the router, the scaler and the api's fleet view. The shapes every agent —
 * the real one (services/agent) and the simulated one (the instance-manager's
 * `sim` provider) — writes; readers check what they read with their own
 * tolerant parsers. Types and subject names only: no I/O, nothing to load.
 */

/** One EE in a load report. */
export interface EnvironmentLoadReport {
  environmentId: string;
  functionName: string;
  version: string;
  /** Qualified ARN of the version. */
  functionArn: string;
  /** Revision of the version's configuration, when the EE's spec carries one (the agent contract has none yet). */
  revisionId?: string;
  /** `Starting`, `Ready` or `Stopping` (a stop was requested; it takes no new work). Only Ready EEs take invocations. */
  state: string;
  /** Slots taken now: invocations queued, running, or timed out but not yet answered by the runtime. */
  inFlight: number;
  /** PerExecutionEnvironmentMaxConcurrency of the EE. */
  maxConcurrency: number;
  /** CPU over the last window, percent of the EE's vCPU share (may exceed 100: EEs have no cgroup). */
  cpuPercent: number;
  /** Resident memory of the EE's processes, MiB. */
  memoryMiB: number;
  /** Invocations refused by this EE since the previous report, any reason. */
  rejectedSinceLastReport: number;
  /**
   * Invocations admitted by this EE since the previous report. With the
   * rejections it tells the scaler how much demand it turned away, measured
   * rather than estimated.
   */
  admittedSinceLastReport: number;
}

/** What an agent publishes on `instance.<instanceId>.load`. */
export interface LoadReport {
  instanceId: string;
  /** host:port of the agent's gRPC server (AgentService.InvokeStream). */
  agentAddress: string;
  /** Availability zone of the instance. */
  zone: string;
  capacityProviderArn: string;
  /** Epoch ms when the report was taken. */
  at: number;
  cpu: {
    /** The instance's CPU (the agent and its EEs) over the last window, percent of its vCPUs, 0–100. */
    usedPercent: number;
    /** The EEs' share of that, percent of the instance's vCPUs, 0–100. */
    environmentsPercent: number;
  };
  memory: {
    /** Resident memory of the agent and its EEs, MiB. */
    usedMiB: number;
    /** The instance's memory, MiB. */
    capacityMiB: number;
  };
  environments: EnvironmentLoadReport[];
}

/** The subject (below `${prefix}.live.`) of an instance's load reports. */
export function loadReportSubject(instanceId: string): string {
  return `instance.${instanceId}.load`;
}

/** One EE in a heartbeat. */
export interface EnvironmentHeartbeat {
  environmentId: string;
  functionArn: string;
  version: string;
  /** Starting, Ready or Failed (Stopped EEs are no longer on the instance and are left out). */
  state: string;
  /** Slots taken: queued, running, and timed out but not yet answered by the runtime. */
  inFlight: number;
  maxConcurrency: number;
  /** Lambda's reason code when Failed. */
  reasonCode?: string;
}

/** What an agent publishes every interval on `instance.<instanceId>.heartbeat`. */
export interface InstanceHeartbeat {
  instanceId: string;
  /** Epoch ms when it was taken. */
  at: number;
  environments: EnvironmentHeartbeat[];
}

/** The subject (below `${prefix}.live.`) of an instance's heartbeats. */
export function heartbeatSubject(instanceId: string): string {
  return `instance.${instanceId}.heartbeat`;
}
