import type postgres from 'postgres';
import { InvalidParameterValueException } from '@hearth/errors';
import {
  desiredEnvironmentsOf,
  getFunctionScalingConfigView,
  scalingConfigTarget,
  type GetFunctionScalingConfigRequest,
  type GetFunctionScalingConfigResponse,
  type PutFunctionScalingConfigRequest,
  type VersionScalingReport,
  type PutFunctionScalingConfigResponse,
  decideFunctionResult,
  foldFunction,
  functionVersionsOnCapacityProvider,
  listVersionsByFunction,
  listedFunctionConfigurations,
  publishedVersions,
  publishedVersionsOnCapacityProvider,
  resolveFunctionVersion,
  versionInProgress,
  type ExistingFunction,
  type ListVersionsByFunctionRequest,
  type ListVersionsByFunctionResponse,
  type ManagedInstancesReasonCode,
  type PublishVersionRequest,
  functionConfigurationView,
  functionStreamId,
  getFunctionView,
  listFunctions,
  parseCapacityProviderArn,
  requireFunction,
  resolveFunctionName,
  capacityProviderArnOf,
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
  PublishVersion(input: PublishVersionRequest): Promise<FunctionConfiguration>;
  ListVersionsByFunction(input: ListVersionsByFunctionRequest): Promise<ListVersionsByFunctionResponse>;
  /** Records a version's scaling config; 0/0 deactivates it, a non-zero config reactivates a Deactivated one. HTTP 202. */
  PutFunctionScalingConfig(input: PutFunctionScalingConfigRequest): Promise<PutFunctionScalingConfigResponse>;
  /** A version's Applied (and, until converged, Requested) scaling config. */
  GetFunctionScalingConfig(input: GetFunctionScalingConfigRequest): Promise<GetFunctionScalingConfigResponse>;
  /** A fleet workflow made the version's environments Ready. Idempotent. */
  activateVersion(functionName: string, version: string, revisionId?: string): Promise<string>;
  /** A fleet workflow could not make the version real capacity. Idempotent. */
  failVersion(functionName: string, version: string, reasonCode: string, reason: string, revisionId?: string): Promise<string>;
  /** A teardown workflow stopped every environment of a version (or of the whole function). */
  completeTeardown(functionName: string, version?: string): Promise<string>;
  /** The scaler's report on an Active version: Applied once converged, the capacity-limit reason. Idempotent. */
  reportVersionScaling(functionName: string, report: VersionScalingReport): Promise<string>;
  /**
   * Restarts the fleet work the log says is unfinished — versions Pending or
   * updating, functions or versions Deleting — so a crash or an unreachable
   * workflow engine delays a publish but never strands it. Never rejects.
   */
  settleFleetWork(): Promise<void>;
}

/** The teardown reason of a deactivation (PutFunctionScalingConfig with min = max = 0). */
export const deactivationReason = 'deactivated';

/** The published versions a capacity provider carries, across functions (for the quota). */
function versionsCarriedBy(functions: readonly ExistingFunction[], capacityProviderArn: string | undefined): number {
  if (capacityProviderArn === undefined) return 0;
  return functions.reduce((count, fn) => count + publishedVersionsOnCapacityProvider(fn, capacityProviderArn).length, 0);
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
  const { store, readModels, codeStore, fleet, logger } = deps;
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

  const allFunctions = async (sql: Sql): Promise<ExistingFunction[]> => {
    const rows = await sql.unsafe<{ state: FunctionStreamState }[]>(`SELECT state FROM ${readModels.functions.table}`);
    return rows.flatMap(({ state }) => (state.status === 'Absent' ? [] : [state]));
  };

  /** The command with the exact quota count and provider state, as read from `sql`. */
  const withExactInputs = async (sql: Sql, command: FunctionCommand, providerArn: unknown): Promise<FunctionCommand> => {
    const data: Record<string, unknown> = { ...command.data };
    if ('capacityProvider' in data || providerArn !== undefined) data.capacityProvider = await providerByArn(sql, providerArn);
    if ('functionVersionCount' in data) {
      data.functionVersionCount = versionsCarriedBy(await allFunctions(sql), typeof providerArn === 'string' ? providerArn : undefined);
    }
    return { ...command, data } as FunctionCommand;
  };

  /**
   * Runs a function command and returns the state after it and the version the
   * response shows. When the command depends on a capacity provider or the
   * version quota, both are read again inside the append transaction and the
   * command decided again, so a provider deleted or a quota filled meanwhile refuses it.
   */
  const execute = async (
    name: string,
    command: FunctionCommand,
    options: { providerArn?: unknown; store?: CheckedCodePackage } = {},
  ) => {
    let decidedOn: FunctionStreamState = { status: 'Absent' };
    let version: string | undefined;
    const outcome = await runCommand<FunctionStreamState, FunctionEvent>(store, {
      streamId: functionStreamId(name),
      fold: foldFunction,
      decide(state) {
        decidedOn = state;
        const decision = decideFunctionResult(command, state, domainContext(deps));
        version = decision.version;
        return decision.events;
      },
      ...(options.providerArn === undefined && !('functionVersionCount' in command.data)
        ? {}
        : {
            async precondition(tx) {
              decideFunctionResult(await withExactInputs(tx, command, options.providerArn), decidedOn, domainContext(deps));
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
    const last = outcome.appended.at(-1);
    if (last !== undefined) deps.functionAppended?.(name, outcome.state, last.streamVersion);
    await startFleetWork(name, outcome.state, outcome.appended.map((event) => event as unknown as FunctionEvent));
    return { state: outcome.state, version };
  };

  /**
   * The publish workflow of a version as it is in `state`: its environments
   * number the version's MinExecutionEnvironments (default 3). None for a
   * version that is gone or deactivated (min = max = 0 never publishes).
   */
  const publishOf = (functionName: string, state: FunctionStreamState, version: string) => {
    const record = state.status === 'Absent' ? undefined : state.versions?.[version];
    if (record === undefined || record.State === 'Deactivating' || record.State === 'Deactivated') return undefined;
    const desiredEnvironments = desiredEnvironmentsOf(record);
    if (desiredEnvironments === 0) return undefined;
    return fleet.startPublish({ version: { functionName, version, revisionId: record.RevisionId }, desiredEnvironments });
  };

  const deactivationOf = (functionName: string, version: string) =>
    fleet.startTeardown({ functionName, version, reason: deactivationReason });

  /** Starts the workflows the appended events call for; a failure to start is retried by settleFleetWork. */
  const startFleetWork = async (functionName: string, state: FunctionStreamState, events: readonly FunctionEvent[]) => {
    for (const event of events) {
      const start =
        event.type === 'FunctionVersionPublished' || event.type === 'FunctionVersionReactivationStarted'
          ? publishOf(functionName, state, event.data.Version)
          : event.type === 'FunctionVersionDeletionStarted'
            ? fleet.startTeardown({ functionName, version: event.data.Version, reason: `version ${event.data.Version} deleted` })
            : event.type === 'FunctionDeletionStarted'
              ? fleet.startTeardown({ functionName, reason: 'function deleted' })
              : event.type === 'FunctionVersionDeactivationStarted'
                ? deactivationOf(functionName, event.data.Version)
                : undefined;
      await start?.catch((error: unknown) =>
        logger.warn({ err: error, functionName, event: event.type }, 'fleet workflow not started yet; the next settle pass retries'),
      );
    }
  };

  const viewOf = (state: FunctionStreamState, name: string, version: string | undefined) =>
    functionConfigurationView(requireFunction(state, name, undefined, scope), version === undefined ? {} : { Version: version });

  const resolve = async (input: GetFunctionRequest) => {
    const parts = resolveFunctionName(input?.FunctionName, input?.Qualifier, scope);
    return resolveFunctionVersion(await functionState(parts.name), input.FunctionName, input.Qualifier, scope);
  };

  const lifecycle = async (name: string, command: FunctionCommand, version?: string): Promise<string> => {
    const { state } = await execute(name, command);
    if (state.status === 'Absent') return 'Deleted';
    if (version === undefined) return state.status;
    return state.versions?.[version]?.State ?? 'Deleted';
  };

  let settling: Promise<void> = Promise.resolve();
  const settlePass = async () => {
    for (const fn of await allFunctions(store.sql)) {
      const functionName = fn.configuration.FunctionName;
      if (fn.status === 'Deleting') {
        await fleet.startTeardown({ functionName, reason: 'function deleted' });
        continue;
      }
      for (const version of publishedVersions(fn)) {
        if (version.State === 'Deleting') {
          await fleet.startTeardown({ functionName, version: version.Version, reason: `version ${version.Version} deleted` });
        } else if (version.State === 'Deactivating') {
          await deactivationOf(functionName, version.Version);
        } else if (versionInProgress(version)) {
          // Publishes and reactivations alike.
          await publishOf(functionName, fn, version.Version);
        }
      }
    }
  };

  return {
    async CreateFunction(input) {
      const parts = resolveFunctionName(input?.FunctionName, undefined, scope);
      const providerArn = input.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig?.CapacityProviderArn;
      const capacityProvider = await providerByArn(store.sql, providerArn);
      const checked = packageOf(input.Code ?? {}, 'Code.');
      const request = { ...input, Code: { ...input.Code, ZipFile: undefined } } as CreateFunctionRequest;
      const functionVersionCount = versionsCarriedBy(await allFunctions(store.sql), typeof providerArn === 'string' ? providerArn : undefined);
      const command: FunctionCommand = { type: 'CreateFunction', data: { request, code: codeRefOf(checked), capacityProvider, functionVersionCount } };
      const { state, version } = await execute(parts.name, command, { providerArn, store: checked });
      return viewOf(state, parts.name, version);
    },

    async GetFunction(input) {
      const { fn, Version, qualifiedArn } = await resolve(input);
      return getFunctionView(fn, { codeBaseUrl: deps.codeBaseUrl }, { Version, qualifiedArn });
    },

    async GetFunctionConfiguration(input) {
      const { fn, Version, qualifiedArn } = await resolve(input);
      return functionConfigurationView(fn, { Version, qualifiedArn });
    },

    async UpdateFunctionCode(input) {
      const parts = resolveFunctionName(input?.FunctionName, undefined, scope);
      const checked = packageOf(input, '');
      const current = await functionState(parts.name);
      const providerArn = current.status === 'Absent' ? undefined : capacityProviderArnOf(current.configuration);
      const capacityProvider = await providerByArn(store.sql, providerArn);
      const functions = await allFunctions(store.sql);
      const request = { ...input, ZipFile: undefined } as UpdateFunctionCodeRequest;
      const command: FunctionCommand = {
        type: 'UpdateFunctionCode',
        data: {
          request,
          code: codeRefOf(checked),
          ...(capacityProvider ? { capacityProvider } : {}),
          functionVersionCount: versionsCarriedBy(functions, providerArn),
        },
      };
      const { state, version } = await execute(parts.name, command, { ...(providerArn ? { providerArn } : {}), store: checked });
      return viewOf(state, parts.name, version);
    },

    async UpdateFunctionConfiguration(input) {
      const parts = resolveFunctionName(input?.FunctionName, undefined, scope);
      const providerArn = input.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig?.CapacityProviderArn;
      const capacityProvider = await providerByArn(store.sql, providerArn);
      const command: FunctionCommand = {
        type: 'UpdateFunctionConfiguration',
        data: { request: input, ...(capacityProvider ? { capacityProvider } : {}) },
      };
      const { state } = await execute(parts.name, command, providerArn === undefined ? {} : { providerArn });
      return viewOf(state, parts.name, undefined);
    },

    async PublishVersion(input) {
      const parts = resolveFunctionName(input?.FunctionName, undefined, scope);
      const current = await functionState(parts.name);
      const providerArn = current.status === 'Absent' ? undefined : capacityProviderArnOf(current.configuration);
      const command: FunctionCommand = {
        type: 'PublishVersion',
        data: {
          request: input,
          capacityProvider: await providerByArn(store.sql, providerArn),
          functionVersionCount: versionsCarriedBy(await allFunctions(store.sql), providerArn),
        },
      };
      const { state, version } = await execute(parts.name, command, providerArn === undefined ? {} : { providerArn });
      return viewOf(state, parts.name, version);
    },

    async ListVersionsByFunction(input) {
      const parts = resolveFunctionName(input?.FunctionName, undefined, scope);
      return listVersionsByFunction(requireFunction(await functionState(parts.name), input.FunctionName, undefined, scope), input);
    },

    async DeleteFunction(input) {
      const parts = resolveFunctionName(input?.FunctionName, input?.Qualifier, scope);
      const { state } = await execute(parts.name, { type: 'DeleteFunction', data: { request: input } });
      // With execution environments to stop, the deletion finishes in a workflow: 202 as LMI answers.
      const asynchronous = state.status === 'Deleting' || (parts.qualifier !== undefined && state.status !== 'Absent' && state.versions?.[parts.qualifier] !== undefined);
      return { StatusCode: asynchronous ? 202 : 204 };
    },

    async ListFunctions(input) {
      const all = input?.FunctionVersion === 'ALL' ? 'ALL' : undefined;
      const views = (await allFunctions(store.sql)).flatMap((fn) => listedFunctionConfigurations(fn, all));
      return listFunctions(views, input ?? {});
    },

    codePackage: (sha256Hex) => codeStore.get(sha256Hex),

    async PutFunctionScalingConfig(input) {
      const target = scalingConfigTarget(input, scope);
      const { state } = await execute(target.name, { type: 'PutFunctionScalingConfig', data: { request: input } });
      const record = state.status === 'Absent' ? undefined : state.versions?.[target.Qualifier];
      return { FunctionState: record?.State ?? 'Deleted' };
    },

    async GetFunctionScalingConfig(input) {
      const target = scalingConfigTarget(input, scope);
      return getFunctionScalingConfigView(await functionState(target.name), input, scope);
    },

    activateVersion: (functionName, version, revisionId) =>
      lifecycle(
        functionName,
        { type: 'ActivateVersion', data: { FunctionName: functionName, Version: version, ...(revisionId ? { RevisionId: revisionId } : {}) } },
        version,
      ),

    failVersion: (functionName, version, reasonCode, reason, revisionId) =>
      lifecycle(
        functionName,
        {
          type: 'FailVersion',
          data: {
            FunctionName: functionName,
            Version: version,
            StateReasonCode: reasonCode as ManagedInstancesReasonCode,
            StateReason: reason,
            ...(revisionId ? { RevisionId: revisionId } : {}),
          },
        },
        version,
      ),

    completeTeardown: (functionName, version) =>
      version === undefined
        ? lifecycle(functionName, { type: 'CompleteFunctionDeletion', data: { FunctionName: functionName } })
        : lifecycle(functionName, { type: 'CompleteVersionDeletion', data: { FunctionName: functionName, Version: version } }, version),

    reportVersionScaling: (functionName, report) =>
      lifecycle(functionName, { type: 'ReportVersionScaling', data: { FunctionName: functionName, ...report } }, report.Version),

    settleFleetWork() {
      settling = settling.then(settlePass).catch((error: unknown) => {
        logger.warn({ err: error }, 'fleet work pass failed; retried on the next pass');
      });
      return settling;
    },
  };
}

