import { JetStreamApiCodes, JetStreamApiError, type ConsumerInfo } from '@nats-io/jetstream';
import type { Bus } from './connect-bus.js';
import { positionHeader } from './event-message.js';

/** The durable consumer's info, or undefined when it does not exist. */
export async function consumerInfo(bus: Bus, stream: string, durableName: string): Promise<ConsumerInfo | undefined> {
  try {
    return await bus.jsm.consumers.info(stream, durableName);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound) return undefined;
    throw error;
  }
}

/** Deletes the durable consumer; absent is fine. */
export async function deleteConsumer(bus: Bus, stream: string, durableName: string): Promise<void> {
  try {
    await bus.jsm.consumers.delete(stream, durableName);
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)) throw error;
  }
}

/**
 * The event position of the last message the consumer acknowledged in
 * sequence: 0 when none, Number.MAX_SAFE_INTEGER when that message is gone.
 */
export async function positionAtAckFloor(bus: Bus, stream: string, info: ConsumerInfo): Promise<number> {
  const seq = info.ack_floor.stream_seq;
  if (seq === 0) return 0;
  try {
    const message = await bus.jsm.streams.getMessage(stream, { seq });
    return positionHeader(message?.header) ?? 0;
  } catch (error) {
    // The message is gone (stream limits): its position is unknown, so assume
    // the consumer is ahead of the checkpoint, and make the caller start over.
    if (error instanceof JetStreamApiError) return Number.MAX_SAFE_INTEGER;
    throw error;
  }
}
