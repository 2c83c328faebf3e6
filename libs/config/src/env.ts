/** Typed readers of environment variables; a malformed value throws ConfigError naming the variable. */

/** Raised at start when an environment variable is malformed. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads a string variable, or `fallback` when unset or empty. */
export function envString(name: string, fallback: string, env: Env = process.env): string {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
}

/** Reads a required string variable; throws ConfigError naming it when unset. */
export function envRequired(name: string, env: Env = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ConfigError(`${name} is required but not set`);
  return value;
}

/** Reads an integer variable within [min, max], or `fallback` when unset. */
export function envInt(
  name: string,
  fallback: number,
  range: { min?: number; max?: number } = {},
  env: Env = process.env,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw} is not an integer between ${min} and ${max}`);
  }
  return value;
}

/** Reads a boolean variable (`true/false/1/0/yes/no`), or `fallback` when unset. */
export function envBool(name: string, fallback: boolean, env: Env = process.env): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const normalised = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalised)) return true;
  if (['0', 'false', 'no', 'off'].includes(normalised)) return false;
  throw new ConfigError(`${name}=${raw} is not a boolean (use true or false)`);
}

/** Reads a comma-separated list, trimming blanks; `fallback` when unset. */
export function envList(name: string, fallback: readonly string[], env: Env = process.env): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [...fallback];
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Reads `key=value,key=value` pairs into a map; `fallback` when unset. */
export function envMap(name: string, env: Env = process.env): Map<string, string> {
  const result = new Map<string, string>();
  for (const pair of envList(name, [], env)) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) {
      throw new ConfigError(`${name} entry "${pair}" is not of the form key=value`);
    }
    result.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return result;
}

