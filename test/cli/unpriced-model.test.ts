import { describe, expect, it } from 'vitest';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// A model the price list does not know (a tuned one, served here by the emulator) has no cost to
// tell: the run's summary said $0.000000, as if the run had been free.
describe('a run on a model without a price', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 7, models: ['my-tuned-model'] },
    workload: { books: 1, pages: 1, execution: { poll_interval: '1s' } },
  });

  it('says its cost is unknown (null in --json), not zero', async () => {
    workload.editConfig('gemini-2.5-flash', 'my-tuned-model');
    const run = await workload.cli(['run', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ finished: true, costUsd: null });
    const again = await workload.cli(['run']);
    expect(again.stdout).toContain('cost: unknown this run (no price for the model');
  });
});
