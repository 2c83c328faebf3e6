/**
 * The supervisor's own log: pino-shaped JSON lines (numeric `level`, `time` in
 * epoch ms, `msg`), so one `jq` filter reads them and the services' logs alike.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** One supervisor log entry. */
export interface SupervisorEvent {
  /** pino level: 30 info, 40 warn, 50 error. */
  level: 30 | 40 | 50;
  /** Epoch milliseconds. */
  time: number;
  /** Always `supervisor`. */
  name: 'supervisor';
  /** What happened: `service.started`, `service.ready`, `service.exited`, `service.restart`, `service.restart_failed`, `service.stopped`. */
  event: string;
  /** The service concerned. */
  service: string;
  /** Human-readable summary. */
  msg: string;
  /** Event details (pid, exit, delayMs, restart, uptimeMs, startupMs). */
  [detail: string]: unknown;
}

/** Writes supervisor events to a file (synchronously: they are rare and must survive a crash) and to a listener. */
export class SupervisorLog {
  constructor(
    private readonly file: string | undefined,
    private readonly listener?: (event: SupervisorEvent) => void,
  ) {
    if (file) mkdirSync(dirname(file), { recursive: true });
  }

  /** Logs at info level. */
  info(event: string, service: string, msg: string, details: Record<string, unknown> = {}): void {
    this.write(30, event, service, msg, details);
  }

  /** Logs at warn level. */
  warn(event: string, service: string, msg: string, details: Record<string, unknown> = {}): void {
    this.write(40, event, service, msg, details);
  }

  /** Logs at error level. */
  error(event: string, service: string, msg: string, details: Record<string, unknown> = {}): void {
    this.write(50, event, service, msg, details);
  }

  private write(level: SupervisorEvent['level'], event: string, service: string, msg: string, details: Record<string, unknown>): void {
    const entry: SupervisorEvent = { level, time: Date.now(), name: 'supervisor', event, service, msg, ...details };
    if (this.file) {
      try {
        appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
      } catch {
        // A full or read-only disk must not take supervision down with it.
      }
    }
    this.listener?.(entry);
  }
}
