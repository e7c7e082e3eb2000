import { describe, expect, it } from 'vitest';
import { startCli } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// A run's log goes to standard error, often into a pipe (`2>&1 | head`, `| tee run.log`, a log
// shipper). Its reader going away must not end the run half-way with an exit code that says done.
describe('wavebatch run whose log reader goes away', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 31 },
    workload: { books: 2, pages: 3, execution: { poll_interval: 50 } },
  });

  it('runs to its end, records it, and exits with its own code', async () => {
    const run = startCli(['run', '-c', workload.configPath], { env: workload.env });
    await run.stderrContains('run 1 started');
    // The reader closes its end: every later write to standard error fails with EPIPE.
    run.child.stderr?.destroy();
    const result = await run.result;

    expect(result.code).toBe(0);
    // It ran to the end: the summary went out, every page was billed once, the run is recorded.
    expect(result.stdout).toContain('records: 6 done, 0 dead-lettered, 0 pending (6 total)');
    const billed = workload.emulator.ledger.entries().map((entry) => entry.key);
    expect(billed.toSorted()).toEqual(workload.chains.flat().toSorted());
    const runs = await workload.cli(['runs', '--json']);
    expect(JSON.parse(runs.stdout)).toMatchObject([{ id: 1, totals: { outcome: 'finished' } }]);
    // And let go of the store: nothing for doctor to repair.
    const doctor = await workload.cli(['doctor']);
    expect(doctor.stdout).toMatch(/lease +ok/);
  });
});
