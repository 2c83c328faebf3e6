import { createTestDatabase, type TestDatabase } from '@hearth/testing';
import postgres from 'postgres';

/** A fresh database and a pool on it, for one test file. */
export interface TestPostgres {
  readonly sql: postgres.Sql;
  readonly database: TestDatabase;
  close(): Promise<void>;
}

/** Creates an isolated database for a test file; `close()` ends the pool and drops it. */
export async function openTestPostgres(max = 10): Promise<TestPostgres> {
  const database = await createTestDatabase('hearth_es');
  const sql = postgres(database.url, { max, onnotice: () => {} });
  return {
    sql,
    database,
    async close() {
      await sql.end({ timeout: 5 });
      await database.drop();
    },
  };
}
