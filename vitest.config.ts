import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/no-faults.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // PTY and broker tests open real descriptors and ports; two workers suit the 2-core machine.
    maxWorkers: 2,
    // On CI (2 cores shared by real PTYs, brokers and python firmware processes) a test that
    // fails is run once more; a real fault fails both times. Locally every failure shows.
    retry: process.env.CI ? 1 : 0,
    // CI counts results from a JSON report (.ci/run); people get the default reporter only.
    ...(process.env.VMODEM_TEST_REPORT
      ? { reporters: ['default', 'json'], outputFile: { json: process.env.VMODEM_TEST_REPORT } }
      : {}),
  },
});
