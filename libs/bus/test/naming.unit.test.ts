import {
  codeBucketName,
  eventFilterSubject,
  eventHeaders,
  eventStreamName,
  eventSubject,
  fromEventPayload,
  liveSubject,
  positionHeader,
  toEventMessage,
} from '@hearth/bus';
import type { RecordedEvent } from '@hearth/event-store';
import { describe, expect, it } from 'vitest';

const event: RecordedEvent = {
  eventId: '3f0c1c9e-8d7a-4a8e-9b55-0d6f1f2a1b11',
  position: 42,
  streamId: 'capacityProvider:foo-bar',
  streamVersion: 3,
  type: 'CapacityProviderCreated',
  data: { name: 'foo-bar' },
  metadata: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', requestId: 'r-1' },
  recordedAt: '2025-01-01T00:00:00.000Z',
};

describe('names', () => {
  it('derive the stream, subjects and bucket from the prefix', () => {
    expect(eventStreamName('hearth')).toBe('HEARTH_EVENTS');
    expect(eventStreamName('my-test')).toBe('MY_TEST_EVENTS');
    expect(eventSubject('hearth', event)).toBe('hearth.events.capacityProvider.CapacityProviderCreated');
    expect(eventFilterSubject('hearth', { category: 'function' })).toBe('hearth.events.function.*');
    expect(eventFilterSubject('hearth', { type: 'FunctionCreated' })).toBe('hearth.events.*.FunctionCreated');
    expect(codeBucketName('hearth')).toBe('hearth-code');
    expect(liveSubject('hearth', 'load.agent-1')).toBe('hearth.live.load.agent-1');
    expect(() => eventStreamName('Bad.Prefix')).toThrow(RangeError);
  });
});

describe('event messages', () => {
  it('carry the event as JSON, its coordinates and trace context in headers, and its id as msg id', () => {
    const message = toEventMessage('hearth', event);
    expect(message.subject).toBe('hearth.events.capacityProvider.CapacityProviderCreated');
    expect(message.msgID).toBe(event.eventId);
    expect(message.headers.get(eventHeaders.position)).toBe('42');
    expect(message.headers.get(eventHeaders.streamId)).toBe('capacityProvider:foo-bar');
    expect(message.headers.get(eventHeaders.streamVersion)).toBe('3');
    expect(message.headers.get(eventHeaders.eventType)).toBe('CapacityProviderCreated');
    expect(message.headers.get(eventHeaders.eventId)).toBe(event.eventId);
    expect(message.headers.get(eventHeaders.recordedAt)).toBe(event.recordedAt);
    expect(message.headers.get('traceparent')).toBe(event.metadata.traceparent);
    expect(message.headers.has('tracestate')).toBe(false);
    expect(fromEventPayload(new TextEncoder().encode(message.payload))).toEqual(event);
    expect(positionHeader(message.headers)).toBe(42);
  });

  it('refuse payloads that are not events', () => {
    expect(() => fromEventPayload(new TextEncoder().encode('{"hello":1}'))).toThrow(TypeError);
    expect(() => fromEventPayload(new TextEncoder().encode('not json'))).toThrow();
    expect(positionHeader(undefined)).toBeUndefined();
  });
});
