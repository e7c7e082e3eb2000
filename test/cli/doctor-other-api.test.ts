import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// A run pointed at one API address (--base-url) and a doctor at another (the config's): the jobs
// the run made are not at the address doctor asks. Doctor said "1 jobs tracked as active no longer
// exist remotely; the next run returns their records to the queue", which read as "all is well, run
// again" — a run at that address then sends and bills those records a second time.
describe('wavebatch doctor asking another API address than the run used', () => {
  const workload = useEmulatedWorkload({
    // Jobs take an emulated day: the run's job is still running when doctor looks.
    emulator: { timeScale: 1, turnaroundMs: 86_400_000, seed: 3 },
    workload: { books: 1, pages: 2 },
  });
  let other: RunningEmulator;

  beforeAll(async () => {
    other = await startEmulator({ timeScale: 1, seed: 4 });
  });
  afterAll(async () => {
    await other.close();
  });

  it('names the address it asked and how to ask the run’s own', async () => {
    const run = await workload.cli(['run-once', '--log-format', 'text']);
    expect(run.stderr).toContain('submitted');

    const here = await workload.cli(['doctor', '--base-url', workload.emulator.url]);
    expect(here.stdout).toContain('every live remote job of this store is tracked (1 in all)');

    const elsewhere = await workload.cli(['doctor', '--base-url', other.url]);
    expect(elsewhere.stdout).toContain(`1 job tracked as active does not exist at ${other.url}:`);
    expect(elsewhere.stdout).toContain('check with doctor --base-url <that address> and run with it');
    expect(elsewhere.stdout).not.toContain('1 jobs');
  });
});
