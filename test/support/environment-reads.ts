/**
 * Which environment variables the code reads, found in the source itself, so
 * tests can check a deployment's environment against it without a hand-kept
 * list: string literals and `env.NAME` accesses in TypeScript (comments
 * stripped, so a variable only mentioned in a doc comment does not count),
 * and `$NAME` / `${NAME}` / `process.env.NAME` in deploy/ scripts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Names that look like configuration: upper case with an underscore. */
const variableName = /^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/;

/** Source files under `directory` (recursively) whose names end with one of `extensions`; no tests, no declarations. */
export function sourceFiles(directory: string, extensions: readonly string[]): string[] {
  if (!existsSync(directory)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(directory)) {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) {
      if (entry !== 'node_modules' && entry !== 'gen') found.push(...sourceFiles(path, extensions));
    } else if (extensions.some((extension) => entry.endsWith(extension)) && !entry.endsWith('.d.ts') && !entry.includes('.test.')) {
      found.push(path);
    }
  }
  return found;
}

/** JavaScript/TypeScript without its comments (`//` after a `:` is a URL, not a comment). */
function withoutComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:\\])\/\/.*$/gm, '$1');
}

/** Variables read by the JavaScript or TypeScript `code`. */
export function variablesReadByCode(code: string): Set<string> {
  const text = withoutComments(code);
  const names = new Set<string>();
  for (const [, name = ''] of text.matchAll(/['"`]([A-Z][A-Z0-9_]*)['"`]/g)) if (variableName.test(name)) names.add(name);
  for (const [, name = ''] of text.matchAll(/\benv\??\.([A-Z][A-Z0-9_]*)/g)) if (variableName.test(name)) names.add(name);
  return names;
}

/** Variables read by a shell script (`$NAME`, `${NAME…}`), comments dropped. */
export function variablesReadByShell(script: string): Set<string> {
  const text = script
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n');
  const names = new Set<string>();
  for (const [, braced, bare] of text.matchAll(/\$(?:\{([A-Z][A-Z0-9_]*)|([A-Z][A-Z0-9_]*))/g)) {
    const name = braced ?? bare ?? '';
    if (variableName.test(name)) names.add(name);
  }
  return names;
}

/** Every variable the files under `directories` read (TypeScript/JavaScript, and shell for `.sh`). */
export function variablesReadUnder(directories: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const directory of directories) {
    for (const file of sourceFiles(directory, ['.ts', '.mts', '.js', '.mjs'])) for (const name of variablesReadByCode(readFileSync(file, 'utf8'))) names.add(name);
    for (const file of sourceFiles(directory, ['.sh'])) for (const name of variablesReadByShell(readFileSync(file, 'utf8'))) names.add(name);
  }
  return names;
}
