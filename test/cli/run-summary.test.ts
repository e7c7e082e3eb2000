import { describe, expect, it } from 'vitest';
import { formatSummary } from '../../src/cli/progress.js';
import type { RunSummary } from '../../src/runner/run-summary.js';

const summary: RunSummary = {
  runId: 3,
  counts: { blocked: 1_200, ready: 0, in_flight: 0, done: 12_345, dead: 1_001, total: 14_546 },
  jobsSubmitted: 1_500,
  activeJobs: 0,
  unconfirmedJobs: 0,
  unansweredRequests: 1_234,
  inputTokens: 170_901,
  outputTokens: 393_202,
  costUsd: 0.517138,
  unknownCostRequests: 0,
  elapsedMs: 69_900,
  orphansCancelled: 0,
  stalledJobs: 0,
  finished: true,
  lanes: {
    flex: { done: 3_000, attempts: 3_000, costUsd: 0.5, reasons: { critical_path: 3_000 } },
    batch: { done: 9_345, attempts: 9_400, costUsd: 0.017138 },
  },
  batchOnly: null,
  outcome: 'finished',
};

// The closing summary counts as status and the log do: thousands separated.
describe('the run summary', () => {
  it('separates the thousands of every count and token sum', () => {
    const lines = formatSummary(summary, '/out').split('\n');
    expect(lines).toContain('records: 12,345 done, 1,001 dead-lettered, 1,200 pending (14,546 total)');
    expect(lines).toContain('jobs: 1,500 submitted this run, 0 still active');
    expect(lines).toContain('tokens (all runs of this workload): 170,901 input, 393,202 output');
    expect(lines).toContain(
      'lanes: flex 3,000 done in 3,000 attempts ($0.500000; sent for: critical path 3,000), batch 9,345 done in 9,400 attempts ($0.017138)',
    );
    expect(lines).toContain('1,200 records wait behind dead letters in their chains');
    expect(lines.some((line) => line.startsWith('1,234 records not answered'))).toBe(true);
  });
});
