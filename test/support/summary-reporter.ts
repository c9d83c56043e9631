import type { Reporter, TestModule } from 'vitest/node';

/**
 * Adds one plain closing line ("vitest: N passed, N failed, N skipped") after the default reporter's
 * summary, so that tools reading the last lines of a CI log can count the tests whatever the runner.
 * A file that failed outside its tests (a beforeAll or afterAll hook, such as the bay suites' scan for
 * leaked key material, or an import error) is counted at the end of the line, so that the line never
 * reads as a success when the run was not one.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    let filesFailedOutsideTests = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else counts.skipped++;
      }
      if (module.errors().length > 0) filesFailedOutsideTests++;
    }
    const outside = filesFailedOutsideTests > 0 ? `, ${filesFailedOutsideTests} file(s) failed outside their tests` : '';
    console.log(`vitest: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${outside}`);
  }
}
