import { describe, expect, it } from 'vitest';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// The first Flex answer is cut off half-way: Google may bill those calls at a price wavebatch
// cannot know, so the run's cost is a floor, and its end says so.
const faulty = {
  emulator: { faults: { http: [{ kind: 'reset_mid_body' as const, match: 'generate' as const, count: 1 }] } },
  workload: {
    books: 1,
    pages: 1,
    execution: { mode: 'flex' as const, max_retries: 3, poll_interval: '30s' },
  },
};

describe('the end of a run with calls that brought no answer', () => {
  const workload = useEmulatedWorkload(faulty);

  it('says its cost is a floor, in text', async () => {
    const result = await workload.cli(['run']);
    expect(result.code, result.stderr).toBe(0);
    const costLine = `${result.stdout}\n${result.stderr}`
      .split('\n')
      .find((line) => line.includes('cost: $'));
    expect(costLine).toMatch(/this run; \d+ calls? with no answer .* the cost is a floor/);
  }, 60_000);
});

describe('the end of a run with calls that brought no answer, in JSON', () => {
  const workload = useEmulatedWorkload(faulty);

  it('counts them in unknownCostRequests', async () => {
    const result = await workload.cli(['run', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(summary.unknownCostRequests).toBeGreaterThan(0);
  }, 60_000);
});
