import { configDefaults, defineConfig } from 'vitest/config';
import { common, resolve } from './vitest.config.js';

/**
 * `npm run test:system`: interoperability and end-to-end checks with outside peers (Debian's
 * mosquitto as broker and client, the real PTY end to end per profile, the built CLI). Each test
 * checks for what it needs (test/helpers/requires.ts) and is skipped, naming the package, when
 * it is missing.
 */
export default defineConfig({
  resolve,
  test: {
    ...common,
    include: ['test/system/**/*.test.ts'],
    exclude: [...configDefaults.exclude],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
