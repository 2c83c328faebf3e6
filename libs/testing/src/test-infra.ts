import { inject } from 'vitest';

/** Where the real infrastructure of this test run is (resolved once by the global setup). */
export interface TestInfra {
  /** Postgres admin URL (a superuser; tests create their own databases with createTestDatabase). */
  databaseUrl: string;
  /** NATS URL with JetStream enabled. */
  natsUrl: string;
  /** Temporal frontend address (host:port). */
  temporalAddress: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    hearthInfra: TestInfra;
  }
}

/** The infrastructure provided by `global-setup.ts`; throws if the project has no global setup. */
export function testInfra(): TestInfra {
  const infra = inject('hearthInfra');
  if (!infra) throw new Error('hearthInfra was not provided: run integration tests through the int or e2e vitest project');
  return infra;
}
