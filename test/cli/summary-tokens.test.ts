import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';

// A batch row answered with invalid JSON is billed, then retried. The run summary's tokens summed
// the jobs' completed rows only, and left the billed failures out; status counted them.
describe("a batch run's summary tokens", () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  let chains: string[][];
  const env = { GEMINI_API_KEY: 'summary-tokens-test-key' };

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 12 });
    ({ root, configPath, chains } = writeCatalogWorkload({
      books: 2,
      pages: 2,
      execution: { max_retries: 2, poll_interval: '1s' },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    }));
    emulator.setFaults({ byKey: { [chains[0]?.[0] as string]: ['invalid_json', 'invalid_json'] } });
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('count every billed row, as the ledger and status do', async () => {
    const run = await runCli(['run', '--json', '-c', configPath], { env });
    expect(run.code).toBe(0);
    const ledger = emulator.ledger.entries();
    // Two billed failures and four completions.
    expect(ledger).toHaveLength(6);
    const billed = {
      inputTokens: ledger.reduce((sum, entry) => sum + entry.inputTokens, 0),
      outputTokens: ledger.reduce((sum, entry) => sum + entry.outputTokens, 0),
    };
    expect(JSON.parse(run.stdout)).toMatchObject({ finished: true, ...billed });
    const status = JSON.parse((await runCli(['status', '--json', '-c', configPath], { env })).stdout) as {
      billed: unknown;
    };
    expect(status.billed).toMatchObject(billed);
  });
});
