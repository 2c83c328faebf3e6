import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints one closing line in the plain form CI reads in any language,
 * `N passed, N failed, N skipped`, after vitest's own summary.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      let failedInModule = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed += 1;
        else if (state === 'failed') failedInModule += 1;
        else counts.skipped += 1;
      }
      // A file whose setup failed fails without any test failing: count it, or the line would read as a pass.
      counts.failed += failedInModule > 0 ? failedInModule : module.state() === 'failed' ? 1 : 0;
    }
    // An error outside any test (a crashed worker) fails the run; count it so the line never hides it.
    counts.failed += unhandledErrors.length;
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
