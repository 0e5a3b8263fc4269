// The fault test only (npm run test:faults, and .ci/run after the unit tests): real processes on a real
// PostgreSQL, killed and restarted; minutes long, so a long timeout and one file at a time.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 10 * 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
