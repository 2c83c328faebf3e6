import { integerOption, printJson, stringOption, type Command } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { getJson, streamNdjson, type LogEvent } from '../hearth-http.js';
import { parseSince } from '../since.js';

/** One log event as a line: `time  function:version  request  level  message`. */
export function formatLogEvent(event: LogEvent): string {
  return `${event.timestamp}  ${event.functionName}:${event.version}  ${event.requestId ?? '-'}  ${event.level ?? event.stream ?? '-'}  ${event.message}\n`;
}

const logs: Command = {
  path: ['logs'],
  positionals: ['NAME'],
  summary: 'print a function’s log lines; --follow streams new ones',
  details: `Examples: hearth logs hello --since 10m
          hearth logs hello --qualifier 2 --follow
Each line: time, function:version, request id, level (or stream), message. --since takes a duration
ago (30s, 10m, 1h30m, 2d) or an ISO-8601 time; default 1 hour ago. --follow runs until Ctrl-C
(exit 0); a stream the server ends, or that stays silent over 60 s, exits 3.
--output json: the route's {"events":[…]}; with --follow, one JSON event per line (NDJSON).`,
  options: {
    since: { type: 'string', value: '10m|1h|ISO', help: 'from this long ago, or this time (default 1h)' },
    follow: { type: 'boolean', short: 'f', help: 'keep printing new lines until Ctrl-C' },
    qualifier: { type: 'string', value: 'VERSION', help: 'only this version (default every version)' },
    'request-id': { type: 'string', value: 'ID', help: 'only the lines of this invocation' },
    limit: { type: 'string', value: 'N', help: 'most events without --follow (1-10000, default 1000)' },
  },
  async run(ctx, values, [name]) {
    const sinceText = stringOption(values, 'since');
    const limit = integerOption(values, 'limit');
    const follow = values.follow === true;
    const query = {
      since: sinceText !== undefined ? String(parseSince(sinceText, ctx.io.now())) : undefined,
      qualifier: stringOption(values, 'qualifier'),
      requestId: stringOption(values, 'request-id'),
      limit: !follow && limit !== undefined ? String(limit) : undefined,
      follow: follow ? 'true' : undefined,
    };
    const path = `hearth/v1/functions/${encodeURIComponent(name!)}/logs`;
    if (follow) {
      // The api ends a follow cleanly after 15 minutes: reconnect from the last event's time, skipping
      // the events of that millisecond already printed. A server that is really gone fails the reconnect (exit 3).
      let lastTimestamp: string | undefined;
      let printedAtLast = new Set<string>();
      for (;;) {
        const since = lastTimestamp === undefined ? query.since : String(Date.parse(lastTimestamp));
        const ended = await streamNdjson<LogEvent>(ctx.endpoint, path, { ...query, since }, ctx.io.interrupt, (event) => {
          const key = JSON.stringify(event);
          if (event.timestamp === lastTimestamp && printedAtLast.has(key)) return;
          if (event.timestamp !== lastTimestamp) {
            lastTimestamp = event.timestamp;
            printedAtLast = new Set();
          }
          printedAtLast.add(key);
          ctx.io.stdout.write(ctx.output === 'json' ? `${key}\n` : formatLogEvent(event));
        });
        if (ended === 'interrupted') return ExitCode.Success;
        await new Promise((resolve) => setTimeout(resolve, reconnectDelayMs));
      }
    }
    const document = await getJson<{ events: LogEvent[] }>(ctx.endpoint, path, query, ctx.io.interrupt);
    if (ctx.output === 'json') printJson(ctx, document);
    else for (const event of document.events ?? []) ctx.io.stdout.write(formatLogEvent(event));
    return ExitCode.Success;
  },
};

/** Pause before a follow reconnects after the server ended the stream. */
const reconnectDelayMs = 500;

/** `hearth logs`. */
export const logsCommands: readonly Command[] = [logs];
