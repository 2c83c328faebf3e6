/**
 * Advisory lock keys. Postgres advisory locks take two int4 keys; the first
 * says what the lock guards (constants below), the second is `hashtext(schema)`
 * (or `hashtext(schema:role)` for leaders) so stores in different schemas of one database do not serialise each other.
 * The classes are arbitrary constants chosen not to collide with small numbers
 * other software tends to use.
 */
export const lockClass = {
  /** Held (transaction-level) while migrations and projection set-up run. */
  migrate: 0x4845_0001,
  /** Held (transaction-level) by every append, so positions are in commit order (ADR 0002). */
  append: 0x4845_0002,
  /** Held (session-level) by the one leader of a named role, such as the outbox relay. */
  leader: 0x4845_0003,
} as const;

/** Which advisory lock class. */
export type LockClass = (typeof lockClass)[keyof typeof lockClass];
