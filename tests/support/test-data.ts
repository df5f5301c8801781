import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe } from 'vitest';

/**
 * Real market data for tests lives beside the project in ../shared/data (never copied in).
 * One setting, VANTAGE_TEST_DATA, points elsewhere. Where it is absent (a user's clone), tests
 * that need it skip with a visible notice; .ci/run fails if it is absent, so CI never skips them.
 */
export const TEST_DATA_DIR = resolve(
  process.env.VANTAGE_TEST_DATA ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'data'),
);

export const hasTestData = existsSync(join(TEST_DATA_DIR, 'README.md'));

export function testDataPath(...parts: string[]): string {
  return join(TEST_DATA_DIR, ...parts);
}

let noticeShown = false;

/** describe() that runs only when the reference data is present, and says so loudly when it is not. */
export function describeWithData(name: string, fn: () => void): void {
  if (!hasTestData && !noticeShown) {
    noticeShown = true;
    console.warn(
      `\n[vantage tests] NOTICE: reference data not found at ${TEST_DATA_DIR}; tests that need it are SKIPPED. Set VANTAGE_TEST_DATA.\n`,
    );
  }
  describe.skipIf(!hasTestData)(
    hasTestData ? name : `${name} (skipped: no reference data at ${TEST_DATA_DIR})`,
    fn,
  );
}
