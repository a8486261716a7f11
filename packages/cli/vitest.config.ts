import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Bounds for a hang, not timings. Most tests here start several node processes one after the
    // other (init, serve, rollup, status …), whose start-up follows the machine's load: a 30 s test
    // took 15.3 s in one CI run on the shared two cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
