import { aggregateTable, type AggregateTable, type EventStore } from '@hearth/event-store';
import {
  environmentEventTypes,
  environmentStreamId,
  evolveEnvironment,
  initialEnvironmentState,
  type EnvironmentEvent,
  type EnvironmentPlacement,
  type EnvironmentState,
} from './events.js';

/** Placement's read model of environments: one row per environment that is not stopped. */
export function environmentsTable(schema: string): AggregateTable<EnvironmentState> {
  return aggregateTable<EnvironmentState>({
    name: 'placement_environments',
    schema,
    category: 'environment',
    handles: environmentEventTypes,
    initialState: initialEnvironmentState,
    evolve: (state, event) => evolveEnvironment(state, event as EnvironmentEvent),
    // A stopped environment holds nothing; its history stays in the log.
    isGone: (state) => state.status === 'Stopped' || state.status === 'Absent',
    columns: {
      function_name: (state) => state.placement?.functionName ?? null,
      function_version: (state) => state.placement?.version ?? null,
      instance_id: (state) => state.placement?.instanceId ?? null,
      status: (state) => state.status,
    },
  });
}

/** An environment row as queries return it. */
export interface EnvironmentRow {
  environmentId: string;
  state: EnvironmentState;
  version: number;
}

/** Reads and writes environments through the event store. */
export class Environments {
  constructor(
    private readonly store: EventStore,
    readonly table: AggregateTable<EnvironmentState>,
  ) {}

  private async query(where: string, params: unknown[]): Promise<EnvironmentRow[]> {
    const rows = await this.store.sql.unsafe<{ id: string; state: EnvironmentState; version: number }[]>(
      `SELECT id, state, version FROM ${this.table.table} ${where} ORDER BY id`,
      params as never[],
    );
    return rows.map((row) => ({ environmentId: row.id, state: row.state, version: row.version }));
  }

  /** Environments of a version, or of every version of a function. */
  ofFunction(functionName: string, version?: string): Promise<EnvironmentRow[]> {
    return version === undefined
      ? this.query('WHERE function_name = $1', [functionName])
      : this.query('WHERE function_name = $1 AND function_version = $2', [functionName, version]);
  }

  /** Environments on any of these instances. */
  onInstances(instanceIds: readonly string[]): Promise<EnvironmentRow[]> {
    return this.query('WHERE instance_id = ANY($1::text[])', [instanceIds]);
  }

  /** One environment, or undefined. */
  async get(environmentId: string): Promise<EnvironmentRow | undefined> {
    const row = await this.table.get(this.store.sql, environmentId);
    return row ? { environmentId, state: row.state, version: row.version } : undefined;
  }

  /** Records a placement; a no-op when the environment is already placed (retried activity). */
  async place(environmentId: string, placement: EnvironmentPlacement): Promise<void> {
    const streamId = environmentStreamId(environmentId);
    if ((await this.store.streamVersion(streamId)) > 0) return;
    await this.append(environmentId, { type: 'EnvironmentPlaced', data: placement }, 'no-stream');
  }

  /** Appends an outcome unless the environment already reached a final state. */
  async record(environmentId: string, event: Exclude<EnvironmentEvent, { type: 'EnvironmentPlaced' }>): Promise<void> {
    const streamId = environmentStreamId(environmentId);
    const history = await this.store.readStream(streamId);
    const state = history.reduce((s, e) => evolveEnvironment(s, e as unknown as EnvironmentEvent), initialEnvironmentState);
    if (state.status === 'Absent' || state.status === 'Stopped') return;
    if (event.type !== 'EnvironmentStopped' && state.status !== 'Starting') return;
    await this.append(environmentId, event, history.at(-1)?.streamVersion ?? 0);
  }

  private async append(environmentId: string, event: EnvironmentEvent, expectedVersion: number | 'no-stream'): Promise<void> {
    await this.store.append(environmentStreamId(environmentId), [event], { expectedVersion });
  }
}

