import { describe, expect, it } from 'vitest';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';
import { billed } from '../fixtures/billed-figures.js';

// A batch row answered with invalid JSON is billed, then retried. The run summary's tokens summed
// the jobs' completed rows only, and left the billed failures out; status counted them.
describe("a batch run's summary tokens", () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 12 },
    workload: { books: 2, pages: 2, execution: { max_retries: 2, poll_interval: '1s' } },
  });

  it('count every billed row, as the ledger and status do', async () => {
    const { emulator, chains } = workload;
    emulator.setFaults({ byKey: { [chains[0]?.[0] as string]: ['invalid_json', 'invalid_json'] } });
    const run = await workload.cli(['run', '--json']);
    expect(run.code).toBe(0);
    const ledger = emulator.ledger.entries();
    // Two billed failures and four completions.
    expect(ledger).toHaveLength(6);
    const { inputTokens, outputTokens } = billed(ledger).all;
    const tokens = { inputTokens, outputTokens };
    expect(JSON.parse(run.stdout)).toMatchObject({ finished: true, ...tokens });
    const status = JSON.parse((await workload.cli(['status', '--json'])).stdout) as { billed: unknown };
    expect(status.billed).toMatchObject(tokens);
  });
});
