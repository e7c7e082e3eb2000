import { describe, expect, it } from 'vitest';
import { BIN, runProgram, type CliResult } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

/** Runs a bash pipeline with pipefail, so its exit code is wavebatch's when `head` succeeds. */
function pipeline(script: string, env: Record<string, string>): Promise<CliResult> {
  return runProgram('bash', ['-c', `set -o pipefail; ${script}`], env);
}

// `failures` and `requeue` as scripts use them: empty answers, wrong ids, and a reader that stops early.
describe('wavebatch failures / requeue output', () => {
  // 150 one-page chains: enough failure rows (about 150 kB of JSON Lines) to overflow a pipe.
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 13 },
    workload: {
      books: 150,
      pages: 1,
      execution: { max_retries: 0, max_requests_per_job: 1000, poll_interval: 20 },
    },
  });

  it('says so when there are no failures', async () => {
    const none = await workload.cli(['failures']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('no failures recorded\n');
    const noDead = await workload.cli(['failures', '--dead']);
    expect(noDead.stdout).toBe('no dead letters\n');
    const byCause = await workload.cli(['failures', '--by-cause']);
    expect(byCause.stdout).toBe('no failures recorded\n');
  });

  it('exits 3 after a run that dead-letters records', async () => {
    workload.emulator.setFaults({ rates: { safety: 1 } });
    const result = await workload.cli(['run']);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('records: 0 done, 150 dead-lettered, 0 pending (150 total)');
  });

  it('refuses to requeue unknown ids or records that are not dead letters, naming them, and changes nothing', async () => {
    const result = await workload.cli(['requeue', 'no/such-id', 'ST/school1/1900/page_1', 'also/missing']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown record ids: no/such-id, also/missing');
    expect(result.stdout).toBe('');
    const dead = await workload.cli(['failures', '--dead', '--export', 'jsonl']);
    expect(dead.stdout.trim().split('\n')).toHaveLength(150);

    const one = await workload.cli(['requeue', 'ST/school1/1900/page_1']);
    expect(one.code).toBe(0);
    // One is one ("requeued 1 records" it said).
    expect(one.stdout).toBe('requeued 1 record; run `wavebatch run` to process it\n');
    const notDead = await workload.cli(['requeue', 'ST/school1/1900/page_1']);
    expect(notDead.code).toBe(2);
    expect(notDead.stderr).toContain('not dead-lettered: ST/school1/1900/page_1 (');
  });

  it('exits quietly when the reader of a pipe stops early (| head)', async () => {
    const result = await pipeline(
      `"${process.execPath}" "${BIN}" failures --export jsonl -c "${workload.configPath}" | head -n 1`,
      workload.env,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ cause: 'safety', final: true });
  });
});
