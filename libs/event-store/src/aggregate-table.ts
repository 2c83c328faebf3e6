import type postgres from 'postgres';
import type { InlineProjection } from './inline-projections.js';
import type { RecordedEvent } from './types.js';

/** How one kind of aggregate is folded into one row per stream. */
export interface AggregateTableOptions<State> {
  /** Projection name (its checkpoint key) and table name, e.g. `api_capacity_providers`. */
  name: string;
  /** Schema of the table. Default `hearth`. */
  schema?: string;
  /** Stream category it folds (`capacityProvider` for streams `capacityProvider:<id>`). */
  category: string;
  /** Event types it applies. */
  handles: readonly string[];
  initialState: State;
  evolve(state: State, event: { type: string; data: unknown }): State;
  /** True when the aggregate no longer exists (deleted): its row is removed. */
  isGone(state: State): boolean;
  /** Extra indexed text columns computed from the state, for lists and cross-aggregate checks. */
  columns: Readonly<Record<string, (state: State) => string | null>>;
}

/** A read model of one row per aggregate, kept by an inline projection. */
export interface AggregateTable<State> {
  projection: InlineProjection;
  /** The table's qualified name, for queries. */
  table: string;
  /** Reads one aggregate's state, or undefined. */
  get(sql: postgres.Sql | postgres.TransactionSql, id: string): Promise<{ state: State; version: number } | undefined>;
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe SQL identifier: ${name}`);
  return `"${name}"`;
}

/**
 * An inline projection that folds each stream of a category into one row:
 * `(id, state jsonb, version, <columns>)`. The state is the same fold the
 * command side uses (`evolve`), so a read and a decision never disagree.
 */
export function aggregateTable<State>(options: AggregateTableOptions<State>): AggregateTable<State> {
  const schema = quoteIdent(options.schema ?? 'hearth');
  const table = `${schema}.${quoteIdent(options.name)}`;
  const extra = Object.keys(options.columns).map(quoteIdent);
  const prefix = `${options.category}:`;

  const get: AggregateTable<State>['get'] = async (sql, id) => {
    const rows = await sql.unsafe<{ state: State; version: number }[]>(`SELECT state, version FROM ${table} WHERE id = $1`, [id]);
    return rows[0];
  };

  const projection: InlineProjection = {
    name: options.name,
    handles: options.handles,
    async init(tx) {
      await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      const columns = extra.map((column) => `, ${column} text`).join('');
      await tx.unsafe(
        `CREATE TABLE IF NOT EXISTS ${table} (id text PRIMARY KEY, state jsonb NOT NULL, version integer NOT NULL${columns})`,
      );
      for (const column of extra) {
        const index = quoteIdent(`${options.name}_${column.replaceAll('"', '')}_idx`);
        await tx.unsafe(`CREATE INDEX IF NOT EXISTS ${index} ON ${table} (${column})`);
      }
    },
    async apply(tx, event: RecordedEvent) {
      if (!event.streamId.startsWith(prefix)) return;
      const id = event.streamId.slice(prefix.length);
      const current = await get(tx, id);
      const state = options.evolve(current?.state ?? options.initialState, event);
      if (options.isGone(state)) {
        await tx.unsafe(`DELETE FROM ${table} WHERE id = $1`, [id]);
        return;
      }
      const values = Object.values(options.columns).map((column) => column(state));
      const names = extra.map((column) => `, ${column}`).join('');
      const params = extra.map((_, i) => `, $${i + 4}`).join('');
      const updates = extra.map((column) => `, ${column} = EXCLUDED.${column}`).join('');
      await tx.unsafe(
        `INSERT INTO ${table} (id, state, version${names}) VALUES ($1, $2, $3${params})
         ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, version = EXCLUDED.version${updates}`,
        [id, tx.json(state as postgres.JSONValue) as never, event.streamVersion, ...values],
      );
    },
    async reset(tx) {
      await tx.unsafe(`TRUNCATE ${table}`);
    },
  };
  return { projection, table, get };
}
