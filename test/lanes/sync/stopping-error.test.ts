import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { runCli } from '../../fixtures/cli.js';
import { billed } from '../../fixtures/billed-figures.js';

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
      responder: () => {
        received += 1;
        // The last of the four calls is refused, so three are in flight when the run must stop.
        if (received === 4)
          return { error: { code: 403, status: 'PERMISSION_DENIED', message: 'refused by the test' } };
        // The first is cut at MAX_TOKENS: billed, and not sent again by a stopping run.
        if (received === 1)
          return {
            response: {
              candidates: [
                { content: { parts: [{ text: '{"courses": ["Lat' }] }, finishReason: 'MAX_TOKENS' },
              ],
            },
          };
        return undefined;
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
    for (let waited = 0; emulator.ledger.entries().length < 3 && waited < 10_000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const ledger = emulator.ledger.entries();
    expect(ledger).toHaveLength(3);
    // The cut answer was not sent again.
    expect(received).toBe(4);

    const status = JSON.parse((await runCli(['status', '--json', '-c', configPath], { env })).stdout) as {
      records: { done: number; ready: number; dead: number };
      billed: { requests: number; inputTokens: number; outputTokens: number } | null;
    };
    // Each billed answer is kept (the cut one waits for the next run) and on record.
    expect(status.records).toMatchObject({ done: 2, ready: 2, dead: 0 });
    expect(status.billed).toMatchObject({
      requests: 3,
      inputTokens: billed(ledger).all.inputTokens,
      outputTokens: billed(ledger).all.outputTokens,
    });
  }, 60_000);
});
