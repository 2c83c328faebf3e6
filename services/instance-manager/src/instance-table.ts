/**
 * The instance-manager's read model: one row per instance in
 * `<schema>.instance_manager_instances`, kept by an inline projection inside
 * each append (so a read right after a write sees it) and caught up with the
 * log at start. The row is the folded `InstanceState` in typed columns, so
 * other tools can query it with plain SQL.
 */
import type postgres from 'postgres';
import type { InlineProjection, RecordedEvent } from '@hearth/event-store';
import { evolveInstance, instanceCategory, instanceEventTypes, liveStatuses, type InstanceState, type InstanceStatus } from './instance-events.js';

/** Name of the projection (its checkpoint key) and of its table. */
export const instanceTableName = 'instance_manager_instances';

/** Most rows one list returns; ListInstances has no paging (live instances come first). */
export const maxListedInstances = 10_000;

/** An instance's folded state and its stream version (the expected version of the next append). */
export interface StoredInstance {
  readonly state: InstanceState;
  readonly version: number;
}

/** Filters of `list`. */
export interface InstanceListFilter {
  /** Only this capacity provider's instances. Default all. */
  capacityProviderArn?: string | undefined;
  /** Include Terminated instances. Default false. */
  includeTerminated?: boolean;
}

/** The read model: its projection (give it to the event store) and its queries. */
export interface InstanceTable {
  readonly projection: InlineProjection;
  /** The table's qualified name. */
  readonly table: string;
  /** One instance, or undefined when it was never launched. */
  get(sql: postgres.Sql | postgres.TransactionSql, instanceId: string): Promise<StoredInstance | undefined>;
  /** Instances in launch order, live ones first, at most `maxListedInstances`. */
  list(sql: postgres.Sql, filter?: InstanceListFilter): Promise<StoredInstance[]>;
  /** Instances not yet Terminated, at most `limit` (default 500) after `afterId` in id order (for paging). */
  live(sql: postgres.Sql, options?: { afterId?: string; limit?: number }): Promise<StoredInstance[]>;
}

interface InstanceRow {
  id: string;
  capacity_provider_arn: string;
  instance_type: string;
  zone: string;
  architecture: string;
  vcpus: number;
  memory_mib: number;
  provider: string;
  status: string;
  state_reason: string | null;
  agent_address: string;
  launched_at: Date;
  updated_at: Date;
  version: number;
}

const columns =
  'id, capacity_provider_arn, instance_type, zone, architecture, vcpus, memory_mib, provider, status, state_reason, agent_address, launched_at, updated_at, version';

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe SQL identifier: ${name}`);
  return `"${name}"`;
}

function fromRow(row: InstanceRow): StoredInstance {
  return {
    version: row.version,
    state: {
      instanceId: row.id,
      capacityProviderArn: row.capacity_provider_arn,
      instanceType: row.instance_type,
      zone: row.zone,
      architecture: row.architecture,
      vcpus: row.vcpus,
      memoryMib: row.memory_mib,
      provider: row.provider,
      status: row.status as InstanceStatus,
      stateReason: row.state_reason ?? undefined,
      agentAddress: row.agent_address,
      launchedAt: row.launched_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    },
  };
}

/** Creates the read model in `schema` (default `hearth`). */
export function createInstanceTable(schema = 'hearth'): InstanceTable {
  const table = `${quoteIdent(schema)}.${quoteIdent(instanceTableName)}`;
  const prefix = `${instanceCategory}:`;

  const get: InstanceTable['get'] = async (sql, instanceId) => {
    const rows = await sql.unsafe<InstanceRow[]>(`SELECT ${columns} FROM ${table} WHERE id = $1`, [instanceId]);
    const row = rows[0];
    return row && fromRow(row);
  };

  const projection: InlineProjection = {
    name: instanceTableName,
    handles: instanceEventTypes,
    async init(tx) {
      await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${table} (
        id text PRIMARY KEY,
        capacity_provider_arn text NOT NULL,
        instance_type text NOT NULL,
        zone text NOT NULL,
        architecture text NOT NULL,
        vcpus integer NOT NULL,
        memory_mib integer NOT NULL,
        provider text NOT NULL,
        status text NOT NULL,
        state_reason text,
        agent_address text NOT NULL,
        launched_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        version integer NOT NULL)`);
      await tx.unsafe(
        `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${instanceTableName}_provider_idx`)} ON ${table} (capacity_provider_arn, status)`,
      );
      await tx.unsafe(`CREATE INDEX IF NOT EXISTS ${quoteIdent(`${instanceTableName}_status_idx`)} ON ${table} (status)`);
    },
    async apply(tx, event: RecordedEvent) {
      if (!event.streamId.startsWith(prefix)) return;
      const current = await get(tx, event.streamId.slice(prefix.length));
      const state = evolveInstance(current?.state, event);
      if (state === undefined) return;
      await tx.unsafe(
        `INSERT INTO ${table} (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, state_reason = EXCLUDED.state_reason,
           agent_address = EXCLUDED.agent_address, updated_at = EXCLUDED.updated_at, version = EXCLUDED.version`,
        [
          state.instanceId,
          state.capacityProviderArn,
          state.instanceType,
          state.zone,
          state.architecture,
          state.vcpus,
          state.memoryMib,
          state.provider,
          state.status,
          state.stateReason ?? null,
          state.agentAddress,
          state.launchedAt,
          state.updatedAt,
          event.streamVersion,
        ],
      );
    },
    async reset(tx) {
      await tx.unsafe(`TRUNCATE ${table}`);
    },
  };

  return {
    projection,
    table,
    get,
    async list(sql, filter = {}) {
      const rows = await sql.unsafe<InstanceRow[]>(
        `SELECT ${columns} FROM ${table}
          WHERE ($1::text IS NULL OR capacity_provider_arn = $1) AND ($2 OR status <> 'Terminated')
          ORDER BY status = 'Terminated', launched_at, id
          LIMIT ${maxListedInstances}`,
        [filter.capacityProviderArn ?? null, filter.includeTerminated ?? false],
      );
      return rows.map(fromRow);
    },
    async live(sql, options = {}) {
      const rows = await sql.unsafe<InstanceRow[]>(
        `SELECT ${columns} FROM ${table} WHERE status = ANY($1::text[]) AND id > $2 ORDER BY id LIMIT $3`,
        [liveStatuses as string[], options.afterId ?? '', options.limit ?? 500],
      );
      return rows.map(fromRow);
    },
  };
}
