import { describe, expect, it } from 'vitest';
import { refusedCreates, tierLimitedApi } from '../fixtures/tier-limited-api.js';

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
  const api = tierLimitedApi(
    {
      timeScale: 600,
      seed: 5,
      turnaroundMs: { min: 60_000, max: 120_000 },
      quotas: { maxEnqueuedTokensPerModel: TIER_LIMIT },
    },
    {
      rewrite: (call, body) => {
        if (!call.path.includes(':countTokens')) return undefined;
        const counted = body as { totalTokens?: number };
        return { ...counted, totalTokens: Math.ceil((counted.totalTokens ?? 0) / 2) };
      },
    },
  );

  it(
    'after one refused create it packs to what the API takes: one refusal, every record billed once',
    async () => {
      const workload = api.workload({
        books: RECORDS,
        tierLimit: TIER_LIMIT,
        execution: { max_requests_per_job: 2, max_concurrent_jobs: 10, poll_interval: '1s' },
      });
      const result = await api.run(workload.configPath, 'budget-learning-test-key', BOUND_MS);

      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`records: ${RECORDS} done`));
      expect(refusedCreates(api.proxy().calls()), 'batch creates refused with 429').toHaveLength(1);
      // Said once, with the budget it packs to now.
      const said = `${result.stdout}\n${result.stderr}`.match(/the token estimates undercount/g) ?? [];
      expect(said).toHaveLength(1);
      const ledger = api.emulator().ledger.entries();
      expect(ledger.map((entry) => entry.key).sort()).toEqual(workload.chains.flat().sort());
    },
    BOUND_MS + 20_000,
  );
});
