import type { LambdaClient } from '@aws-sdk/client-lambda';
import { UsageError } from './cli-error.js';
import type { CliIo } from './io.js';

/** One option of a command: `parseArgs` type plus what `--help` says about it. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** Placeholder of the value in help (`MB`, `DIR|FILE`); string options only. */
  readonly value?: string;
  readonly help: string;
}

/** Parsed option values, as `parseArgs` returns them. */
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What a command's `run` gets. */
export interface CommandContext {
  readonly io: CliIo;
  readonly endpoint: string;
  readonly output: 'text' | 'json';
  /** The Lambda client for the endpoint, created on first use. */
  lambda(): LambdaClient;
  /** The command's usage text, for usage errors found while running. */
  readonly usage: string;
}

/** A leaf command (`hearth function create`, `hearth status`). */
export interface Command {
  /** Words after `hearth` that select it. */
  readonly path: readonly string[];
  /** Positional arguments, in order; each is required. */
  readonly positionals: readonly string[];
  /** Positional arguments that may be left out, after the required ones. */
  readonly optionalPositionals?: readonly string[];
  /** One line for the command list. */
  readonly summary: string;
  /** More text under the usage line (examples, behaviour). */
  readonly details?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Options that must be given (shown without brackets in the usage line). */
  readonly required?: readonly string[];
  run(ctx: CommandContext, values: OptionValues, positionals: readonly string[]): Promise<number>;
}

/** A string option, or undefined. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A repeatable string option, every occurrence. */
export function stringsOption(values: OptionValues, name: string): string[] {
  const value = values[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((each): each is string => typeof each === 'string');
}

/** A comma-separated list option (`--subnets a,b,c`), or undefined when absent. */
export function listOption(values: OptionValues, name: string): string[] | undefined {
  const value = stringOption(values, name);
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** An integer option; a value that is not a whole number is a usage error naming the option. */
export function integerOption(values: OptionValues, name: string): number | undefined {
  const value = stringOption(values, name);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`--${name} ${JSON.stringify(value)} is not a whole number`);
  return Number(value);
}

/** A number option (decimals allowed); anything else is a usage error naming the option. */
export function numberOption(values: OptionValues, name: string): number | undefined {
  const value = stringOption(values, name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new UsageError(`--${name} ${JSON.stringify(value)} is not a number`);
  return number;
}

/** A string option restricted to `allowed`; anything else is a usage error listing them. */
export function enumOption<T extends string>(values: OptionValues, name: string, allowed: readonly T[]): T | undefined {
  const value = stringOption(values, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} ${JSON.stringify(value)} is not allowed (allowed: ${allowed.join(', ')})`);
  return value as T;
}

/** Writes a JSON document to stdout (pretty, one document). */
export function printJson(ctx: CommandContext, document: unknown): void {
  ctx.io.stdout.write(`${JSON.stringify(document, jsonReplacer, 2)}\n`);
}

/** Bytes (a code package, a payload) are not JSON: they print as their size. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  return value;
}
