import { parseStreamId } from '@hearth/event-store';

/** The subject prefix used unless `HEARTH_NATS_PREFIX` or an option says otherwise. */
export const defaultPrefix = 'hearth';

const prefixPattern = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Checks a subject prefix: lower-case letters, digits and `-`, starting with a
 * letter, since it becomes a subject token, part of a stream name and of an
 * object store bucket name.
 */
export function assertPrefix(prefix: string): void {
  if (!prefixPattern.test(prefix)) {
    throw new RangeError(`NATS prefix "${prefix}" must match ${prefixPattern.source}`);
  }
}

/** Name of the JetStream stream holding the events: `${PREFIX}_EVENTS`, `-` turned into `_` (`HEARTH_EVENTS`). */
export function eventStreamName(prefix: string): string {
  assertPrefix(prefix);
  return `${prefix.toUpperCase().replaceAll('-', '_')}_EVENTS`;
}

/** Subject filter matching every event: `${prefix}.events.>`. */
export function allEventsSubject(prefix: string): string {
  return `${prefix}.events.>`;
}

/**
 * Subject of one event: `${prefix}.events.<category>.<EventType>`, where the
 * category is the part of the stream id before its first `:`
 * (`function:bar` → `hearth.events.function.FunctionCreated`).
 */
export function eventSubject(prefix: string, event: { streamId: string; type: string }): string {
  return `${prefix}.events.${parseStreamId(event.streamId).category}.${event.type}`;
}

/**
 * A subject filter for events of one category and/or one type; an omitted
 * part matches any (`eventFilterSubject('hearth', { category: 'function' })`
 * → `hearth.events.function.*`).
 */
export function eventFilterSubject(prefix: string, filter: { category?: string; type?: string } = {}): string {
  return `${prefix}.events.${filter.category ?? '*'}.${filter.type ?? '*'}`;
}

/** Name of the object store bucket holding code artifacts: `${prefix}-code`. */
export function codeBucketName(prefix: string): string {
  assertPrefix(prefix);
  return `${prefix}-code`;
}

/** Full subject of live (non-event) data: `${prefix}.live.<subject>`. */
export function liveSubject(prefix: string, subject: string): string {
  return `${prefix}.live.${subject}`;
}

/** NATS headers the outbox relay sets on every event message. */
export const eventHeaders = {
  position: 'Hearth-Position',
  streamId: 'Hearth-Stream-Id',
  streamVersion: 'Hearth-Stream-Version',
  eventType: 'Hearth-Event-Type',
  eventId: 'Hearth-Event-Id',
  recordedAt: 'Hearth-Recorded-At',
} as const;
