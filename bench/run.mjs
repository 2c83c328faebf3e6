#!/usr/bin/env node
// Runs every benchmark in bench/ one after another (they share two cores, so never in
// parallel) and prints their figures. `npm run bench -- event-store` runs the ones whose
// file name contains "event-store". Benchmarks print figures and save JSON under
// bench/results/; none passes or fails on time.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv[2] ?? '';
const benches = readdirSync(dir)
  .filter((file) => file.endsWith('.mjs') && file !== 'run.mjs' && file.includes(filter))
  .sort();
if (benches.length === 0) {
  console.error(`no benchmark in bench/ matches "${filter}"`);
  process.exit(2);
}
let failed = 0;
for (const bench of benches) {
  console.log(`\n=== ${bench} ===`);
  const result = spawnSync(process.execPath, [`${dir}${bench}`], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed += 1;
    console.error(`${bench} exited with ${result.status ?? result.signal}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
