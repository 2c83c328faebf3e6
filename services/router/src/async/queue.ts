/**
 * The asynchronous invocation queue as its consumer sees it: the durable pull
 * consumer's configuration and the publish that re-enqueues an event for a
 * later attempt (or enqueues a destination function's event). The stream
 * itself belongs to the api, which creates it with its limits.
 */
import type { Bus } from '@hearth/bus';
import { allAsyncInvocationsSubject, asyncInvocationMessageId, asyncInvocationStreamName, asyncInvocationSubject, encodeAsyncInvocation, type AsyncInvocation } from '@hearth/domain';
import { AckPolicy, DeliverPolicy, ReplayPolicy, type ConsumerConfig } from '@nats-io/jetstream';
import { headers as natsHeaders, nanos } from '@nats-io/transport-node';

/** The consumer's settings and why each has its value. */
export interface QueueConsumerSettings {
  durableName: string;
  /**
   * How long a delivered event may stay unacknowledged before JetStream gives
   * it to another consumer. The invoker signals progress every third of it
   * while an attempt runs, so only a router that died lets it lapse: short
   * enough that its events are picked up again within seconds.
   */
  ackWaitMs: number;
  /**
   * Deliveries of one message before JetStream gives up on it. Retries are
   * new messages, so a message is delivered once, plus once more if it came
   * early, plus once per router crash during its attempt: a message delivered
   * this often crashes its consumer (a poison message).
   */
  maxDeliver: number;
  /**
   * Events handed out and not yet acknowledged: those being attempted plus
   * those handed back with a delay until their retry time (a JetStream nak
   * with delay keeps counting here). Deferred events must not use up the
   * attempts' share, or a burst of throttled events would stall every other
   * function's events until their delays pass.
   */
  maxAckPending: number;
}

/** The durable consumer's configuration over `${prefix}.invocations.>`. */
export function queueConsumerConfig(prefix: string, settings: QueueConsumerSettings): Partial<ConsumerConfig> {
  return {
    durable_name: settings.durableName,
    filter_subject: allAsyncInvocationsSubject(prefix),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    ack_wait: nanos(settings.ackWaitMs),
    max_deliver: settings.maxDeliver,
    max_ack_pending: settings.maxAckPending,
  };
}

/** The stream's name on this bus. */
export function queueStreamName(bus: Pick<Bus, 'prefix'>): string {
  return asyncInvocationStreamName(bus.prefix);
}

/**
 * Publishes an invocation message and waits for JetStream's ack. The message
 * id makes a repeat (after a crash between publish and ack) a no-op.
 */
export async function publishInvocation(bus: Pick<Bus, 'js' | 'prefix' | 'requestTimeoutMs'>, invocation: AsyncInvocation, payload: Uint8Array): Promise<void> {
  const headers = natsHeaders();
  for (const [name, value] of Object.entries(encodeAsyncInvocation(invocation))) headers.set(name, value);
  await bus.js.publish(asyncInvocationSubject(bus.prefix, invocation.functionName), payload, {
    msgID: asyncInvocationMessageId(invocation),
    headers,
    timeout: bus.requestTimeoutMs,
    expect: { streamName: asyncInvocationStreamName(bus.prefix) },
  });
}
