import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { refusedCreates, tierLimitedApi } from '../fixtures/tier-limited-api.js';

/** A run refused on every create waits forever: it is killed after this. */
const BOUND_MS = 60_000;
/** The usage tier's enqueued-token limit here: room for two of the workload's ~56-token requests, not three. */
const TIER_LIMIT = 140;

// The runner submitted within execution.enqueued_token_budget (default 5M) uncapped, while `estimate`
// capped it by the usage tier's enqueued-token limit (Tier 1 2.5 Flash: 3M): its jobs were refused
// with 429s that the run waited out, and a job packed larger than the limit was never admitted.
describe("a run keeps its batch jobs within the usage tier's enqueued-token limit", () => {
  // The emulator enforces the same limit as the tier's (set through `limits:` the same way).
  const api = tierLimitedApi({
    timeScale: 3600,
    seed: 12,
    turnaroundMs: 60_000,
    quotas: { maxEnqueuedTokensPerModel: TIER_LIMIT },
  });

  it(
    'splits the work into jobs the API admits: no create is refused with 429 and every record is billed once',
    async () => {
      // enqueued_token_budget is left at its default (5M): only the tier's limit keeps jobs small.
      const workload = api.workload({
        books: 6,
        tierLimit: TIER_LIMIT,
        execution: { max_requests_per_job: 100, max_concurrent_jobs: 10, poll_interval: '1s' },
      });
      const result = await api.run(workload.configPath, 'tier-cap-test-key', BOUND_MS);

      expect(refusedCreates(api.proxy().calls()), 'batch creates refused with 429').toEqual([]);
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(/records: 6 done/);
      const ledger = api.emulator().ledger.entries();
      expect(ledger.map((entry) => entry.key).sort()).toEqual(workload.chains.flat().sort());
      // At most two requests a job, so at least three jobs.
      expect(new Set(ledger.map((entry) => entry.batchName)).size).toBeGreaterThanOrEqual(3);
    },
    BOUND_MS + 20_000,
  );

  it(
    'a batch run in a usage tier that enqueues nothing (free) is refused at start, not left waiting for ever',
    async () => {
      const workload = api.workload({ books: 2, tierLimit: 'free', execution: { poll_interval: '1s' } });
      const calls = api.proxy().calls().length;
      const result = await api.run(workload.configPath, 'tier-cap-test-key', BOUND_MS);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('CONFIG_NO_BATCH_QUOTA');
      expect(result.stderr).toContain('limits.usage_tier');
      expect(api.proxy().calls()).toHaveLength(calls);
      expect(existsSync(join(workload.root, 'state'))).toBe(false);
    },
    BOUND_MS + 20_000,
  );
});
