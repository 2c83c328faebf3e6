import type postgres from 'postgres';
import { InvalidParameterValueException } from '@hearth/errors';
import {
  decideFunction,
  foldFunction,
  functionConfigurationView,
  functionStreamId,
  getFunctionView,
  listFunctions,
  parseCapacityProviderArn,
  requireFunction,
  resolveFunctionName,
  type CapacityProviderStreamState,
  type CodeRef,
  type CreateFunctionRequest,
  type DeleteFunctionRequest,
  type FunctionCommand,
  type FunctionConfiguration,
  type FunctionEvent,
  type FunctionStreamState,
  type GetFunctionRequest,
  type GetFunctionResponse,
  type ListFunctionsRequest,
  type ListFunctionsResponse,
  type UpdateFunctionCodeRequest,
  type UpdateFunctionConfigurationRequest,
} from '@hearth/domain';
import { checkCodePackage, type CheckedCodePackage } from '../code-package.js';
import { domainContext, scopeOf, type ControlPlaneDeps } from './context.js';
import { runCommand } from './run-command.js';

type Sql = postgres.Sql | postgres.TransactionSql;

/** A zip package: base64 text on the JSON wire, raw bytes over gRPC. */
export type ZipPackage = string | Uint8Array;

/** CreateFunction's input as both surfaces deliver it. */
export type CreateFunctionInput = Omit<CreateFunctionRequest, 'Code'> & {
  Code?: Omit<NonNullable<CreateFunctionRequest['Code']>, 'ZipFile'> & { ZipFile?: ZipPackage };
};

/** UpdateFunctionCode's input as both surfaces deliver it. */
export type UpdateFunctionCodeInput = Omit<UpdateFunctionCodeRequest, 'ZipFile'> & { ZipFile?: ZipPackage };

/** Function operations, shared by the gRPC and HTTP surfaces. */
export interface FunctionOperations {
  CreateFunction(input: CreateFunctionInput): Promise<FunctionConfiguration>;
  GetFunction(input: GetFunctionRequest): Promise<GetFunctionResponse>;
  GetFunctionConfiguration(input: GetFunctionRequest): Promise<FunctionConfiguration>;
  UpdateFunctionCode(input: UpdateFunctionCodeInput): Promise<FunctionConfiguration>;
  UpdateFunctionConfiguration(input: UpdateFunctionConfigurationRequest): Promise<FunctionConfiguration>;
  DeleteFunction(input: DeleteFunctionRequest): Promise<{ StatusCode: number }>;
  ListFunctions(input: ListFunctionsRequest): Promise<ListFunctionsResponse>;
  /** The bytes of a stored package, for `Code.Location` downloads. */
  codePackage(sha256Hex: string): Promise<Uint8Array | undefined>;
}

const sourcesHearthCannotFetch = ['S3Bucket', 'S3Key', 'S3ObjectVersion', 'ImageUri'] as const;

/** The package of a request: checked bytes, or an error naming what Hearth accepts. */
function packageOf(code: { ZipFile?: ZipPackage } & Partial<Record<(typeof sourcesHearthCannotFetch)[number], unknown>>, path: string): CheckedCodePackage {
  const other = sourcesHearthCannotFetch.find((member) => code[member] !== undefined && code[member] !== '');
  if (other !== undefined) {
    throw new InvalidParameterValueException(
      `${path}${other} is not supported: Hearth stores packages itself (allowed: ${path}ZipFile with the .zip package)`,
    );
  }
  if (code.ZipFile === undefined || code.ZipFile === '') {
    throw new InvalidParameterValueException(`${path}ZipFile is required (allowed: a .zip package, base64-encoded in JSON)`);
  }
  const bytes = typeof code.ZipFile === 'string' ? Buffer.from(code.ZipFile, 'base64') : code.ZipFile;
  return checkCodePackage(bytes);
}

function codeRefOf(checked: CheckedCodePackage): CodeRef {
  return { sha256Hex: checked.sha256Hex, CodeSha256: checked.codeSha256, CodeSize: checked.codeSize };
}

/** Creates the function operations. */
export function functionOperations(deps: ControlPlaneDeps): FunctionOperations {
  const { store, readModels, codeStore } = deps;
  const scope = scopeOf(deps);

  /** The state of the provider an ARN names, read from `sql`; undefined when the ARN is absent or malformed. */
  const providerByArn = async (sql: Sql, arn: unknown): Promise<CapacityProviderStreamState | undefined> => {
    if (typeof arn !== 'string') return undefined;
    const parts = parseCapacityProviderArn(arn);
    if (!parts) return undefined;
    return (await readModels.capacityProviders.get(sql, parts.name))?.state ?? { status: 'Absent' };
  };

  const functionState = async (name: string): Promise<FunctionStreamState> =>
    (await readModels.functions.get(store.sql, name))?.state ?? { status: 'Absent' };

  /**
   * Runs a function command. When it depends on a capacity provider, the
   * provider is read again inside the append transaction and the command
   * decided again if it changed, so a provider deleted meanwhile refuses it.
   */
  const execute = async (
    name: string,
    command: FunctionCommand,
    options: { providerArn?: unknown; store?: CheckedCodePackage } = {},
  ) => {
    let decidedOn: FunctionStreamState = { status: 'Absent' };
    return runCommand<FunctionStreamState, FunctionEvent>(store, {
      streamId: functionStreamId(name),
      fold: foldFunction,
      decide(state) {
        decidedOn = state;
        return decideFunction(command, state, domainContext(deps));
      },
      ...(options.providerArn === undefined
        ? {}
        : {
            async precondition(tx) {
              const fresh = await providerByArn(tx, options.providerArn);
              const seen = 'capacityProvider' in command.data ? command.data.capacityProvider : undefined;
              if (fresh?.status !== seen?.status) {
                decideFunction({ ...command, data: { ...command.data, capacityProvider: fresh } } as FunctionCommand, decidedOn, domainContext(deps));
              }
            },
          }),
      ...(options.store === undefined
        ? {}
        : {
            async beforeAppend() {
              await codeStore.put(options.store!.bytes);
            },
          }),
    });
  };

  const requireExisting = async (input: GetFunctionRequest) => {
    const parts = resolveFunctionName(input?.FunctionName, input?.Qualifier, scope);
    return requireFunction(await functionState(parts.name), input.FunctionName, input.Qualifier, scope);
  };

  return {
    async CreateFunction(input) {
      const parts = resolveFunctionName(input?.FunctionName, undefined, scope);
      const providerArn = input.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig?.CapacityProviderArn;
      const capacityProvider = await providerByArn(store.sql, providerArn);
      const checked = packageOf(input.Code ?? {}, 'Code.');
      const request = { ...input, Code: { ...input.Code, ZipFile: undefined } } as CreateFunctionRequest;
      const command: FunctionCommand = { type: 'CreateFunction', data: { request, code: codeRefOf(checked), capacityProvider } };
      const outcome = await execute(parts.name, command, { providerArn, store: checked });
      return functionConfigurationView(requireFunction(outcome.state, parts.name, undefined, scope));
    },

    async GetFunction(input) {
      return getFunctionView(await requireExisting(input), { codeBaseUrl: deps.codeBaseUrl });
    },

    async GetFunctionConfiguration(input) {
      return functionConfigurationView(await requireExisting(input));
    },

    async UpdateFunctionCode(input) {
      const parts = resolveFunctionName(input?.FunctionName, undefined, scope);
      const checked = packageOf(input, '');
      const current = await functionState(parts.name);
      const providerArn =
        current.status === 'Absent' || input.Architectures === undefined
          ? undefined
          : current.configuration.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig.CapacityProviderArn;
      const capacityProvider = await providerByArn(store.sql, providerArn);
      const request = { ...input, ZipFile: undefined } as UpdateFunctionCodeRequest;
      const command: FunctionCommand = {
        type: 'UpdateFunctionCode',
        data: { request, code: codeRefOf(checked), ...(capacityProvider ? { capacityProvider } : {}) },
      };
      const outcome = await execute(parts.name, command, { ...(providerArn ? { providerArn } : {}), store: checked });
      return functionConfigurationView(requireFunction(outcome.state, parts.name, undefined, scope));
    },

    async UpdateFunctionConfiguration(input) {
      const parts = resolveFunctionName(input?.FunctionName, undefined, scope);
      const providerArn = input.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig?.CapacityProviderArn;
      const capacityProvider = await providerByArn(store.sql, providerArn);
      const command: FunctionCommand = {
        type: 'UpdateFunctionConfiguration',
        data: { request: input, ...(capacityProvider ? { capacityProvider } : {}) },
      };
      const outcome = await execute(parts.name, command, providerArn === undefined ? {} : { providerArn });
      return functionConfigurationView(requireFunction(outcome.state, parts.name, undefined, scope));
    },

    async DeleteFunction(input) {
      const parts = resolveFunctionName(input?.FunctionName, input?.Qualifier, scope);
      await execute(parts.name, { type: 'DeleteFunction', data: { request: input } });
      // No execution environments exist before publishing (issue #3), so nothing is left to tear down.
      return { StatusCode: 204 };
    },

    async ListFunctions(input) {
      const rows = await store.sql.unsafe<{ state: FunctionStreamState }[]>(`SELECT state FROM ${readModels.functions.table}`);
      const views = rows.flatMap(({ state }) => (state.status === 'Absent' ? [] : [functionConfigurationView(state)]));
      return listFunctions(views, input ?? {});
    },

    codePackage: (sha256Hex) => codeStore.get(sha256Hex),
  };
}
