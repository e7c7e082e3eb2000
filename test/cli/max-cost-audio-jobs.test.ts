import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capJobsInFlight, oneJobInFlight, useEmulatedWorkload } from '../fixtures/emulated-workload.js';
import { wavBytes } from '../media/timed-media.js';
import { billed } from '../fixtures/billed-figures.js';

// max_cost counts what the run's batch jobs in flight will cost at their estimate. It priced their
// audio at the text rate (a third of Batch's audio rate for gemini-2.5-flash), so a run that found a
// job of recordings in flight sent more records beside it than the cap had room for, and its bill
// passed the cap.
describe('max_cost with a batch job of recordings in flight', () => {
  const workload = useEmulatedWorkload({
    // Two emulated hours a job: the job run-once creates is still in flight when `run` starts.
    emulator: { timeScale: 3600, turnaroundMs: 2 * 3_600_000, seed: 12 },
    workload: oneJobInFlight(2),
  });

  it("counts the job's audio at the audio rate, so the records sent beside it keep the run's bill under the cap", async () => {
    const { emulator } = workload;
    // Six ten-minute recordings: 19,200 audio tokens each, about $0.0098 billed at Batch's audio
    // rate ($0.0029 at its text rate), and some 130 output tokens (500 assumed before any is billed).
    for (const [id] of workload.chains) {
      rmSync(join(workload.root, 'dataset', `${id}.txt`));
      writeFileSync(join(workload.root, 'dataset', `${id}.wav`), wavBytes(600));
    }
    workload.editConfig(
      'levels: [state, school, year]',
      'levels: [state, school, year]\n  extensions: [.wav]',
    );

    // One pass: a job of two recordings is created and left in flight; the other four stay ready.
    const once = await workload.cli(['run-once']);
    expect(once.code, once.stderr).toBe(0);
    expect(emulator.ledger.entries()).toEqual([]);

    // The in-flight job's two recordings are $0.0235 at the estimate (audio rate, 500 output tokens,
    // the 15% margin): beside them the cap has room for one more record at a time, not three.
    const maxCost = 0.045;
    capJobsInFlight(workload, maxCost);
    const run = await workload.cli(['run']);
    expect(run.stderr).not.toContain('error');

    const bills = emulator.ledger.entries();
    // The job run-once created was billed in this run, with what the run sent beside it.
    expect(bills.length).toBeGreaterThan(2);
    expect(bills.length).toBeLessThan(6);
    expect(billed(bills).all.costUsd).toBeLessThanOrEqual(maxCost);
  }, 120_000);
});
