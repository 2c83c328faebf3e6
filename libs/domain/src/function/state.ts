/** The state of one function, folded from its stream. */
import type { Tags } from '../tags.js';
import type { FunctionEvent } from './events.js';
import type { LastUpdateStatus, State } from './shapes.js';
import type { CodeRef, FunctionDefinition } from './validate.js';

/** No function by this name: never created, or deleted (the name is free). */
export interface AbsentFunction {
  readonly status: 'Absent';
}

/** A function that exists, with its `$LATEST` configuration. */
export interface ExistingFunction {
  readonly status: 'Present';
  readonly configuration: FunctionDefinition;
  readonly code: CodeRef;
  readonly Tags: Tags;
  readonly RevisionId: string;
  readonly LastModified: string;
}

/** What {@link evolveFunction} folds: absent or existing. */
export type FunctionStreamState = AbsentFunction | ExistingFunction;

/** The state of an empty stream. */
export const initialFunctionState: FunctionStreamState = Object.freeze({ status: 'Absent' });

/**
 * State of `$LATEST` of a Lambda Managed Instances function: it is never
 * invoked (invocations go to published versions), so it is ActiveNonInvocable,
 * and its updates take effect at once (spec §2).
 */
export const latestVersionStatus: Readonly<{ State: State; LastUpdateStatus: LastUpdateStatus }> = Object.freeze({
  State: 'ActiveNonInvocable',
  LastUpdateStatus: 'Successful',
});

/** True when the function exists. */
export function functionExists(state: FunctionStreamState): state is ExistingFunction {
  return state.status === 'Present';
}

/** Applies one event. Events that do not fit the state (a replay bug) leave it as it was. */
export function evolveFunction(state: FunctionStreamState, event: FunctionEvent): FunctionStreamState {
  if (event.type === 'FunctionCreated') {
    return {
      status: 'Present',
      configuration: event.data.configuration,
      code: event.data.code,
      Tags: event.data.Tags,
      RevisionId: event.data.RevisionId,
      LastModified: event.data.LastModified,
    };
  }
  if (!functionExists(state)) return state;
  switch (event.type) {
    case 'FunctionCodeUpdated':
      return {
        ...state,
        configuration: { ...state.configuration, Architectures: event.data.Architectures },
        code: event.data.code,
        RevisionId: event.data.RevisionId,
        LastModified: event.data.LastModified,
      };
    case 'FunctionConfigurationUpdated':
      return {
        ...state,
        configuration: { ...state.configuration, ...event.data.changes },
        RevisionId: event.data.RevisionId,
        LastModified: event.data.LastModified,
      };
    case 'FunctionDeleted':
      return initialFunctionState;
    default:
      return state;
  }
}

/** Folds events from the initial state. */
export function foldFunction(events: readonly FunctionEvent[]): FunctionStreamState {
  return events.reduce(evolveFunction, initialFunctionState);
}
