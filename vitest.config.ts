import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Compiles the CLI once for the tests that spawn it (see the file for why).
    globalSetup: ['test/compiled-cli.ts'],
  },
});
