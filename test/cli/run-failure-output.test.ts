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
    // The error that stopped the run: its first call, the token calibration's count.
    expect(occurrences(run.stderr, 'Counting tokens for gemini-2.5-flash failed'), run.stderr).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^error \[PERMISSION_DENIED\]: Counting tokens for gemini-2.5-flash failed .*API key not valid/,
    );
  });

  // The token calibration at start met the refused key first and warned with Google's message
  // ("Token calibration skipped: … API key not valid"), then the run met it again and failed with it.
  it("says a refused key once, as the run's error with its code, with no calibration warning before it", async () => {
    const run = await workload.cli(['run', '--log-format', 'text']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).not.toContain('Token calibration skipped');
    expect(occurrences(run.stderr, 'API key not valid'), run.stderr).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^error \[PERMISSION_DENIED\]: .*API key not valid/,
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
