import { describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

/** Two one-page books on an emulator of their own; a failure dead-letters at once. */
function twoBookWorkload() {
  return useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 51 },
    workload: { books: 2, pages: 1, execution: { max_retries: 0, poll_interval: 20 } },
  });
}

// What `wavebatch run` logs when its standard error is not a terminal (a pipe here, as in CI).
describe('run logs', () => {
  describe('at --log-level debug', () => {
    const workload = twoBookWorkload();

    it('writes JSON lines, every record settled at --log-level debug', async () => {
      const { configPath, chains, emulator } = workload;
      const doomed = chains[1]?.[0] as string;
      emulator.setFaults({ byKey: { [doomed]: ['safety'] } });
      const run = await runCli(['run', '-c', configPath, '--log-level', 'debug'], {
        env: { GEMINI_API_KEY: 'logs-test-key-77' },
      });
      const lines = run.stderr
        .trim()
        .split('\n')
        .map(
          (line) =>
            JSON.parse(line) as {
              time: string;
              level: string;
              msg: string;
              event?: string;
              recordId?: string;
            },
        );
      expect(lines.every((line) => !Number.isNaN(Date.parse(line.time)))).toBe(true);
      expect(lines.find((line) => line.event === 'record-done')).toMatchObject({
        level: 'debug',
        recordId: chains[0]?.[0],
      });
      expect(lines.find((line) => line.event === 'record-failed')).toMatchObject({
        level: 'warn',
        recordId: doomed,
        msg: expect.stringContaining(`dead letter ${doomed} [safety]`),
      });
      expect(lines.filter((line) => line.event === 'run-finished')).toHaveLength(1);
    });
  });

  describe('set through the environment', () => {
    const workload = twoBookWorkload();

    it('writes only warnings and worse, as text, when asked through the environment', async () => {
      const { configPath, chains, emulator } = workload;
      const doomed = chains[0]?.[0] as string;
      emulator.setFaults({ byKey: { [doomed]: ['safety'] } });
      const run = await runCli(['run', '-c', configPath], {
        env: {
          GEMINI_API_KEY: 'logs-test-key-77',
          WAVEBATCH_LOG_LEVEL: 'warn',
          WAVEBATCH_LOG_FORMAT: 'text',
        },
      });
      expect(run.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(`^warning: dead letter ${doomed} \\[safety\\]`),
      ]);
      const refused = await runCli(['run', '-c', configPath], { env: { WAVEBATCH_LOG_LEVEL: 'chatty' } });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('WAVEBATCH_LOG_LEVEL must be one of debug, info, warn, error');
    });
  });
});
