import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';

// `wavebatch run` / `run-once` with a synchronous lane, as a user runs them: the CLI binary against
// the emulator (Flex's 1-15 minutes at 3,600x: 17-250 real ms).
describe('wavebatch run with execution.mode flex', () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  const env = { GEMINI_API_KEY: 'lanes-test-key-not-secret' };

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, seed: 4 });
    const workload = writeCatalogWorkload({
      books: 2,
      pages: 3,
      execution: { mode: 'flex', poll_interval: '1s' },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    ({ root, configPath } = workload);
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('run-once sends the ready records on Flex and waits for their answers; run finishes the chains', async () => {
    const once = await runCli(['run-once', '-c', configPath, '--json'], { env });
    expect(once.code, once.stderr).toBe(0);
    const first = JSON.parse(once.stdout) as {
      counts: { done: number; in_flight: number };
      lanes: Record<string, { done: number; attempts: number; costUsd: number }>;
    };
    // The first page of each chain, answered and applied within the run-once; nothing left in flight.
    expect(first.counts).toMatchObject({ done: 2, in_flight: 0 });
    expect(first.lanes).toEqual({ flex: { done: 2, attempts: 2, costUsd: expect.any(Number) } });
    expect(emulator.ledger.entries()).toHaveLength(2);

    const run = await runCli(['run', '-c', configPath], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/records: 6 done/);
    expect(run.stdout).toMatch(/lanes: flex 4 done in 4 attempts \(\$\d+\.\d+\)/);
    const ledger = emulator.ledger.entries();
    expect(ledger).toHaveLength(6);
    expect(ledger.every((entry) => entry.lane === 'flex')).toBe(true);
  });
});
