import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

// Tests import workspace packages from their TypeScript sources, so a test run never
// depends on a stale build. Services under test in e2e run from their built dist.
// A subpath export (`@hearth/fleet/agent-wire`) is the source file of that name.
const alias = [
  { find: /^@hearth\/([a-z-]+)$/, replacement: `${root}libs/$1/src/index.ts` },
  { find: /^@hearth\/([a-z-]+)\/([a-z-]+)$/, replacement: `${root}libs/$1/src/$2.ts` },
];

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    // The AWS SDK warns on every run that future versions need Node 22; Hearth supports Node 20 on purpose.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['libs/*/test/**/*.unit.test.ts', 'services/*/test/**/*.unit.test.ts', 'test/**/*.unit.test.ts'],
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'int',
          include: ['libs/*/test/**/*.int.test.ts', 'services/*/test/**/*.int.test.ts'],
          globalSetup: ['libs/testing/src/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e.test.ts'],
          globalSetup: ['libs/testing/src/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
