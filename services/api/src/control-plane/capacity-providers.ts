import type postgres from 'postgres';
import {
  capacityProviderStreamId,
  capacityProviderView,
  decideCapacityProvider,
  foldCapacityProvider,
  functionVersionsOnCapacityProvider,
  type FunctionStreamState,
  listCapacityProviders,
  listFunctionVersionsByCapacityProvider,
  parseCapacityProviderName,
  requireCapacityProvider,
  type CapacityProvider,
  type CapacityProviderCommand,
  type CapacityProviderEvent,
  type CapacityProviderStreamState,
  type CreateCapacityProviderRequest,
  type ListCapacityProvidersRequest,
  type ListCapacityProvidersResponse,
  type ListFunctionVersionsByCapacityProviderRequest,
  type ListFunctionVersionsByCapacityProviderResponse,
  type UpdateCapacityProviderRequest,
} from '@hearth/domain';
import { domainContext, scopeOf, type ControlPlaneDeps } from './context.js';
import { runCommand } from './run-command.js';

type Sql = postgres.Sql | postgres.TransactionSql;

/** Capacity provider operations, shared by the gRPC and HTTP surfaces. */
export interface CapacityProviderOperations {
  CreateCapacityProvider(input: CreateCapacityProviderRequest): Promise<{ CapacityProvider: CapacityProvider }>;
  GetCapacityProvider(input: { CapacityProviderName: string }): Promise<{ CapacityProvider: CapacityProvider }>;
  UpdateCapacityProvider(input: UpdateCapacityProviderRequest): Promise<{ CapacityProvider: CapacityProvider }>;
  DeleteCapacityProvider(input: { CapacityProviderName: string }): Promise<{ CapacityProvider: CapacityProvider }>;
  ListCapacityProviders(input: ListCapacityProvidersRequest): Promise<ListCapacityProvidersResponse>;
  ListFunctionVersionsByCapacityProvider(
    input: ListFunctionVersionsByCapacityProviderRequest,
  ): Promise<ListFunctionVersionsByCapacityProviderResponse>;
  /**
   * Moves providers through the states that need no fleet work yet: Pending →
   * Active, Deleting → deleted. Runs after each create and delete, at start and
   * then periodically (see the api's main), so neither a crash between the two
   * steps nor a failed step leaves a provider stuck. Never rejects.
   */
  settleLifecycles(): Promise<void>;
}

/** Creates the capacity provider operations. */
export function capacityProviderOperations(deps: ControlPlaneDeps): CapacityProviderOperations {
  const { store, readModels, logger } = deps;
  const providers = readModels.capacityProviders;
  const scope = scopeOf(deps);

  const execute = (name: string, command: CapacityProviderCommand, precondition?: (tx: postgres.TransactionSql) => Promise<void>) =>
    runCommand<CapacityProviderStreamState, CapacityProviderEvent>(store, {
      streamId: capacityProviderStreamId(name),
      fold: foldCapacityProvider,
      decide: (state) => decideCapacityProvider(command, state, domainContext(deps)),
      ...(precondition ? { precondition } : {}),
    });

  const countProviders = async (sql: Sql) => Number((await sql.unsafe<{ n: string }[]>(`SELECT count(*) AS n FROM ${providers.table}`))[0]!.n);

  /** Every function version on the provider ($LATEST where it runs, published versions where they were published). */
  const attachedVersions = async (sql: Sql, providerArn: string) => {
    const rows = await sql.unsafe<{ state: FunctionStreamState }[]>(`SELECT state FROM ${readModels.functions.table} ORDER BY id`);
    return rows.flatMap(({ state }) => (state.status === 'Absent' ? [] : functionVersionsOnCapacityProvider(state, providerArn)));
  };
  const attachedFunctionArns = async (sql: Sql, providerArn: string): Promise<string[]> =>
    (await attachedVersions(sql, providerArn)).map((item) => item.FunctionArn!);

  const viewOf = (state: CapacityProviderStreamState, nameOrArn: string) => ({
    CapacityProvider: capacityProviderView(requireCapacityProvider(state, nameOrArn, scope)),
  });

  const settlePass = async (): Promise<void> => {
    const rows = await store.sql.unsafe<{ id: string; status: string }[]>(
      `SELECT id, status FROM ${providers.table} WHERE status IN ('Pending', 'Deleting')`,
    );
    for (const { id, status } of rows) {
      const command: CapacityProviderCommand =
        status === 'Pending'
          ? { type: 'ActivateCapacityProvider', data: { CapacityProviderName: id } }
          : { type: 'CompleteCapacityProviderDeletion', data: { CapacityProviderName: id } };
      await execute(id, command).catch((error: unknown) =>
        logger.warn({ err: error, capacityProvider: id }, 'capacity provider lifecycle step failed; retried on the next pass'),
      );
    }
  };
  // Passes run one at a time; a failed pass is logged and the next one starts afresh.
  let settling: Promise<void> = Promise.resolve();
  const settleLifecycles = (): Promise<void> => {
    settling = settling.then(settlePass).catch((error: unknown) => {
      logger.warn({ err: error }, 'capacity provider lifecycle pass failed; retried on the next pass');
    });
    return settling;
  };
  const settleSoon = () => setImmediate(() => void settleLifecycles());

  return {
    async CreateCapacityProvider(input) {
      const name = parseCapacityProviderName(input?.CapacityProviderName, scope);
      const count = await countProviders(store.sql);
      const outcome = await execute(
        name,
        { type: 'CreateCapacityProvider', data: { request: input, capacityProviderCount: count } },
        async (tx) => {
          // The count read before the transaction may be stale; decide again on the exact one.
          const exact = await countProviders(tx);
          if (exact !== count) {
            decideCapacityProvider(
              { type: 'CreateCapacityProvider', data: { request: input, capacityProviderCount: exact } },
              { status: 'Absent' },
              domainContext(deps),
            );
          }
        },
      );
      settleSoon();
      return viewOf(outcome.state, name);
    },

    async GetCapacityProvider(input) {
      const name = parseCapacityProviderName(input?.CapacityProviderName, scope);
      const row = await providers.get(store.sql, name);
      return viewOf(row?.state ?? { status: 'Absent' }, input.CapacityProviderName);
    },

    async UpdateCapacityProvider(input) {
      const name = parseCapacityProviderName(input?.CapacityProviderName, scope);
      const outcome = await execute(name, { type: 'UpdateCapacityProvider', data: { request: input } });
      return viewOf(outcome.state, input.CapacityProviderName);
    },

    async DeleteCapacityProvider(input) {
      const name = parseCapacityProviderName(input?.CapacityProviderName, scope);
      const startDeletion = (attached: readonly string[]): CapacityProviderCommand => ({
        type: 'StartCapacityProviderDeletion',
        data: { CapacityProviderName: name, attachedFunctionVersions: attached.length, attachedFunctionVersionArns: attached },
      });
      const attachedTo = async (sql: Sql) => {
        const row = await providers.get(sql, name);
        return row && row.state.status !== 'Absent' ? attachedFunctionArns(sql, row.state.CapacityProviderArn) : [];
      };
      const outcome = await execute(name, startDeletion(await attachedTo(store.sql)), async (tx) => {
        // A function may have been attached since the first look; decide again on the exact set.
        const attached = await attachedTo(tx);
        if (attached.length > 0) decideCapacityProvider(startDeletion(attached), (await providers.get(tx, name))!.state, domainContext(deps));
      });
      settleSoon();
      return viewOf(outcome.state, input.CapacityProviderName);
    },

    async ListCapacityProviders(input) {
      const rows = await store.sql.unsafe<{ state: CapacityProviderStreamState }[]>(`SELECT state FROM ${providers.table}`);
      const views = rows.flatMap(({ state }) => (state.status === 'Absent' ? [] : [capacityProviderView(state)]));
      return listCapacityProviders(views, input ?? {});
    },

    async ListFunctionVersionsByCapacityProvider(input) {
      const name = parseCapacityProviderName(input?.CapacityProviderName, scope);
      const row = await providers.get(store.sql, name);
      const provider = requireCapacityProvider(row?.state ?? { status: 'Absent' }, input.CapacityProviderName, scope);
      const versions = await attachedVersions(store.sql, provider.CapacityProviderArn);
      return listFunctionVersionsByCapacityProvider(provider.CapacityProviderArn, versions, input);
    },

    settleLifecycles,
  };
}
