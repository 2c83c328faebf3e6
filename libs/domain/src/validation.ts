/**
 * Small checks that turn a request member into a typed value or throw the
 * InvalidParameterValueException a Lambda client expects. Every message names
 * the field (as a path such as `VpcConfig.SubnetIds[2]`), the value and what is
 * allowed. Requests arrive as parsed JSON, so each check also guards the type.
 */
import { InvalidParameterValueException } from '@hearth/errors';

/** A regular expression together with the text a message shows for it. */
export interface Pattern {
  /** Anchored expression that the whole value must match. */
  readonly regex: RegExp;
  /** How the pattern reads in a message, e.g. `[a-zA-Z0-9-_]+` (botocore's spelling). */
  readonly text: string;
}

/** Builds a {@link Pattern} from botocore's unanchored pattern text; the value must match it whole. */
export function pattern(text: string, flags = ''): Pattern {
  return { regex: new RegExp(`^(?:${text})$`, flags), text };
}

/** Throws InvalidParameterValueException with the message. */
export function reject(message: string): never {
  throw new InvalidParameterValueException(message);
}

const shownLength = 64;

/** Renders a value for a message: strings quoted and cut at 64 characters, other values as JSON. */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    const chars = [...value];
    return JSON.stringify(chars.length > shownLength ? `${chars.slice(0, shownLength).join('')}…` : value);
  }
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  const json = JSON.stringify(value) ?? String(value);
  return json.length > shownLength ? `${json.slice(0, shownLength)}…` : json;
}

/** True unless the member is missing: JSON `null` counts as missing, as Lambda treats it. */
export function isPresent<T>(value: T | null | undefined): value is T {
  return value !== undefined && value !== null;
}

/** Requires a member. */
export function required<T>(value: T | null | undefined, path: string): T {
  if (!isPresent(value)) reject(`${path} is required`);
  return value;
}

/** Requires a JSON object (a structure or a map). */
export function checkObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    reject(`${path} must be an object (got ${show(value)})`);
  }
  return value as Record<string, unknown>;
}

/** Constraints on a string member; omitted constraints are not checked. */
export interface StringRule {
  /** Fewest characters (Unicode code points). Default: no minimum. */
  readonly min?: number;
  /** Most characters (Unicode code points). Default: no maximum. */
  readonly max?: number;
  /** Pattern the whole value must match. Default: any text. */
  readonly pattern?: Pattern;
  /** What the message says is allowed when the pattern fails. Default: `pattern <pattern text>`. */
  readonly allowed?: string;
}

/** Requires a string within length and pattern. */
export function checkString(value: unknown, path: string, rule: StringRule = {}): string {
  if (typeof value !== 'string') reject(`${path} must be a string (got ${show(value)})`);
  const length = [...value].length;
  const min = rule.min ?? 0;
  const max = rule.max ?? Number.POSITIVE_INFINITY;
  if (length < min || length > max) {
    const range = max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min}–${max}`;
    reject(`${path} ${show(value)} has ${length} characters (allowed: ${range} characters)`);
  }
  if (rule.pattern !== undefined && !rule.pattern.regex.test(value)) {
    reject(`${path} ${show(value)} is invalid (allowed: ${rule.allowed ?? `pattern ${rule.pattern.text}`})`);
  }
  return value;
}

/** Requires one of the listed values. */
export function checkEnum<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    reject(`${path} ${show(value)} is not supported (allowed: ${allowed.join(', ')})`);
  }
  return value as T;
}

/** Inclusive bounds of a number. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

/** Requires a finite number within bounds. */
export function checkNumber(value: unknown, path: string, range: Range): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) reject(`${path} must be a number (got ${show(value)})`);
  if (value < range.min || value > range.max) {
    reject(`${path} ${value} is out of range (allowed: ${range.min}–${range.max})`);
  }
  return value;
}

/** Requires a whole number within bounds. */
export function checkInteger(value: unknown, path: string, range: Range): number {
  const number = checkNumber(value, path, range);
  if (!Number.isInteger(number)) {
    reject(`${path} ${number} is not a whole number (allowed: whole numbers ${range.min}–${range.max})`);
  }
  return number;
}

/** Requires a boolean. */
export function checkBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') reject(`${path} must be true or false (got ${show(value)})`);
  return value;
}

/** Requires a list whose length is within bounds. */
export function checkList(value: unknown, path: string, range: Range): unknown[] {
  if (!Array.isArray(value)) reject(`${path} must be a list (got ${show(value)})`);
  if (value.length < range.min || value.length > range.max) {
    const allowed = range.min === range.max ? `exactly ${range.min} item${range.min === 1 ? '' : 's'}` : `${range.min}–${range.max} items`;
    reject(`${path} has ${value.length} items (allowed: ${allowed})`);
  }
  return value;
}

/** Requires a list of strings, each checked by the rule, with no value repeated. */
export function checkStringList(value: unknown, path: string, range: Range, rule: StringRule): string[] {
  const items = checkList(value, path, range).map((item, index) => checkString(item, `${path}[${index}]`, rule));
  const seen = new Set<string>();
  items.forEach((item, index) => {
    // A repeated id is almost always a copy-paste slip; silently deduplicating would hide it.
    if (seen.has(item)) reject(`${path}[${index}] ${show(item)} is repeated (allowed: each value once)`);
    seen.add(item);
  });
  return items;
}
