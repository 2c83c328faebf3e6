import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findRepoRoot, upSteps } from '@hearth/cli';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

describe('hearth up', () => {
  it('runs exactly the steps of `npm start`', () => {
    const rootPackage = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: { start: string }; bin: Record<string, string> };
    expect(upSteps.map((step) => [step.command, ...step.args].join(' ')).join(' && ')).toBe(rootPackage.scripts.start);
    // And the package's bin runs this CLI, next to hearth-up.
    expect(rootPackage.bin).toMatchObject({ hearth: 'scripts/hearth.mjs', 'hearth-up': 'scripts/hearth-up.mjs' });
  });

  it('finds the repository root from the CLI’s own directory', () => {
    expect(findRepoRoot(join(repoRoot, 'libs', 'cli', 'dist'))).toBe(repoRoot.replace(/\/$/, ''));
    expect(findRepoRoot('/')).toBeUndefined();
  });
});
