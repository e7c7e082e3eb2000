import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.js';
import type { ModelCall } from '../../../src/emulator/model/index.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { runCli } from '../../fixtures/cli.js';

// A 403 on one Flex request stops the run (the key is refused: every record would fail the same
// way). The other calls in flight then were abandoned, their records released; Google finishes,
// and bills, what it started, so they were billed, missing from wavebatch's figures, and billed
// again by the next run.
describe('a run stopped by an API error while other Flex calls are in flight', () => {
  let emulator: RunningEmulator;
  let root = '';
  let configPath = '';
  const env = { GEMINI_API_KEY: 'stopping-error-test-key' };
  let received = 0;

  beforeAll(async () => {
    emulator = await startEmulator({
      seed: 41,
      // The refusal comes back at once; the other answers a second later.
      tiers: { flex: { latencyMs: 1_000 } },
      responder: (call: ModelCall) => {
        received += 1;
        return JSON.stringify(call.request).includes('of school1.')
          ? { error: { code: 403, status: 'PERMISSION_DENIED', message: 'refused by the test' } }
          : undefined;
      },
    });
    ({ root, configPath } = writeCatalogWorkload({
      books: 4,
      pages: 1,
      execution: { mode: 'flex', sync_concurrency: 4 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    }));
  });

  afterAll(async () => {
    await emulator.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('logs and keeps the answers of the other calls before it stops', async () => {
    const run = await runCli(['run', '-c', configPath], { env });
    expect(run.code, run.stderr).not.toBe(0);
    expect(run.stderr).toContain('PERMISSION_DENIED');
    // Every call but the refused one is billed, whether or not anyone waited for its answer.
    for (let waited = 0; emulator.ledger.entries().length < received - 1 && waited < 10_000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const ledger = emulator.ledger.entries();
    expect(ledger).toHaveLength(received - 1);
    // Other calls were in flight when the refusal came back.
    expect(ledger.length).toBeGreaterThan(0);

    const status = JSON.parse((await runCli(['status', '--json', '-c', configPath], { env })).stdout) as {
      records: { done: number; dead: number };
      billed: { requests: number; inputTokens: number; outputTokens: number } | null;
    };
    // Each billed answer is kept and on record.
    expect(status.records).toMatchObject({ done: ledger.length, dead: 0 });
    expect(status.billed).toMatchObject({
      requests: ledger.length,
      inputTokens: ledger.reduce((sum, entry) => sum + entry.inputTokens, 0),
      outputTokens: ledger.reduce((sum, entry) => sum + entry.outputTokens, 0),
    });
  }, 60_000);
});
