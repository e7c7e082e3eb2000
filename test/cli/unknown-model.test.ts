import { describe, expect, it } from 'vitest';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// A misspelled model.name passes `config check` (a model list is Google's to keep), and the API
// answers every job and request with the same 404: each job's records counted a failed attempt and,
// after max_retries, the whole workload was dead-lettered. The run stops at the first answer instead.
describe.each(['batch', 'flex'] as const)('a run with a model the API does not serve, mode %s', (mode) => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 4 },
    workload: { books: 3, pages: 2, execution: { mode, max_retries: 3, poll_interval: '1s' } },
  });

  it('stops with MODEL_NOT_FOUND (exit 2) naming model.name, dead-letters nothing and bills nothing', async () => {
    workload.editConfig('gemini-2.5-flash', 'gemini-2.5-flsh');
    const run = await workload.cli(['run']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('[MODEL_NOT_FOUND]');
    expect(run.stderr).toContain('models/gemini-2.5-flsh is not found');
    expect(run.stderr).toContain('model.name');
    const failures = await workload.cli(['failures', '--json']);
    expect(JSON.parse(failures.stdout)).toEqual([]);
    const status = await workload.cli(['status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ records: { dead: 0, done: 0 } });
    expect(workload.emulator.ledger.entries()).toEqual([]);
  });
});
