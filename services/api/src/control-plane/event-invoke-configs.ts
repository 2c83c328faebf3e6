import {
  decideFunction,
  destinationFunctionNames,
  foldFunction,
  functionStreamId,
  getEventInvokeConfigView,
  listFunctionEventInvokeConfigs,
  resolveFunctionName,
  type FunctionCommand,
  type FunctionEvent,
  type FunctionEventInvokeConfig,
  type FunctionEventInvokeConfigRequest,
  type FunctionStreamState,
  type ListFunctionEventInvokeConfigsRequest,
  type ListFunctionEventInvokeConfigsResponse,
  type PutFunctionEventInvokeConfigRequest,
} from '@hearth/domain';
import { domainContext, scopeOf, type ControlPlaneDeps } from './context.js';
import { runCommand } from './run-command.js';

/** Asynchronous invocation settings (Put/Get/Update/Delete/ListFunctionEventInvokeConfigs), shared by the gRPC and HTTP surfaces. */
export interface EventInvokeConfigOperations {
  PutFunctionEventInvokeConfig(input: PutFunctionEventInvokeConfigRequest): Promise<FunctionEventInvokeConfig>;
  UpdateFunctionEventInvokeConfig(input: PutFunctionEventInvokeConfigRequest): Promise<FunctionEventInvokeConfig>;
  GetFunctionEventInvokeConfig(input: FunctionEventInvokeConfigRequest): Promise<FunctionEventInvokeConfig>;
  /** Answers nothing (HTTP 204). */
  DeleteFunctionEventInvokeConfig(input: FunctionEventInvokeConfigRequest): Promise<void>;
  ListFunctionEventInvokeConfigs(input: ListFunctionEventInvokeConfigsRequest): Promise<ListFunctionEventInvokeConfigsResponse>;
}

/** Creates the operations. Configurations are events of the function's stream, so they fold into the same state. */
export function eventInvokeConfigOperations(deps: ControlPlaneDeps): EventInvokeConfigOperations {
  const { store, readModels } = deps;
  const scope = scopeOf(deps);

  const stateOf = async (name: string): Promise<FunctionStreamState> => (await readModels.functions.get(store.sql, name))?.state ?? { status: 'Absent' };

  const execute = async (name: string, command: FunctionCommand): Promise<FunctionStreamState> => {
    const outcome = await runCommand<FunctionStreamState, FunctionEvent>(store, {
      streamId: functionStreamId(name),
      fold: foldFunction,
      decide: (state) => decideFunction(command, state, domainContext(deps)),
    });
    const last = outcome.appended.at(-1);
    if (last !== undefined) deps.functionAppended?.(name, outcome.state, last.streamVersion);
    return outcome.state;
  };

  /** Whether each function a destination names exists now (a later deletion is met at delivery, where it is logged). */
  const destinationFacts = async (input: unknown) => {
    const names = destinationFunctionNames(input);
    const states = await Promise.all(names.map(async (name) => [name, (await stateOf(name)).status !== 'Absent'] as const));
    return {
      destinationFunctions: Object.fromEntries(states),
      ...(deps.natsPrefix === undefined ? {} : { reservedSubjectPrefixes: [deps.natsPrefix] }),
    };
  };

  const change = async (type: 'PutFunctionEventInvokeConfig' | 'UpdateFunctionEventInvokeConfig', input: PutFunctionEventInvokeConfigRequest) => {
    const { name } = resolveFunctionName(input?.FunctionName, input?.Qualifier, scope);
    const state = await execute(name, { type, data: { request: input, ...(await destinationFacts(input)) } });
    return getEventInvokeConfigView(state, input, scope);
  };

  return {
    PutFunctionEventInvokeConfig: (input) => change('PutFunctionEventInvokeConfig', input),
    UpdateFunctionEventInvokeConfig: (input) => change('UpdateFunctionEventInvokeConfig', input),

    async GetFunctionEventInvokeConfig(input) {
      const { name } = resolveFunctionName(input?.FunctionName, input?.Qualifier, scope);
      return getEventInvokeConfigView(await stateOf(name), input, scope);
    },

    async DeleteFunctionEventInvokeConfig(input) {
      const { name } = resolveFunctionName(input?.FunctionName, input?.Qualifier, scope);
      await execute(name, { type: 'DeleteFunctionEventInvokeConfig', data: { request: input } });
    },

    async ListFunctionEventInvokeConfigs(input) {
      const { name } = resolveFunctionName(input?.FunctionName, undefined, scope);
      return listFunctionEventInvokeConfigs(await stateOf(name), input, scope);
    },
  };
}
