/**
 * Makes control-plane changes reach the scaler at once instead of after its
 * 30-s cache: the api's events, as the outbox relay publishes them, are also
 * delivered to plain NATS subscribers of their subjects, so the scaler listens
 * to `<prefix>.events.function.*` and `<prefix>.events.capacityProvider.*` and
 * drops the cached reads of the function or provider an event names.
 *
 * A missed event (a reconnect) only delays a change until the TTL; nothing is
 * lost, so a core subscription is enough and no durable consumer is kept.
 */
import { eventFilterSubject, fromEventPayload } from '@hearth/bus';
import type { Logger } from '@hearth/telemetry';
import type { ControlPlaneCache } from './control-plane.js';

/** The NATS connection surface used (a `NatsConnection` fits). */
export interface EventSubscriber {
  subscribe(subject: string, options: { callback: (error: Error | null, message: { data: Uint8Array }) => void }): { unsubscribe(): void };
}

/** Which cache an event's stream id invalidates, or undefined for other streams. */
export function changedResource(streamId: string): { kind: 'function' | 'capacityProvider'; name: string } | undefined {
  // Stream ids are `<category>:<id>` (libs/event-store stream-id.ts).
  const colon = streamId.indexOf(':');
  const category = streamId.slice(0, colon);
  const id = streamId.slice(colon + 1);
  if (colon < 0 || id === '') return undefined;
  if (category === 'function') return { kind: 'function', name: id };
  if (category === 'capacityProvider') return { kind: 'capacityProvider', name: id };
  return undefined;
}

/** Subscribes; returns the unsubscribe. Unreadable messages are logged once and skipped. */
export function followConfigChanges(options: { nc: EventSubscriber; prefix: string; cache: ControlPlaneCache; logger: Logger }): () => void {
  let unreadableLogged = false;
  const onMessage = (error: Error | null, message: { data: Uint8Array }) => {
    if (error) return;
    try {
      const changed = changedResource(fromEventPayload(message.data).streamId);
      if (changed?.kind === 'function') options.cache.forgetFunction(changed.name);
      else if (changed?.kind === 'capacityProvider') options.cache.forgetProvider(changed.name);
    } catch (caught) {
      if (!unreadableLogged) {
        unreadableLogged = true;
        options.logger.warn({ err: caught }, 'an event message could not be read; cached settings refresh on their TTL');
      }
    }
  };
  const subscriptions = [
    options.nc.subscribe(eventFilterSubject(options.prefix, { category: 'function' }), { callback: onMessage }),
    options.nc.subscribe(eventFilterSubject(options.prefix, { category: 'capacityProvider' }), { callback: onMessage }),
  ];
  return () => {
    for (const subscription of subscriptions) subscription.unsubscribe();
  };
}
