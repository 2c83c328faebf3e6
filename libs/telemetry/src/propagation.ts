import { context, propagation, type Context } from '@opentelemetry/api';

/** Writes one header of an outgoing carrier (gRPC metadata, NATS headers, a plain object). */
export type CarrierSetter = (key: string, value: string) => void;
/** Reads one header of an incoming carrier. */
export type CarrierGetter = (key: string) => string | undefined;

/** Writes the active trace context (W3C `traceparent`/`tracestate`) into an outgoing carrier. */
export function injectTraceContext(set: CarrierSetter, from: Context = context.active()): void {
  propagation.inject(from, null, { set: (_carrier, key, value) => set(key, value) });
}

/** Reads a trace context from an incoming carrier; the result is a Context to run the handler in. */
export function extractTraceContext(get: CarrierGetter, base: Context = context.active()): Context {
  return propagation.extract(base, null, {
    get: (_carrier, key) => get(key),
    keys: () => ['traceparent', 'tracestate', 'baggage'],
  });
}
