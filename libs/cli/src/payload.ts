import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from './cli-error.js';
import { readAll } from './io.js';

/**
 * `--payload JSON|@file|-`: the text itself, the contents of a file (`@path`),
 * or standard input (`-`). Not parsed here: Hearth answers a payload that is
 * not JSON with Lambda's InvalidRequestContentException, as Lambda does.
 */
export async function readPayload(option: string | undefined, cwd: string, stdin: AsyncIterable<Uint8Array | string>): Promise<Uint8Array | undefined> {
  if (option === undefined) return undefined;
  if (option === '-') return readAll(stdin);
  if (option.startsWith('@')) {
    const path = option.slice(1);
    try {
      return new Uint8Array(await readFile(resolve(cwd, path)));
    } catch (error) {
      throw new UsageError(`--payload @${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  }
  return new TextEncoder().encode(option);
}
