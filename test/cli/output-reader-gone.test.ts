import { describe, expect, it } from 'vitest';
import { startCli } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// A script reads the summary through a pipe (`wavebatch run | head -1`, `| grep -q`) and checks
// the exit code. The pipe's reader going away must not turn a run with dead letters into a success.
describe('wavebatch run whose output reader goes away', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 37 },
    workload: { books: 2, pages: 2, execution: { max_retries: 0, poll_interval: 50 } },
  });

  it('runs to its end and exits 3 for its dead letters', async () => {
    workload.emulator.setFaults({ rates: { safety: 1 } });
    const run = startCli(['run', '-c', workload.configPath], { env: workload.env });
    // The reader closes its end before the summary: writing it fails with EPIPE.
    run.child.stdout?.destroy();
    const result = await run.result;

    expect(result.code).toBe(3);
    expect(result.stderr).not.toContain('EPIPE');
    const runs = await workload.cli(['runs', '--json']);
    expect(JSON.parse(runs.stdout)).toMatchObject([{ id: 1, totals: { outcome: 'finished' } }]);
    const dead = await workload.cli(['failures', '--dead', '--export', 'jsonl']);
    expect(dead.stdout.trim().split('\n')).toHaveLength(2); // each chain's head; the pages after it wait on it
  });

  it('stops status --watch once its reader has gone, exit 0', async () => {
    const watching = startCli(['status', '--watch', '100ms', '-c', workload.configPath], {
      env: workload.env,
    });
    await watching.stdoutMatches((stdout) => stdout.includes('records'));
    watching.child.stdout?.destroy();
    const result = await watching.result;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });
});
