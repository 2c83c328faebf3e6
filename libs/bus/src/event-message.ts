import type { RecordedEvent } from '@hearth/event-store';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { eventHeaders, eventSubject } from './naming.js';

/** An event ready to publish: subject, JSON payload (the whole RecordedEvent), headers and message id. */
export interface EventMessage {
  readonly subject: string;
  readonly payload: string;
  readonly headers: MsgHdrs;
  /** The event id, used as the JetStream message id so the stream drops duplicates. */
  readonly msgID: string;
}

/**
 * Builds the message for an event: the payload is the RecordedEvent as JSON;
 * headers repeat its coordinates (so tools can route without parsing) and
 * carry the appender's trace context (`traceparent`/`tracestate`).
 */
export function toEventMessage(prefix: string, event: RecordedEvent): EventMessage {
  const headers = natsHeaders();
  headers.set(eventHeaders.position, String(event.position));
  headers.set(eventHeaders.streamId, event.streamId);
  headers.set(eventHeaders.streamVersion, String(event.streamVersion));
  headers.set(eventHeaders.eventType, event.type);
  headers.set(eventHeaders.eventId, event.eventId);
  headers.set(eventHeaders.recordedAt, event.recordedAt);
  const { traceparent, tracestate } = event.metadata;
  if (typeof traceparent === 'string') headers.set('traceparent', traceparent);
  if (typeof tracestate === 'string') headers.set('tracestate', tracestate);
  return {
    subject: eventSubject(prefix, event),
    payload: JSON.stringify(event),
    headers,
    msgID: event.eventId,
  };
}

/** Reads the event back from a message payload; throws on anything that is not a RecordedEvent. */
export function fromEventPayload(payload: Uint8Array): RecordedEvent {
  const event = JSON.parse(new TextDecoder().decode(payload)) as RecordedEvent;
  if (
    typeof event !== 'object' ||
    event === null ||
    !Number.isSafeInteger(event.position) ||
    typeof event.eventId !== 'string' ||
    typeof event.streamId !== 'string' ||
    typeof event.type !== 'string'
  ) {
    throw new TypeError('Message payload is not a RecordedEvent');
  }
  return event;
}

/** The position header of a stored event message, or undefined when absent or malformed. */
export function positionHeader(headers: MsgHdrs | undefined): number | undefined {
  const raw = headers?.get(eventHeaders.position);
  if (raw === undefined || raw === '') return undefined;
  const position = Number(raw);
  return Number.isSafeInteger(position) && position >= 0 ? position : undefined;
}
