/**
 * What an event carries besides its data: where it came from, for tracing and
 * for answering "which request caused this?".
 */
export interface EventMetadata {
  /** W3C `traceparent` of the span that appended the event (captured automatically). */
  traceparent?: string;
  /** W3C `tracestate` of that span, when there is one (captured automatically). */
  tracestate?: string;
  /** Request id of the API call that appended the event (captured from `currentRequestId()`). */
  requestId?: string;
  /** Id of the event or command that caused this event, when known. */
  causationId?: string;
  /** Anything else a caller wants to keep with the event; must be JSON. */
  [key: string]: unknown;
}

/** An event to append: a type, its JSON data, and optional metadata merged over the captured one. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  /** Event type, e.g. `CapacityProviderCreated`: letters, digits and `_` (it becomes a NATS subject token). */
  readonly type: Type;
  /** The event's payload; stored as jsonb, so it must survive `JSON.stringify`. */
  readonly data: Data;
  /** Extra metadata; its fields win over the captured trace context and request id. */
  readonly metadata?: EventMetadata;
}

/** An event as stored: a NewEvent plus where it sits in its stream and in the global log. */
export interface RecordedEvent<Type extends string = string, Data = unknown> {
  /** Unique id (uuid); the JetStream message id when the event is published. */
  readonly eventId: string;
  /** Global position in the log, increasing in commit order (gaps are possible; see ADR 0002). */
  readonly position: number;
  /** Stream the event belongs to, `<category>:<id>`. */
  readonly streamId: string;
  /** 1-based version of the stream this event made. */
  readonly streamVersion: number;
  readonly type: Type;
  readonly data: Data;
  readonly metadata: EventMetadata;
  /** When the event was inserted (ISO 8601, millisecond precision). */
  readonly recordedAt: string;
}

/**
 * The stream version an append expects: an exact version (the stream's last
 * `streamVersion`, 0 for a stream that does not exist yet), `'no-stream'`
 * (the stream must not exist), or `'any'` (no check).
 */
export type ExpectedVersion = number | 'no-stream' | 'any';

/** What a successful append returns. */
export interface AppendResult {
  /** The stream's version after the append: pass it as the next `expectedVersion`. */
  readonly nextExpectedVersion: number;
  /** Global position of the first appended event. */
  readonly firstPosition: number;
  /** Global position of the last appended event. */
  readonly lastPosition: number;
  /** The appended events as recorded. */
  readonly events: readonly RecordedEvent[];
}
