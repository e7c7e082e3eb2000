import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { startCli } from '../fixtures/cli.js';
import { startRecordingProxy, type RecordingProxy } from '../fixtures/recording-proxy.js';

/** A run that never stops being refused is killed after this. */
const BOUND_MS = 90_000;
/** The enqueued-token limit, the emulator's and the tier's: about five of the workload's requests. */
const TIER_LIMIT = 300;
const RECORDS = 24;

// Jobs were packed on estimated tokens up to the budget at the tier's limit. When the estimates
// undercount (here countTokens, which calibrates them at start, says half of what the batch counts,
// as it can for media), every round packed the budget again and its last create was refused with a
// 429 for enqueued tokens, waited out, and packed again: a refused create at almost every pass.
describe('the batch packer learns the enqueued-token budget from refusals', () => {
  let emulator: RunningEmulator;
  let proxy: RecordingProxy;
  const roots: string[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({
      timeScale: 600,
      seed: 5,
      turnaroundMs: { min: 60_000, max: 120_000 },
      quotas: { maxEnqueuedTokensPerModel: TIER_LIMIT },
    });
    proxy = await startRecordingProxy(emulator.url, {
      rewrite: (call, body) => {
        if (!call.path.includes(':countTokens')) return undefined;
        const counted = body as { totalTokens?: number };
        return { ...counted, totalTokens: Math.ceil((counted.totalTokens ?? 0) / 2) };
      },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await emulator?.close();
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it(
    'after one refused create it packs to what the API takes: one refusal, every record billed once',
    async () => {
      const workload = writeCatalogWorkload({
        books: RECORDS,
        pages: 1,
        execution: { max_requests_per_job: 2, max_concurrent_jobs: 10, poll_interval: '1s' },
        extraYaml: [
          `api:\n  base_url: ${proxy.url}`,
          'limits:',
          '  models:',
          '    gemini-2.5-flash:',
          `      batch_enqueued_tokens: ${TIER_LIMIT}`,
        ].join('\n'),
      });
      roots.push(workload.root);
      const run = startCli(['run', '-c', workload.configPath], {
        env: { GEMINI_API_KEY: 'budget-learning-test-key' },
      });
      const timer = setTimeout(() => run.child.kill('SIGKILL'), BOUND_MS);
      const result = await run.result.finally(() => clearTimeout(timer));

      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`records: ${RECORDS} done`));
      const refused = proxy
        .calls()
        .filter(
          (call) =>
            call.method === 'POST' && call.path.includes(':batchGenerateContent') && call.status === 429,
        );
      expect(refused, 'batch creates refused with 429').toHaveLength(1);
      // Said once, with the budget it packs to now.
      const said = `${result.stdout}\n${result.stderr}`.match(/the token estimates undercount/g) ?? [];
      expect(said).toHaveLength(1);
      const ledger = emulator.ledger.entries();
      expect(ledger.map((entry) => entry.key).sort()).toEqual(workload.chains.flat().sort());
    },
    BOUND_MS + 20_000,
  );
});
