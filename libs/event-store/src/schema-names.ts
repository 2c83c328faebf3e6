/** The Postgres schema the event store uses unless told otherwise. */
export const defaultSchema = 'hearth';

const identifierPattern = /^[a-z_][a-z0-9_]{0,40}$/;

/**
 * Checks that a schema name is a plain lower-case SQL identifier, because it is
 * interpolated into DDL and into the NOTIFY channel name.
 */
export function assertSchemaName(schema: string): void {
  if (!identifierPattern.test(schema)) {
    throw new RangeError(`Schema name "${schema}" must match ${identifierPattern.source}`);
  }
}

/** Quoted, schema-qualified names of the event store's tables in `schema`. */
export interface StoreTables {
  readonly schema: string;
  readonly events: string;
  readonly migrations: string;
  readonly checkpoints: string;
  readonly projectionCheckpoints: string;
}

/** The table names of an event store living in `schema`. */
export function storeTables(schema: string): StoreTables {
  assertSchemaName(schema);
  return {
    schema: `"${schema}"`,
    events: `"${schema}"."events"`,
    migrations: `"${schema}"."schema_migrations"`,
    checkpoints: `"${schema}"."checkpoints"`,
    projectionCheckpoints: `"${schema}"."projection_checkpoints"`,
  };
}

/**
 * The LISTEN/NOTIFY channel on which appends to `schema` are announced:
 * `<schema>_events`, so the default store announces on `hearth_events`.
 */
export function notifyChannel(schema: string): string {
  assertSchemaName(schema);
  return `${schema}_events`;
}
