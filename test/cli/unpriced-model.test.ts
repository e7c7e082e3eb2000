import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';

// A model the price list does not know (a tuned one, served here by the emulator) has no cost to
// tell: the run's summary said $0.000000, as if the run had been free.
describe('a run on a model without a price', () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  const env = { GEMINI_API_KEY: 'unpriced-test-key' };

  beforeAll(async () => {
    emulator = await startEmulator({
      timeScale: 3600,
      turnaroundMs: 20_000,
      seed: 7,
      models: ['my-tuned-model'],
    });
    ({ root, configPath } = writeCatalogWorkload({
      books: 1,
      pages: 1,
      execution: { poll_interval: '1s' },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    }));
    writeFileSync(configPath, readFileSync(configPath, 'utf8').replace('gemini-2.5-flash', 'my-tuned-model'));
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('says its cost is unknown (null in --json), not zero', async () => {
    const run = await runCli(['run', '--json', '-c', configPath], { env });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ finished: true, costUsd: null });
    const again = await runCli(['run', '-c', configPath], { env });
    expect(again.stdout).toContain('cost: unknown this run (no price for the model');
  });
});
