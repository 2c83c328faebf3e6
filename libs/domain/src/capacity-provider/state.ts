/** The state of one capacity provider, folded from its stream. */
import type { CapacityProviderEvent } from './events.js';
import type { CapacityProviderState } from './shapes.js';
import type { CapacityProviderDefinition } from './validate.js';

/** No provider by this name: never created, or deleted (the name is free). */
export interface AbsentCapacityProvider {
  readonly status: 'Absent';
}

/** A provider that exists, in one of Lambda's states. */
export interface ExistingCapacityProvider {
  readonly status: CapacityProviderState;
  readonly definition: CapacityProviderDefinition;
  readonly CapacityProviderArn: string;
  readonly LastModified: string;
  /** Why creation failed; set only in state Failed. */
  readonly stateReason?: string;
}

/** What {@link evolveCapacityProvider} folds: absent or existing. */
export type CapacityProviderStreamState = AbsentCapacityProvider | ExistingCapacityProvider;

/** The state of an empty stream. */
export const initialCapacityProviderState: CapacityProviderStreamState = Object.freeze({ status: 'Absent' });

/** True when the provider exists (in any of Pending, Active, Failed, Deleting). */
export function capacityProviderExists(state: CapacityProviderStreamState): state is ExistingCapacityProvider {
  return state.status !== 'Absent';
}

/** Applies one event. Events that do not fit the state (a replay bug) leave it as it was. */
export function evolveCapacityProvider(state: CapacityProviderStreamState, event: CapacityProviderEvent): CapacityProviderStreamState {
  if (event.type === 'CapacityProviderCreated') {
    return {
      status: 'Pending',
      definition: event.data.CapacityProvider,
      CapacityProviderArn: event.data.CapacityProviderArn,
      LastModified: event.data.LastModified,
    };
  }
  if (!capacityProviderExists(state)) return state;
  switch (event.type) {
    case 'CapacityProviderActivated':
      return { ...withoutReason(state), status: 'Active', LastModified: event.data.LastModified };
    case 'CapacityProviderFailed':
      return { ...state, status: 'Failed', stateReason: event.data.reason, LastModified: event.data.LastModified };
    case 'CapacityProviderUpdated':
      return { ...state, definition: { ...state.definition, ...event.data.changes }, LastModified: event.data.LastModified };
    case 'CapacityProviderDeletionStarted':
      return { ...state, status: 'Deleting', LastModified: event.data.LastModified };
    case 'CapacityProviderDeleted':
      return initialCapacityProviderState;
    default:
      return state;
  }
}

function withoutReason(state: ExistingCapacityProvider): ExistingCapacityProvider {
  const { stateReason: _dropped, ...rest } = state;
  return rest;
}

/** Folds events from the initial state. */
export function foldCapacityProvider(events: readonly CapacityProviderEvent[]): CapacityProviderStreamState {
  return events.reduce(evolveCapacityProvider, initialCapacityProviderState);
}
