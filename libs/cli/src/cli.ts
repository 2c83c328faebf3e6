/**
 * The `hearth` command line: finds the command in argv, parses its options
 * with `node:util` parseArgs (strict: an unknown flag is a usage error), runs
 * it, and turns every failure into one `error: …` line and a documented exit
 * code (see exit-codes.ts).
 */
import { parseArgs } from 'node:util';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { CliError, UsageError, toCliError } from './cli-error.js';
import type { Command, CommandContext, OptionSpec, OptionValues } from './command.js';
import { capacityProviderCommands } from './commands/capacity-provider.js';
import { functionCommands } from './commands/function.js';
import { invokeCommands } from './commands/invoke.js';
import { logsCommands } from './commands/logs.js';
import { publishCommands } from './commands/publish.js';
import { scalingCommands } from './commands/scaling.js';
import { statusCommands } from './commands/status.js';
import { upCommands } from './commands/up.js';
import { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';
import { createLambdaClient } from './lambda-client.js';

/** Every command, in the order `hearth --help` lists them. */
export const commands: readonly Command[] = [
  ...upCommands,
  ...capacityProviderCommands,
  ...functionCommands,
  ...publishCommands,
  ...invokeCommands,
  ...scalingCommands,
  ...logsCommands,
  ...statusCommands,
];

/** Options every command takes. */
export const globalOptions: Readonly<Record<string, OptionSpec>> = {
  endpoint: { type: 'string', value: 'URL', help: 'Hearth’s HTTP API (default $HEARTH_ENDPOINT, else http://127.0.0.1:$HEARTH_HTTP_PORT or :9000)' },
  output: { type: 'string', value: 'text|json', help: 'text (default) or json: the API’s JSON, one document (NDJSON for logs --follow)' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
};

/** Groups: words that need a second word (`hearth function create`). */
const groups = [...new Set(commands.filter((command) => command.path.length > 1).map((command) => command.path[0]!))];

const exitCodesText = `Exit codes:
  0  success
  1  the API answered an error (stderr: "error: <ExceptionName>: <message>"), or the invoked function failed
  2  usage error: unknown command or flag, missing or malformed argument (usage is printed)
  3  cannot reach the endpoint (connection refused, timeout, connection lost)
  4  hearth publish: the version ended Failed, or was not Active within --timeout
  130 interrupted (Ctrl-C) before the command finished`;

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const entries = Object.entries(options).map(([name, spec]) => [`${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`, spec.help] as const);
  const width = Math.max(...entries.map(([flag]) => flag.length));
  return entries.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`);
}

/** The usage line of a command: positionals, required options, then `[options]`. */
export function usageLine(command: Command): string {
  const required = (command.required ?? []).map((name) => `--${name} ${command.options[name]?.value ?? ''}`.trimEnd());
  const optional = (command.optionalPositionals ?? []).map((name) => `[${name}]`);
  return ['hearth', ...command.path, ...command.positionals, ...optional, ...required, '[options]'].join(' ');
}

/** Full help of one command. */
export function commandUsage(command: Command): string {
  const lines = [`Usage: ${usageLine(command)}`, '', command.summary.replace(/^./, (first) => first.toUpperCase()) + '.'];
  if (command.details) lines.push('', command.details);
  if (Object.keys(command.options).length > 0) lines.push('', 'Options:', ...optionLines(command.options));
  lines.push('', 'Global options:', ...optionLines(globalOptions));
  return `${lines.join('\n')}\n`;
}

/** Help of a group (`hearth function`): its subcommands. */
function groupUsage(group: string): string {
  const members = commands.filter((command) => command.path[0] === group);
  const width = Math.max(...members.map((command) => command.path[1]!.length));
  return `Usage: hearth ${group} <${members.map((command) => command.path[1]).join('|')}> …\n\n${members
    .map((command) => `  ${command.path[1]!.padEnd(width)}  ${command.summary}`)
    .join('\n')}\n\nhearth ${group} <command> --help shows a command's options.\n`;
}

/** `hearth --help`. */
export function mainUsage(): string {
  const names = commands.map((command) => command.path.join(' '));
  const width = Math.max(...names.map((name) => name.length));
  return `Usage: hearth <command> [arguments] [options]

Hearth's command line: capacity providers, functions, versions, invocations and the fleet,
over Hearth's HTTP API (Lambda operations through the AWS SDK, plus Hearth's logs and fleet routes).

Commands:
${commands.map((command, index) => `  ${names[index]!.padEnd(width)}  ${command.summary}`).join('\n')}

Global options:
${optionLines(globalOptions).join('\n')}

${exitCodesText}

hearth <command> --help shows a command's arguments, options and an example.
`;
}

/** Union of every option's parseArgs type, to find the command words before knowing the command. */
function allOptions(): Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> {
  const merged: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const options of [globalOptions, ...commands.map((command) => command.options)]) {
    for (const [name, spec] of Object.entries(options)) merged[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) };
  }
  return merged;
}

function parseSpec(options: Readonly<Record<string, OptionSpec>>) {
  return Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [name, { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) }]),
  );
}

/** What argv asks for: a command with its parsed options, or help text. */
export type Invocation =
  | { kind: 'help'; text: string }
  | { kind: 'command'; command: Command; values: OptionValues; positionals: string[] };

/**
 * Resolves argv (without `node hearth`) to an {@link Invocation}; throws
 * {@link UsageError} for an unknown command or flag, or missing or extra arguments.
 */
export function resolveInvocation(argv: readonly string[]): Invocation {
  let scan;
  try {
    scan = parseArgs({ args: [...argv], options: allOptions(), allowPositionals: true, strict: false, tokens: true });
  } catch (error) {
    throw new UsageError((error as Error).message, mainUsage());
  }
  const positionalTokens = scan.tokens.filter((token) => token.kind === 'positional');
  const words = positionalTokens.map((token) => token.value);
  const wantsHelp = scan.values.help === true;
  if (words[0] === 'help') return { kind: 'help', text: helpFor(words.slice(1)) };
  if (words.length === 0) {
    if (wantsHelp) return { kind: 'help', text: mainUsage() };
    throw new UsageError('no command given', mainUsage());
  }
  const first = words[0]!;
  let command: Command | undefined;
  if (groups.includes(first)) {
    const second = words[1];
    if (second === undefined) {
      if (wantsHelp) return { kind: 'help', text: groupUsage(first) };
      throw new UsageError(`hearth ${first} needs a command`, groupUsage(first));
    }
    command = commands.find((each) => each.path[0] === first && each.path[1] === second);
    if (!command) throw new UsageError(`unknown command: hearth ${first} ${second}`, groupUsage(first));
  } else {
    command = commands.find((each) => each.path.length === 1 && each.path[0] === first);
    if (!command) throw new UsageError(`unknown command: ${first}`, mainUsage());
  }
  const usage = commandUsage(command);
  if (wantsHelp) return { kind: 'help', text: usage };
  // Parse again, strictly, with only this command's options, the command words taken out.
  const commandWordIndexes = new Set(positionalTokens.slice(0, command.path.length).map((token) => token.index));
  const rest = argv.filter((_, index) => !commandWordIndexes.has(index));
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: parseSpec({ ...globalOptions, ...command.options }), allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(cleanParseError((error as Error).message), usage);
  }
  const positionals = parsed.positionals;
  const missing = command.positionals.slice(positionals.length);
  if (missing.length > 0) throw new UsageError(`missing ${missing.join(' ')}`, usage);
  const most = command.positionals.length + (command.optionalPositionals?.length ?? 0);
  if (positionals.length > most) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[most])}`, usage);
  for (const name of command.required ?? []) {
    if (parsed.values[name] === undefined) throw new UsageError(`missing --${name} ${command.options[name]?.value ?? ''}`.trimEnd(), usage);
  }
  return { kind: 'command', command, values: parsed.values as OptionValues, positionals };
}

/** parseArgs' messages end with advice about `--` meant for other programs; keep the first sentence. */
function cleanParseError(message: string): string {
  return message.split('. To specify a positional argument')[0]!.replace(/^Unknown option/, 'unknown option');
}

function helpFor(words: readonly string[]): string {
  if (words.length === 0) return mainUsage();
  const [first, second] = words;
  if (groups.includes(first!)) {
    const command = commands.find((each) => each.path[0] === first && each.path[1] === second);
    return command ? commandUsage(command) : groupUsage(first!);
  }
  const command = commands.find((each) => each.path.length === 1 && each.path[0] === first);
  return command ? commandUsage(command) : mainUsage();
}

/** The endpoint: `--endpoint`, else `HEARTH_ENDPOINT`, else `http://127.0.0.1:<HEARTH_HTTP_PORT or 9000>`. */
export function resolveEndpoint(option: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const endpoint = option ?? (env.HEARTH_ENDPOINT || `http://127.0.0.1:${env.HEARTH_HTTP_PORT || '9000'}`);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`--endpoint ${JSON.stringify(endpoint)} is not a URL (allowed: http://host:port or https://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--endpoint ${JSON.stringify(endpoint)} is not http(s) (allowed: http://host:port or https://host:port)`);
  return endpoint.replace(/\/+$/, '');
}

/** Writes a CLI error the documented way: `error: …`, then usage for usage errors. */
function report(io: CliIo, error: CliError): void {
  io.stderr.write(`error: ${error.message}\n`);
  if (error instanceof UsageError && error.usage) io.stderr.write(`\n${error.usage}`);
}

/**
 * Runs the CLI on `argv` (the arguments after `hearth`) and returns the exit
 * code; never throws. Output goes to `io`.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let endpoint = '';
  let client: LambdaClient | undefined;
  try {
    const invocation = resolveInvocation(argv);
    if (invocation.kind === 'help') {
      io.stdout.write(invocation.text);
      return ExitCode.Success;
    }
    const { command, values, positionals } = invocation;
    const usage = commandUsage(command);
    const output = values.output ?? 'text';
    if (output !== 'text' && output !== 'json') throw new UsageError(`--output ${JSON.stringify(output)} is not allowed (allowed: text, json)`, usage);
    endpoint = resolveEndpoint(typeof values.endpoint === 'string' ? values.endpoint : undefined, io.env);
    const context: CommandContext = {
      io,
      endpoint,
      output,
      usage,
      lambda: () => (client ??= createLambdaClient(endpoint, io.env)),
    };
    try {
      return await command.run(context, values, positionals);
    } catch (error) {
      // A usage problem found while running (a bad --since, a missing --zip path) still shows the command's usage.
      if (error instanceof UsageError && !error.usage) throw new UsageError(error.message, usage);
      throw error;
    }
  } catch (error) {
    const cliError = toCliError(error, endpoint || '(no endpoint)');
    report(io, cliError);
    return cliError.exitCode;
  } finally {
    client?.destroy();
  }
}
