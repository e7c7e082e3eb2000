import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// The CLI as a user runs it: a child process on a real config folder, against the emulator over HTTP.
describe('wavebatch run / failures / requeue / reset', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 11 },
    workload: { books: 2, pages: 2, execution: { max_retries: 1, poll_interval: 20 } },
  });
  let doomed: string;

  beforeAll(() => {
    doomed = workload.chains[1]?.[0] as string;
    workload.emulator.setFaults({ byKey: { [doomed]: ['safety', 'safety'] } });
  });

  it('runs to the end, dead-letters the record that keeps failing and blocks only its chain', async () => {
    const result = await workload.cli(['run']);
    expect(result.stderr).not.toContain(workload.env.GEMINI_API_KEY);
    expect(result.code).toBe(3); // finished with dead letters
    expect(result.stdout).toContain('records: 2 done, 1 dead-lettered, 1 pending (4 total)');
    expect(result.stdout).toContain('1 record waits behind dead letters in its chain');
    expect(existsSync(join(workload.root, 'out', `${doomed}.json`))).toBe(false);
  });

  it('groups failures by cause and exports dead letters as CSV', async () => {
    const byCause = await workload.cli(['failures', '--by-cause']);
    expect(byCause.code).toBe(0);
    expect(byCause.stdout).toMatch(/^\s+2\s+safety$/m);

    const csvPath = join(workload.root, 'dead.csv');
    const exported = await workload.cli(['failures', '--dead', '--export', 'csv', '-o', csvPath]);
    expect(exported.code).toBe(0);
    const lines = readFileSync(csvPath, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^at,recordId,jobId,attempt,cause,final/);
    expect(lines.some((line) => line.includes(doomed) && line.includes('safety'))).toBe(true);
  });

  it('refuses destructive commands without --yes and leaves state untouched', async () => {
    const refused = await workload.cli(['reset']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    const still = await workload.cli(['failures', '--dead']);
    expect(still.stdout).toContain(doomed);
  });

  it('requeues dead letters; the next run finishes them and unlocks their chain', async () => {
    const requeued = await workload.cli(['requeue', doomed, '--json']);
    expect(requeued.code).toBe(0);
    expect(JSON.parse(requeued.stdout)).toEqual({ requeued: 1 });
    const again = await workload.cli(['requeue']);
    expect(again.stdout).toBe('requeued 0 records; run `wavebatch run` to process them\n');
    const rerun = await workload.cli(['run']);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('records: 4 done, 0 dead-lettered, 0 pending (4 total)');
    expect(existsSync(join(workload.root, 'out', `${doomed}.json`))).toBe(true);
    // Each record billed once for its success: the earlier 2 failures + 4 successes.
    expect(workload.emulator.ledger.entries()).toHaveLength(6);
  });

  it('clears the failure log and resets the state, saying what it did as JSON; outputs count as done again', async () => {
    const cleared = await workload.cli(['clear-failures', '--yes', '--json']);
    expect(cleared.code).toBe(0);
    expect(JSON.parse(cleared.stdout)).toEqual({ cleared: 2 });
    const none = await workload.cli(['failures']);
    expect(none.stdout).toBe('no failures recorded\n');

    const reset = await workload.cli(['reset', '--yes', '--json']);
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout)).toEqual({ reset: true, outputsKept: true });
    const billed = workload.emulator.ledger.entries().length;
    const rerun = await workload.cli(['run']);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('records: 4 done, 0 dead-lettered, 0 pending (4 total)');
    // Nothing sent again: the outputs on disk marked every record done.
    expect(workload.emulator.ledger.entries()).toHaveLength(billed);
  });

  it('names the key and the line of a broken config and exits 2', async () => {
    const broken = join(workload.root, 'broken.yaml');
    writeFileSync(
      broken,
      readFileSync(workload.configPath, 'utf8').replace('max_retries: 1', 'max_retries: lots'),
    );
    const result = await runCli(['run-once', '-c', broken], { env: workload.env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('execution.max_retries');
    expect(result.stderr).toMatch(/line \d+/);
  });

  it('says which variable to set when Google is targeted without an API key', async () => {
    const google = join(workload.root, 'google.yaml');
    writeFileSync(google, readFileSync(workload.configPath, 'utf8').replace(/^api:\n.*$/m, ''));
    const result = await runCli(['run-once', '-c', google], { env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('GEMINI_API_KEY');
  });
});
