/**
 * Events of an instance stream (`instance:<instanceId>`) and the state folded
 * from them. The instance-manager is the only writer of these streams; other
 * services (placement first) read them from JetStream, where the api's outbox
 * relay publishes them as `<prefix>.events.instance.<EventType>`.
 *
 * Lifecycle: Pending → Running → (Draining | Unhealthy) → Terminated, and
 * Pending → Terminated when a launch fails. Terminated is final. A Running
 * instance past its maximum lifetime records InstanceRotationDue once and stays
 * Running until placement has moved its EEs and terminates it.
 */

/** Stream category of instances: streams are `instance:<instanceId>`. */
export const instanceCategory = 'instance';

/** The stream of one instance: `instance:<instanceId>`. */
export function instanceStreamId(instanceId: string): string {
  return `${instanceCategory}:${instanceId}`;
}

/** Where an instance is in its lifecycle (the `state` of the gRPC `Instance`). */
export type InstanceStatus = 'Pending' | 'Running' | 'Unhealthy' | 'Draining' | 'Terminated';

/** States in which an instance may still have a process (or machine) behind it. */
export const liveStatuses: readonly InstanceStatus[] = ['Pending', 'Running', 'Unhealthy', 'Draining'];

/** What an instance is: fixed at launch. */
export interface InstanceSpec {
  readonly instanceId: string;
  readonly capacityProviderArn: string;
  /** EC2-style type name chosen by placement, e.g. `m7g.large`. */
  readonly instanceType: string;
  /** Availability zone, e.g. `us-east-1a`. */
  readonly zone: string;
  /** `x86_64` or `arm64`. */
  readonly architecture: string;
  readonly vcpus: number;
  readonly memoryMib: number;
}

/** A launch was accepted; the instance is Pending until its agent is ready. */
export type InstanceLaunchRequested = Readonly<{
  type: 'InstanceLaunchRequested';
  data: Readonly<{
    capacityProviderArn: string;
    instanceType: string;
    zone: string;
    architecture: string;
    vcpus: number;
    memoryMib: number;
    /** The provider that launches it (`local`); not in the brief's list, kept so a read model can say where it runs. */
    provider: string;
  }>;
}>;

/** The agent is up: its gRPC server answers at `agentAddress`. */
export type InstanceRunning = Readonly<{ type: 'InstanceRunning'; data: Readonly<{ agentAddress: string }> }>;

/** The instance failed (heartbeats stopped, agent died, manager restarted); its process is being killed. */
export type InstanceUnhealthy = Readonly<{ type: 'InstanceUnhealthy'; data: Readonly<{ reason: string }> }>;

/**
 * The instance reached its maximum lifetime (`HEARTH_INSTANCE_MAX_AGE_MS`):
 * placement should move its EEs elsewhere and terminate it. Recorded once;
 * the instance stays Running and keeps serving until it is terminated.
 */
export type InstanceRotationDue = Readonly<{ type: 'InstanceRotationDue'; data: Readonly<{ reason: string }> }>;

/** Termination began: the agent is stopping its EEs. */
export type InstanceDraining = Readonly<{ type: 'InstanceDraining'; data: Readonly<{ reason: string }> }>;

/** Nothing runs on the instance any more. Final. */
export type InstanceTerminated = Readonly<{ type: 'InstanceTerminated'; data: Readonly<{ reason: string }> }>;

/** Every event of an instance stream. */
export type InstanceEvent =
  | InstanceLaunchRequested
  | InstanceRunning
  | InstanceRotationDue
  | InstanceUnhealthy
  | InstanceDraining
  | InstanceTerminated;

/** Every instance event type, for projections and subscriptions. */
export const instanceEventTypes: readonly InstanceEvent['type'][] = [
  'InstanceLaunchRequested',
  'InstanceRunning',
  'InstanceRotationDue',
  'InstanceUnhealthy',
  'InstanceDraining',
  'InstanceTerminated',
];

/** An instance as folded from its stream: what the read model stores and ListInstances returns. */
export interface InstanceState extends InstanceSpec {
  readonly status: InstanceStatus;
  /** Why it is Unhealthy, Draining or Terminated. */
  readonly stateReason: string | undefined;
  /** The provider that launched it. */
  readonly provider: string;
  /** `host:port` of the agent's gRPC server; empty until Running. */
  readonly agentAddress: string;
  /** When the launch was requested (ISO 8601, the event's recorded time). */
  readonly launchedAt: string;
  /** When the last event was recorded (ISO 8601). */
  readonly updatedAt: string;
}

/** An instance event with what the store adds that the fold needs. */
export interface FoldableInstanceEvent {
  readonly type: string;
  readonly data: unknown;
  readonly streamId: string;
  readonly recordedAt: string;
}

/**
 * Applies one event to an instance's state (undefined before its first
 * event). Transitions are checked by the writer before it appends; the fold
 * only records them, so replaying the log never fails.
 */
export function evolveInstance(state: InstanceState | undefined, event: FoldableInstanceEvent): InstanceState | undefined {
  const known = event as FoldableInstanceEvent & InstanceEvent;
  switch (known.type) {
    case 'InstanceLaunchRequested': {
      const { provider, ...spec } = known.data;
      return {
        instanceId: event.streamId.slice(instanceCategory.length + 1),
        ...spec,
        provider,
        status: 'Pending',
        stateReason: undefined,
        agentAddress: '',
        launchedAt: event.recordedAt,
        updatedAt: event.recordedAt,
      };
    }
    case 'InstanceRunning':
      return state && { ...state, status: 'Running', agentAddress: known.data.agentAddress, updatedAt: event.recordedAt };
    case 'InstanceRotationDue':
      // Still Running and serving; only the stream version (kept by the read model) moves.
      return state && { ...state, updatedAt: event.recordedAt };
    case 'InstanceUnhealthy':
      return state && { ...state, status: 'Unhealthy', stateReason: known.data.reason, updatedAt: event.recordedAt };
    case 'InstanceDraining':
      return state && { ...state, status: 'Draining', stateReason: known.data.reason, updatedAt: event.recordedAt };
    case 'InstanceTerminated':
      return state && { ...state, status: 'Terminated', stateReason: known.data.reason, updatedAt: event.recordedAt };
    default:
      return state;
  }
}

/**
 * An instance as this process reports it: the folded state plus what only
 * the running process knows (not events: meaningless after a restart).
 */
export interface InstanceView extends InstanceState {
  /** Pid of the agent process while this process runs it (local provider); undefined otherwise. */
  readonly agentPid: number | undefined;
}
