/**
 * The fleet of one capacity provider as placement sees it: instances with
 * their size, zone and state, and the execution environments on each.
 * Callers build it from the instance manager's list and the EE read model.
 */
import type { Resources } from './resources.js';

/** An instance's lifecycle state, as the instance manager reports it (instance_manager.proto). */
export type InstanceState = 'Pending' | 'Running' | 'Unhealthy' | 'Draining' | 'Terminated';

/** An execution environment on an instance. */
export interface FleetEnvironment extends Resources {
  readonly id: string;
  /** The function version it runs, as one opaque key (e.g. the qualified function ARN). */
  readonly version: string;
}

/** An instance of the provider. */
export interface FleetInstance extends Resources {
  readonly id: string;
  /** Instance type name, e.g. `c7g.xlarge`. */
  readonly type: string;
  readonly zone: string;
  readonly state: InstanceState;
  /** EEs on it, whatever their state, as long as they hold its resources. */
  readonly environments: readonly FleetEnvironment[];
}

/** Only a Running instance takes new EEs: a Pending one may never come up, the others are leaving. */
export function takesEnvironments(state: InstanceState): boolean {
  return state === 'Running';
}

/**
 * Whether an instance's vCPUs count toward MaxVCpuCount and the account's
 * limit: every instance that exists, i.e. all but Terminated. A Pending,
 * Unhealthy or Draining instance is still an EC2 instance that holds quota.
 */
export function countsTowardLimits(state: InstanceState): boolean {
  return state !== 'Terminated';
}

/**
 * Whether an instance's EEs count as the version's presence in its zone:
 * those on Pending and Running instances. EEs on Unhealthy or Draining
 * instances are about to go, so their zone should get replacements.
 */
export function holdsZoneShare(state: InstanceState): boolean {
  return state === 'Running' || state === 'Pending';
}
