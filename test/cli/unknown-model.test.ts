import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';

// A misspelled model.name passes `config check` (a model list is Google's to keep), and the API
// answers every job and request with the same 404: each job's records counted a failed attempt and,
// after max_retries, the whole workload was dead-lettered. The run stops at the first answer instead.
describe.each(['batch', 'flex'] as const)('a run with a model the API does not serve, mode %s', (mode) => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  const env = { GEMINI_API_KEY: 'unknown-model-test-key' };

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 4 });
    ({ root, configPath } = writeCatalogWorkload({
      books: 3,
      pages: 2,
      execution: { mode, max_retries: 3, poll_interval: '1s' },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    }));
    writeFileSync(
      configPath,
      readFileSync(configPath, 'utf8').replace('gemini-2.5-flash', 'gemini-2.5-flsh'),
    );
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('stops with MODEL_NOT_FOUND (exit 2) naming model.name, dead-letters nothing and bills nothing', async () => {
    const run = await runCli(['run', '-c', configPath], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('[MODEL_NOT_FOUND]');
    expect(run.stderr).toContain('models/gemini-2.5-flsh is not found');
    expect(run.stderr).toContain('model.name');
    const failures = await runCli(['failures', '--json', '-c', configPath], { env });
    expect(JSON.parse(failures.stdout)).toEqual([]);
    const status = await runCli(['status', '--json', '-c', configPath], { env });
    expect(JSON.parse(status.stdout)).toMatchObject({ records: { dead: 0, done: 0 } });
    expect(emulator.ledger.entries()).toEqual([]);
  });
});
