import { defineConfig } from 'vitest/config';

// Unit tests run in Node on the tfjs CPU backend (src/core is DOM-free by rule).
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
