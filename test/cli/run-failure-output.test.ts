import { describe, expect, it } from 'vitest';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

/** How often `text` occurs in `haystack`. */
function occurrences(haystack: string, text: string): number {
  return haystack.split(text).length - 1;
}

// A run stopped by an error (here a key the emulator does not accept) printed the error twice in
// text: the log's `error: run 1 failed: […]`, then the command's own `error [PERMISSION_DENIED]: […]`.
describe("a failed run's error on standard error", () => {
  const workload = useEmulatedWorkload({
    emulator: { apiKeys: ['the-right-key'] },
    workload: { books: 1, pages: 1, execution: { mode: 'flex' } },
  });

  it("is said once in text, as the command's last line with its code", async () => {
    const run = await workload.cli(['run', '--log-format', 'text']);
    expect(run.code, run.stderr).toBe(1);
    // The error that stopped the run (the token calibration's own refusal before it is a warning).
    expect(occurrences(run.stderr, 'Listing batches failed'), run.stderr).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^error \[PERMISSION_DENIED\]: Listing batches failed .*API key not valid/,
    );
  });

  it("stays in the run-finished JSON line, beside the command's own line, in json", async () => {
    const run = await workload.cli(['run', '--log-format', 'json']);
    expect(run.code, run.stderr).toBe(1);
    const lines = run.stderr.trimEnd().split('\n');
    const events = lines
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string; event: string; outcome?: string });
    expect(events.filter((line) => line.event === 'run-finished')).toEqual([
      expect.objectContaining({
        level: 'error',
        outcome: 'failed',
        msg: expect.stringMatching(/^run \d+ failed: .*API key not valid/),
      }),
    ]);
    expect(lines.at(-1)).toMatch(/^error \[PERMISSION_DENIED\]: .*API key not valid/);
  });
});
