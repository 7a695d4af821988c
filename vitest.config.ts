import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig, type ViteUserConfig } from 'vitest/config';

/**
 * `import … from 'vmodem'` in examples/ is this repository's source, so the examples run as a
 * user would write them (issue 14).
 */
export const resolve = {
  alias: [{ find: /^vmodem$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }],
};

/** What both suites share (vitest.system.config.ts takes it too). */
export const common = {
  setupFiles: ['test/setup/no-faults.ts'],
  testTimeout: 30_000,
  hookTimeout: 30_000,
  // PTY and broker tests open real descriptors and ports; two workers suit the 2-core machine.
  maxWorkers: 2,
  // No retries: a test that fails once is a bug in the test or in the code (DESIGN.md, Tests).
  // CI counts results from a JSON report (.ci/run); people get the default reporter only.
  ...(process.env.VMODEM_TEST_REPORT
    ? { reporters: ['default', 'json'], outputFile: { json: process.env.VMODEM_TEST_REPORT } }
    : {}),
  // `npm run coverage` (v8).
  coverage: {
    provider: 'v8',
    include: ['src/**/*.ts'],
    reporter: ['text-summary', 'html'],
    reportsDirectory: 'coverage',
  },
} satisfies ViteUserConfig['test'];

/**
 * `npm test`: everything that needs only what `npm install` brings. The system suite
 * (test/system/: outside peers such as Debian's mosquitto, the built CLI) has its own config,
 * vitest.system.config.ts (`npm run test:system`).
 */
export default defineConfig({
  resolve,
  test: {
    ...common,
    // One worker process per core for the whole run instead of one per file: without isolation
    // src/ is loaded once per worker, not once per test file (about 40% of the suite's CPU time).
    // Tests therefore leave no process-wide state behind (listeners on process, env, fake timers,
    // module-level singletons); test/setup/no-faults.ts registers its listener once per process.
    isolate: false,
    // examples/: the README's examples, run as they are written.
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/system/**'],
  },
});
