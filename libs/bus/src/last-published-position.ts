import { JetStreamApiError } from '@nats-io/jetstream';
import type { Bus } from './connect-bus.js';
import { positionHeader } from './event-message.js';

/**
 * The `Hearth-Position` of the last message in the event stream, 0 when the
 * stream is empty. The relay publishes in position order and waits for each
 * ack, so the last message carries the highest position JetStream holds.
 */
export async function lastPublishedPosition(bus: Bus): Promise<number> {
  const info = await bus.jsm.streams.info(bus.eventStreamName);
  const lastSeq = info.state.last_seq;
  if (lastSeq === 0 || info.state.messages === 0) return 0;
  try {
    const message = await bus.jsm.streams.getMessage(bus.eventStreamName, { seq: lastSeq });
    return positionHeader(message?.header) ?? 0;
  } catch (error) {
    // Deleted between the info and the read: nothing to learn from it.
    if (error instanceof JetStreamApiError) return 0;
    throw error;
  }
}
