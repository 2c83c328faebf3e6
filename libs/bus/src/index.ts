/**
 * Hearth's NATS side: the connection (with JetStream), the event stream and
 * its subjects, the outbox relay that publishes the event store to JetStream
 * exactly once in position order, durable projection consumers for other
 * services' read models, the content-addressed code store, and plain subjects
 * for live data.
 *
 * Subjects: events on `${prefix}.events.<category>.<EventType>` (category =
 * the stream id before its first `:`), in the stream `${PREFIX}_EVENTS`; live
 * data on `${prefix}.live.<subject>`; code in the bucket `${prefix}-code`;
 * function logs on `${prefix}.logs.<function>.<version>.<environmentId>` in
 * the stream `${PREFIX}_FUNCTION_LOGS` (bounded by age and bytes).
 */
export { connectBus, eventStreamDuplicateWindowMs, type Bus, type BusOptions } from './connect-bus.js';
export {
  defaultPrefix,
  eventStreamName,
  eventSubject,
  eventFilterSubject,
  allEventsSubject,
  codeBucketName,
  liveSubject,
  eventHeaders,
} from './naming.js';
export { toEventMessage, fromEventPayload, positionHeader, type EventMessage } from './event-message.js';
export { lastPublishedPosition } from './last-published-position.js';
export {
  startOutboxRelay,
  type OutboxRelay,
  type OutboxRelayOptions,
  type OutboxRelayStats,
} from './outbox-relay.js';
export { runProjection, type Projection, type ProjectionOptions } from './projection-consumer.js';
export { inMemoryCheckpoint, type ProjectionCheckpoint } from './projection-checkpoint.js';
export { createCodeStore, type CodeStore, type CodeStoreOptions, type StoredCode } from './code-store.js';
export type { LiveHandler, LiveSubscription, LiveSubscriptionOptions } from './live.js';
export {
  functionLogStreamName,
  functionLogSubject,
  functionLogFilterSubject,
  functionLogStreamConfig,
  ensureFunctionLogStream,
  publishFunctionLog,
  encodeSubjectToken,
  decodeSubjectToken,
  logRequestIdHeader,
  defaultLogMaxAgeMs,
  defaultLogMaxBytes,
  type LogEvent,
  type FunctionLogRetention,
} from './function-logs.js';
