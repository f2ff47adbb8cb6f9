import { defineConfig } from 'vitest/config';

/**
 * `npm run test:chaos`: the chaos suite at its long scale (CHAOS_SCALE=long, CHAOS_MINUTES of
 * traffic, 8 by default). `npm test` runs the same files at the short scale.
 */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    env: {
      CHAOS_SCALE: process.env.CHAOS_SCALE ?? 'long',
      CHAOS_MINUTES: process.env.CHAOS_MINUTES ?? '8',
    },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One file at a time: each starts its own Redis and worker processes.
    fileParallelism: false,
  },
});
