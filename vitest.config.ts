import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Native jobs use OpenMP threads of their own; one test file at a time per core.
    maxWorkers: 2,
  },
});
