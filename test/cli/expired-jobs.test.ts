import { describe, expect, it } from 'vitest';
import { runCliWithin } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// An EXPIRED job counts no attempt (Google's queue let it expire), and its records go again. A job
// that always expires must not be sent again for ever: the user is told, and past max_retries
// expiries the records are dead-lettered.
describe('wavebatch run whose batch jobs keep expiring', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 43 },
    workload: { books: 2, pages: 2, execution: { max_retries: 1, poll_interval: 20 } },
  });

  /** `wavebatch run`, killed after 30 s: a run that loops for ever fails the test. */
  const runWithin30s = () =>
    runCliWithin(30_000, ['run', '-c', workload.configPath, '--log-format', 'text'], { env: workload.env });

  it('warns with the count at each expiry and dead-letters the records past max_retries expiries', async () => {
    workload.emulator.setFaults({ jobRates: { expired: 1 } });
    const result = await runWithin30s();

    expect(result.code).toBe(3);
    expect(result.stdout).toContain('records: 0 done, 2 dead-lettered, 2 pending (4 total)');
    expect(result.stderr).toContain('expired up to 1 times in a row');
    expect(result.stderr).toContain('expired up to 2 times in a row');
    // Two jobs per chain head (max_retries 1: the second expiry dead-letters), none billed.
    const heads = workload.chains.map((chain) => chain[0]);
    expect(workload.emulator.ledger.entries()).toHaveLength(0);
    const dead = await workload.cli(['failures', '--dead', '--export', 'jsonl']);
    const rows = dead.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { recordId: string; cause: string; message: string });
    expect(rows.map((row) => row.recordId).toSorted()).toEqual(heads.toSorted());
    for (const row of rows) {
      expect(row.cause).toBe('job_expired');
      expect(row.message).toContain("this record's jobs expired 2 times in a row");
    }
    const byCause = await workload.cli(['failures', '--by-cause']);
    expect(byCause.stdout).toMatch(/4 +job_expired/);
  });

  it('sends requeued records again with their expiries forgotten, and finishes once jobs stop expiring', async () => {
    workload.emulator.setFaults({ jobSequence: ['job_expired'] });
    expect((await workload.cli(['requeue'])).code).toBe(0);
    const result = await runWithin30s();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('records: 4 done, 0 dead-lettered, 0 pending (4 total)');
  });
});
