import { trace } from '@opentelemetry/api';
import { pino, type Logger as PinoLogger } from 'pino';
import { currentRequestId } from './request-context.js';

/** A structured JSON logger (pino). */
export type Logger = PinoLogger;

/**
 * Creates the JSON logger of a service. Each line carries `service`, and, when
 * written inside a request or span, `requestId`, `traceId` and `spanId`.
 * Level from `HEARTH_LOG_LEVEL` (default `info`). Writes to stdout unless a
 * destination is given.
 */
export function createLogger(service: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level: process.env.HEARTH_LOG_LEVEL ?? 'info',
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    mixin() {
      const fields: Record<string, string> = {};
      const requestId = currentRequestId();
      if (requestId) fields.requestId = requestId;
      const spanContext = trace.getActiveSpan()?.spanContext();
      if (spanContext && spanContext.traceId !== '00000000000000000000000000000000') {
        fields.traceId = spanContext.traceId;
        fields.spanId = spanContext.spanId;
      }
      return fields;
    },
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
