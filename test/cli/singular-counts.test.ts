import { describe, expect, it } from 'vitest';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// A workload of one page makes one batch job of one request: the history commands say so in the
// singular, as the run summary does.
describe('wavebatch runs / log count one as one', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 1_000, seed: 5 },
    workload: { books: 1, pages: 1, execution: { poll_interval: 20 } },
  });

  it('prints "1 job  1 request" in the runs table and "1 request" in the job events', async () => {
    const run = await workload.cli(['run']);
    expect(run.code).toBe(0);
    expect(workload.emulator.ledger.entries()).toHaveLength(1);

    const runs = await workload.cli(['runs']);
    expect(runs.stdout).toMatch(/ 1 job {2}1 request {2}/);
    expect(runs.stdout).not.toMatch(/\b1 (jobs|requests)\b/);

    const log = await workload.cli(['log', '--kind', 'job']);
    expect(log.stdout).toMatch(/job\/submitted.* 1 request\b/);
    expect(log.stdout).not.toMatch(/\b1 requests\b/);

    const redo = await workload.cli([
      'run',
      '--only',
      workload.chains[0]?.[0] as string,
      '--force',
      '--dry-run',
    ]);
    expect(redo.code).toBe(0);
    expect(redo.stdout + redo.stderr).toContain('1 to send in 1 chain (1 done one made again)');
  });
});

describe('clear-failures counts one as one', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 1_000, seed: 6 },
    workload: { books: 1, pages: 1, execution: { max_retries: 1, poll_interval: 20 } },
  });

  it('prints "cleared 1 failure entry"', async () => {
    const record = workload.chains[0]?.[0] as string;
    workload.emulator.setFaults({ byKey: { [record]: ['safety'] } });
    expect((await workload.cli(['run'])).code).toBe(0);
    const cleared = await workload.cli(['clear-failures', '--yes']);
    expect(cleared.stdout).toBe('cleared 1 failure entry\n');
  });
});
