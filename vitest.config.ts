import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // PTY and broker tests open real descriptors and ports; two workers suit the 2-core machine.
    maxWorkers: 2,
  },
});
