import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: the suite must pass on a loaded machine (8 jobs on 2 cores). Tests never assert on
    // wall time; tests that drive child processes set 600 s explicitly.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Native jobs use OpenMP threads of their own; one test file at a time per core.
    maxWorkers: 2,
  },
});
