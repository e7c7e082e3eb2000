import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { secretCheck } from '../fixtures/echoed-secrets.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

const KEY = 'wb-stored-run-error-7c2e91d4a6';

// A failed run's error is redacted before it is stored, but only since that fix: a row an older
// version wrote keeps the key it was thrown with, and `runs`, `runs --json` and `report` printed
// that stored text as it was.
describe("a run's error stored with the API key in it (by an older version)", () => {
  const workload = useEmulatedWorkload({ workload: { books: 1, pages: 1 } });
  const env = { GEMINI_API_KEY: KEY };

  it('is shown redacted by runs, runs --json, status and report', async () => {
    const run = await workload.cli(['run'], { env });
    expect(run.code, run.stderr).toBe(0);
    const store = new Database(workload.statePath);
    try {
      store
        .prepare(
          `INSERT INTO runs (mode, started_at, finished_at, outcome, counts_json, error)
           VALUES ('run', ?, ?, 'failed', '{}', ?)`,
        )
        .run(
          '2026-01-01T00:00:00.000Z',
          '2026-01-01T00:01:00.000Z',
          `the source function failed: cannot reach the API with ${KEY} (a Google key, AIzaSyA1234567890abcdefghijklmnopqrstuv)`,
        );
    } finally {
      store.close();
    }

    const expectNoSecret = secretCheck([KEY, 'AIzaSyA1234567890abcdefghijklmnopqrstuv']);
    const runs = await workload.cli(['runs'], { env });
    expect(runs.stdout).toContain('error: the source function failed: cannot reach the API with [redacted]');
    for (const command of [['runs'], ['runs', '--json'], ['status'], ['status', '--json'], ['report']]) {
      const shown = await workload.cli(command, { env });
      expect(shown.code, shown.stderr).toBe(0);
      expectNoSecret(command.join(' '), shown.stdout + shown.stderr);
    }
    const report = await workload.cli(['report'], { env });
    expect(report.stdout).toContain(
      'stopped by an error: the source function failed: cannot reach the API with [redacted]',
    );
  }, 60_000);
});
