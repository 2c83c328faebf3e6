/**
 * Trace context on the Runtime API. Lambda hands the runtime an X-Ray header in
 * `Lambda-Runtime-Trace-Id` (`Root=1-<8 hex epoch>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>`).
 * Hearth traces with W3C trace context; the two carry the same facts (a 128-bit
 * trace id, a 64-bit parent span id, the sampled flag), so the agent writes the
 * caller's `traceparent` in X-Ray shape, the way the AWS X-Ray propagator maps
 * them, and a runtime (or an OpenTelemetry X-Ray propagator in user code) can turn
 * it back into the same W3C context.
 */
import { randomBytes } from 'node:crypto';
import { isSpanContextValid, type SpanContext } from '@opentelemetry/api';

const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const xrayPattern = /^Root=1-([0-9a-f]{8})-([0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=([01])/;

/** A W3C `traceparent` in X-Ray header shape; undefined when it is not a valid traceparent. */
export function traceparentToXray(traceparent: string): string | undefined {
  const match = traceparentPattern.exec(traceparent.trim().toLowerCase());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  if (version === 'ff' || /^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  const sampled = (Number.parseInt(flags, 16) & 1) === 1 ? 1 : 0;
  return `Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)};Parent=${spanId};Sampled=${sampled}`;
}

/** The W3C `traceparent` an X-Ray header carries; undefined when it has no Root and Parent. */
export function xrayToTraceparent(header: string): string | undefined {
  const match = xrayPattern.exec(header.trim());
  if (!match) return undefined;
  const [, epoch, rest, parent, sampled] = match as unknown as [string, string, string, string, string];
  return `00-${epoch}${rest}-${parent}-0${sampled}`;
}

/** An OpenTelemetry span context in X-Ray header shape (the span is the runtime's parent); undefined when it is not valid. */
export function spanContextToXray(spanContext: SpanContext): string | undefined {
  if (!isSpanContextValid(spanContext)) return undefined;
  const traceId = spanContext.traceId;
  return `Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)};Parent=${spanContext.spanId};Sampled=${spanContext.traceFlags & 1}`;
}

/** Random bytes drawn from in blocks: one `randomBytes` call per ~200 fresh headers instead of one per header. */
const randomPoolBytes = 4096;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

function randomHex(bytes: number): string {
  if (randomOffset + bytes > randomPool.length) {
    randomPool = randomBytes(randomPoolBytes);
    randomOffset = 0;
  }
  const hex = randomPool.toString('hex', randomOffset, randomOffset + bytes);
  randomOffset += bytes;
  return hex;
}

/** A fresh, unsampled X-Ray header for an invocation that arrived without trace context (Lambda always sends one). */
export function newXrayHeader(now: number = Date.now()): string {
  const epoch = Math.floor(now / 1000)
    .toString(16)
    .padStart(8, '0')
    .slice(-8);
  // Runs per invocation that arrives without trace context: ids from a pooled block of randomness.
  const random = randomHex(20);
  return `Root=1-${epoch}-${random.slice(0, 24)};Parent=${random.slice(24)};Sampled=0`;
}
