/** Types shared by the infrastructure starters and the resolver. */

/**
 * `ephemeral`: throw-away state in a temp dir, free ports, durability off
 * (tests). `persistent`: state under a data dir that survives restarts, fixed
 * ports (`npm start`).
 */
export type InfraMode = 'ephemeral' | 'persistent';

/** Where Hearth's infrastructure answers. */
export interface InfraEndpoints {
  /** Postgres URL (a superuser in ephemeral mode, so tests can create databases). */
  databaseUrl: string;
  /** NATS URL; the server has JetStream enabled. */
  natsUrl: string;
  /** Temporal frontend gRPC address, `host:port`. */
  temporalAddress: string;
}

/** One started piece of infrastructure (a local process or a container). */
export interface StartedInfraPiece {
  /** Where it answers: a URL, or `host:port` for Temporal. */
  readonly address: string;
  /** Stops it and removes its ephemeral state. Idempotent. */
  stop(): Promise<void>;
}
