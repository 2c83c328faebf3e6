/**
 * The event store: one append-only Postgres table of events (global position,
 * stream id and version, type, data, metadata with trace context), appends
 * guarded by expected versions, global positions in commit order (ADR 0002),
 * inline read models updated in the append transaction, and the primitives the
 * outbox relay builds on (checkpoints, leader sessions, NOTIFY on append).
 *
 * Stream ids are `<category>:<id>` (`capacityProvider:foo`, `function:bar`);
 * the category becomes a NATS subject token when events are published.
 */
export { createEventStore, type EventStore, type EventStoreOptions } from './event-store.js';
export type { AppendExpectation, AppendOptions } from './append.js';
export { maxEventsPerAppend } from './append.js';
export type {
  AppendResult,
  EventMetadata,
  ExpectedVersion,
  NewEvent,
  RecordedEvent,
} from './types.js';
export { StreamVersionConflictError } from './errors.js';
export type { InlineProjection } from './inline-projections.js';
export type { Checkpoint } from './checkpoint.js';
export type { LeaderSession, LeaderSessionOptions } from './leader-session.js';
export { withDeadline, DeadlineExceededError } from './deadline.js';
export {
  defaultReadAllLimit,
  maxReadAllLimit,
  defaultReadStreamMaxCount,
  type ReadAllOptions,
  type ReadStreamOptions,
} from './read.js';
export { migrate, latestSchemaVersion } from './migrations.js';
export { defaultSchema, notifyChannel } from './schema-names.js';
export { lockClass, type LockClass } from './advisory-locks.js';
export { parseStreamId, streamCategory, assertEventType, type StreamIdParts } from './stream-id.js';
export { aggregateTable, type AggregateTable, type AggregateTableOptions } from './aggregate-table.js';
