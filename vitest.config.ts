import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Test files that measure real time against a rate (requests a minute held by the limiter): they run
 * on their own, after the others, so a neighbour's CPU does not become their finding.
 */
const ALONE = ['test/lanes/sync/sync-throughput.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Compiles the CLI once for the tests that spawn it (see the file for why).
    globalSetup: ['test/compiled-cli.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'tests',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...ALONE],
          // Vitest's default is one worker fewer than the CPUs: one on a 2-CPU machine, which left a
          // CPU idle while most tests wait on a child process, an HTTP answer or the emulator's clock.
          maxWorkers: Math.max(2, availableParallelism() - 1),
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
