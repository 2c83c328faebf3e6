import {
  capacityProviderEventTypes,
  evolveCapacityProvider,
  evolveFunction,
  functionEventTypes,
  initialCapacityProviderState,
  initialFunctionState,
  type CapacityProviderEvent,
  type CapacityProviderStreamState,
  type FunctionEvent,
  type FunctionStreamState,
} from '@hearth/domain';
import { aggregateTable, type AggregateTable } from '@hearth/event-store';

/** The api's read models: one row per capacity provider and one per function. */
export interface ApiReadModels {
  capacityProviders: AggregateTable<CapacityProviderStreamState>;
  functions: AggregateTable<FunctionStreamState>;
}

/** Creates the api's read models in `schema`; pass their projections to the event store. */
export function createReadModels(schema: string): ApiReadModels {
  return {
    capacityProviders: aggregateTable<CapacityProviderStreamState>({
      name: 'api_capacity_providers',
      schema,
      category: 'capacityProvider',
      handles: capacityProviderEventTypes,
      initialState: initialCapacityProviderState,
      evolve: (state, event) => evolveCapacityProvider(state, event as CapacityProviderEvent),
      isGone: (state) => state.status === 'Absent',
      columns: {
        arn: (state) => (state.status === 'Absent' ? null : state.CapacityProviderArn),
        status: (state) => state.status,
      },
    }),
    functions: aggregateTable<FunctionStreamState>({
      name: 'api_functions',
      schema,
      category: 'function',
      handles: functionEventTypes,
      initialState: initialFunctionState,
      evolve: (state, event) => evolveFunction(state, event as FunctionEvent),
      isGone: (state) => state.status === 'Absent',
      columns: {
        capacity_provider_arn: (state) =>
          state.status === 'Absent'
            ? null
            : state.configuration.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig.CapacityProviderArn,
      },
    }),
  };
}
