import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Unit tests run in Node on the tfjs CPU backend (src/core is DOM-free by rule).
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One fork per core. Vitest's default leaves a core to its main process, which idles while the
    // tfjs CPU backend computes: on CI's 2 cores that ran one test file at a time (the unit stage
    // took 485 s with 417 s of tests in it).
    maxWorkers: availableParallelism(),
  },
});
