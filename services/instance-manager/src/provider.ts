/**
 * Where instances come from. The instance-manager decides *when* an instance
 * exists (and records it as events); a provider decides *how*: the `local`
 * provider runs each instance as an agent process on this host, the `docker`
 * provider as one agent container on a Docker host (docker-provider.ts, for
 * the compose cluster), the `sim` provider simulates instances in this process
 * (src/sim/). An EC2-shaped one would implement the same interface.
 */
import type { InstanceSpec } from './instance-events.js';

/** How an instance's machine (process, container) ended. */
export interface InstanceExit {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or null. */
  readonly signal: string | null;
}

/** An instance whose agent is up, as its provider hands it over. */
export interface LaunchedInstance {
  /** `host:port` of the agent's gRPC server. */
  readonly agentAddress: string;
  /** `host:port` of the agent's Prometheus metrics endpoint (`/metrics`), when it serves one. */
  readonly metricsAddress?: string | undefined;
  /** Process id of the agent on this host (local provider); undefined where it means nothing (containers, VMs). */
  readonly pid: number | undefined;
  /**
   * Resolves when the instance's machine is gone, whoever ended it (never
   * rejects). The manager watches it to notice an agent that dies on its own.
   */
  readonly exited: Promise<InstanceExit>;
  /**
   * Graceful stop: asks the agent to stop its EEs and exit, and forces it
   * (with everything it started) after `timeoutMs`. Idempotent.
   */
  stop(options: { timeoutMs: number }): Promise<InstanceExit>;
  /** Ends the instance and everything on it at once (an unhealthy agent is not asked). Idempotent. */
  kill(): Promise<InstanceExit>;
  /** The agent's last output lines and where its full log is, for reasons and error messages. */
  describeOutput(lines?: number): string;
}

/** Why a launch failed, as a short reason for the InstanceTerminated event; `detail` is for the caller's error. */
export class InstanceLaunchError extends Error {
  constructor(
    /** One line: what went wrong (e.g. `agent printed no ready line within 30000 ms`). */
    readonly reason: string,
    /** The agent's last output and where its log is. */
    readonly detail: string,
  ) {
    super(`${reason}\n${detail}`);
    this.name = 'InstanceLaunchError';
  }
}

/** A source of instances. */
export interface InstanceProvider {
  /** Recorded in InstanceLaunchRequested and the read model, e.g. `local`. */
  readonly name: string;
  /**
   * Starts the instance and resolves once its agent is ready, within
   * `deadlineMs`. On failure it leaves nothing running and rejects with an
   * InstanceLaunchError saying why.
   */
  launch(spec: InstanceSpec, options: { deadlineMs: number }): Promise<LaunchedInstance>;
}

/** One line describing how an instance's machine ended, e.g. `was killed by SIGKILL`. */
export function describeExit(exit: InstanceExit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}
