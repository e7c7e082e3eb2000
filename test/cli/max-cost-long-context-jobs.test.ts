import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rawGet } from '../emulator/harness.js';
import { capJobsInFlight, oneJobInFlight, useEmulatedWorkload } from '../fixtures/emulated-workload.js';
import { billed } from '../fixtures/billed-figures.js';
import { speedableRealTime } from '../fixtures/emulator-clock.js';

// max_cost counts what the run's batch jobs in flight will cost at their estimate. It priced a job
// as one request of all its tokens, so a job of four 60K-token 2.5 Pro pages (240K together, no
// request above the 200K long-context threshold) was counted at the long-context rate, twice the
// input rate the API bills it at, and the cap held back records that fit beside it.
describe('max_cost with a batch job of many requests in flight', () => {
  // The emulator's time stands still until both passes have seen the first job: it is still in
  // flight when the second run-once starts, however loaded the machine. Then it runs 60 times
  // faster, so each job's four emulated hours take 0.4 real seconds, not 24.
  const time = speedableRealTime(0);
  const workload = useEmulatedWorkload({
    emulator: { timeScale: 600, turnaroundMs: 4 * 3_600_000, seed: 14, realNow: time.now },
    workload: oneJobInFlight(4),
  });

  it('prices the job request by request, so the records that fit beside it are sent at once', async () => {
    const { emulator } = workload;
    // Each page some 60K tokens: $0.04 a request on Batch at 2.5 Pro's rate up to 200K prompt
    // tokens (500 output tokens assumed before any is billed), $0.046 with the 15% margin.
    for (const [id] of workload.chains)
      writeFileSync(join(workload.root, 'dataset', `${id}.txt`), `${id}: ${'Latin 101. '.repeat(21_800)}`);
    workload.editConfig('name: gemini-2.5-flash', 'name: gemini-2.5-pro');

    // One pass: a job of four pages is created and left in flight; the other two stay ready.
    const once = await workload.cli(['run-once']);
    expect(once.code, once.stderr).toBe(0);
    expect(await jobSizes()).toEqual([4]);

    // The job in flight is $0.184 at its estimate, the two ready pages $0.092: $0.276, within the cap.
    // As one request of 240K tokens the job was $0.362 (long-context rates), over it.
    const maxCost = 0.32;
    capJobsInFlight(workload, maxCost);
    const second = await workload.cli(['run-once']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toContain('max_cost');
    // Sent while the first job is still in flight (the emulator has billed nothing yet).
    expect(emulator.ledger.entries()).toEqual([]);
    expect((await jobSizes()).sort()).toEqual([2, 4]);

    // Both jobs billed: the bill is within the cap, as their estimates were.
    time.speedUp(60);
    const run = await workload.cli(['run']);
    expect(run.code, run.stderr).toBe(0);
    const bills = emulator.ledger.entries();
    expect(bills).toHaveLength(6);
    expect(billed(bills).all.costUsd).toBeLessThanOrEqual(maxCost);
  }, 180_000);

  /** Requests of each batch job the emulator holds (its batchStats, which the SDK does not expose). */
  async function jobSizes(): Promise<number[]> {
    const { body } = await rawGet(workload.emulator, 'batches');
    const operations = (body.operations ?? []) as Array<{
      metadata: { batchStats: { requestCount: string } };
    }>;
    return operations.map((operation) => Number(operation.metadata.batchStats.requestCount));
  }
});
