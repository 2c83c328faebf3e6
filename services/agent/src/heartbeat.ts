import type { Logger } from '@hearth/telemetry';
import type { EnvironmentHeartbeat, InstanceHeartbeat } from '@hearth/fleet/agent-wire';
import { heartbeatSubject } from '@hearth/fleet/agent-wire';
import type { ExecutionEnvironment } from './environment.js';

/** Where heartbeats go: the bus's live subjects (`${prefix}.live.<subject>`). */
export interface HeartbeatPublisher {
  publishLive(subject: string, data: unknown): void;
}

export type { EnvironmentHeartbeat, InstanceHeartbeat } from '@hearth/fleet/agent-wire';
export { heartbeatSubject } from '@hearth/fleet/agent-wire';

/** Options of startHeartbeats. */
export interface HeartbeatOptions {
  bus: HeartbeatPublisher;
  instanceId: string;
  /** Interval, ms. */
  intervalMs: number;
  environments(): Iterable<ExecutionEnvironment>;
  logger: Logger;
}

/** A running heartbeat loop. */
export interface Heartbeats {
  /** Publishes shortly (coalesced), e.g. after a state change, besides the regular beat. */
  soon(): void;
  /** Stops the loop after one last heartbeat. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Publishes the instance's heartbeat every interval, and soon after an EE
 * changes state so placement and the router hear of a failure within
 * milliseconds rather than at the next beat. A publish that fails (the
 * connection is down) is logged and skipped: the next beat supersedes it.
 */
export function startHeartbeats(options: HeartbeatOptions): Heartbeats {
  const subject = heartbeatSubject(options.instanceId);
  let pending: NodeJS.Timeout | undefined;
  let stopped = false;
  let failures = 0;

  const publish = (): void => {
    const beat: InstanceHeartbeat = { instanceId: options.instanceId, at: Date.now(), environments: [] };
    for (const environment of options.environments()) {
      if (environment.state === 'Stopped') continue;
      const entry: EnvironmentHeartbeat = {
        environmentId: environment.id,
        functionArn: environment.spec.functionArn,
        version: environment.spec.version,
        state: environment.state,
        inFlight: environment.state === 'Ready' ? environment.inFlight : 0,
        maxConcurrency: environment.maxConcurrency,
      };
      if (environment.reasonCode !== undefined) entry.reasonCode = environment.reasonCode;
      beat.environments.push(entry);
    }
    try {
      options.bus.publishLive(subject, beat);
    } catch (error) {
      failures += 1;
      // One line per 60 failures: a long NATS outage must not flood the log.
      if (failures % 60 === 1) options.logger.warn({ err: error, failures }, 'heartbeat not published');
    }
  };

  const timer = setInterval(publish, options.intervalMs);
  timer.unref();
  publish();

  return {
    soon() {
      if (stopped || pending) return;
      pending = setTimeout(() => {
        pending = undefined;
        publish();
      }, 20);
      pending.unref();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      clearTimeout(pending);
      publish();
    },
  };
}
