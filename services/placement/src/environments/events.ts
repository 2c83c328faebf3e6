/**
 * Events of an execution environment's stream (`environment:<id>`). Placement
 * is their single writer: it places an environment, asks the agent to start
 * it, and records the outcome.
 */

/** Where an environment runs and what it runs. */
export interface EnvironmentPlacement {
  functionName: string;
  version: string;
  /** The version's RevisionId whose snapshot this environment runs (`$LATEST.PUBLISHED` is republished in place). */
  revisionId: string;
  /** Qualified ARN of the version. */
  functionArn: string;
  capacityProviderArn: string;
  instanceId: string;
  zone: string;
  agentAddress: string;
  vcpus: number;
  memoryMib: number;
}

/** Every event of an environment stream. */
export type EnvironmentEvent =
  | { type: 'EnvironmentPlaced'; data: EnvironmentPlacement }
  | { type: 'EnvironmentReady'; data: { initDurationMs: number; maxConcurrency: number; runtimeApi: string } }
  | { type: 'EnvironmentFailed'; data: { reasonCode: string; reason: string } }
  | { type: 'EnvironmentStopped'; data: { reason: string } };

/** Every environment event type. */
export const environmentEventTypes: ReadonlyArray<EnvironmentEvent['type']> = [
  'EnvironmentPlaced',
  'EnvironmentReady',
  'EnvironmentFailed',
  'EnvironmentStopped',
];

/** Lifecycle of an environment as placement records it. */
export type EnvironmentStatus = 'Absent' | 'Starting' | 'Ready' | 'Failed' | 'Stopped';

/** The folded state of one environment. */
export interface EnvironmentState {
  status: EnvironmentStatus;
  placement?: EnvironmentPlacement;
  maxConcurrency?: number;
  reasonCode?: string;
  reason?: string;
}

/** The state of a stream that does not exist. */
export const initialEnvironmentState: EnvironmentState = Object.freeze({ status: 'Absent' });

/** Applies one event. */
export function evolveEnvironment(state: EnvironmentState, event: EnvironmentEvent): EnvironmentState {
  switch (event.type) {
    case 'EnvironmentPlaced':
      return { status: 'Starting', placement: event.data };
    case 'EnvironmentReady':
      return { ...state, status: 'Ready', maxConcurrency: event.data.maxConcurrency };
    case 'EnvironmentFailed':
      return { ...state, status: 'Failed', reasonCode: event.data.reasonCode, reason: event.data.reason };
    case 'EnvironmentStopped':
      return { ...state, status: 'Stopped', reason: event.data.reason };
    default:
      return state;
  }
}

/** Stream id of an environment. */
export function environmentStreamId(environmentId: string): string {
  return `environment:${environmentId}`;
}
