#!/usr/bin/env node
/**
 * `hearth` (the package's bin; `npx hearth …` in the repo): runs the built CLI
 * in libs/cli/dist. See libs/cli/README.md for the commands and exit codes.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../libs/cli/dist/main.js', import.meta.url);

if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('hearth: the CLI is not built: run `npm run build` in the repository first (npm start does).\n');
  process.exit(1);
}
await import(main.href);
