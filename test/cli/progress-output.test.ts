import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, runCli, runProgram, type CliResult } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

const env = { GEMINI_API_KEY: 'progress-test-key' };
/** util-linux `script` runs a command in a pseudo-terminal: stdout and stderr are a TTY. */
const HAS_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/** Runs the bin in a pseudo-terminal, as a person at a terminal does; returns what the terminal showed. */
function runInTerminal(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
  const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  return runProgram('script', ['-qfec', command, '/dev/null'], { ...env, ...extraEnv });
}

/** The terminal's text without cursor movements and colours. */
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

const BAR_GLYPHS = /[\u2588\u2591]/;

describe('progress output', () => {
  describe('on a terminal', () => {
    // 17 dead letters (the first page of 17 of 20 books) and a job result line per job.
    const workload = useEmulatedWorkload({
      emulator: { turnaroundMs: 20_000, seed: 17 },
      workload: {
        books: 20,
        pages: 2,
        execution: { max_retries: 0, max_requests_per_job: 3, max_concurrent_jobs: 4, poll_interval: 20 },
      },
    });

    it.skipIf(!HAS_SCRIPT)(
      'shows every event line on a terminal, the last ones too, above the progress bars',
      async () => {
        const doomed = workload.chains.slice(0, 17).map((chain) => chain[0] as string);
        workload.emulator.setFaults({ byKey: Object.fromEntries(doomed.map((id) => [id, ['safety']])) });

        const result = await runInTerminal(['run', '-c', workload.configPath]);
        const screen = plain(result.stdout);
        expect(result.code, screen).toBe(3);
        expect(screen).toMatch(BAR_GLYPHS);
        for (const id of doomed) expect(screen).toContain(`dead letter ${id} [safety]`);
        const submitted = [...screen.matchAll(/submitted inline job (\S+) ->/g)].map((m) => m[1]);
        expect(submitted.length).toBeGreaterThan(5);
        for (const jobId of submitted) expect(screen).toMatch(new RegExp(`job ${jobId}: \\d+ succeeded`));
        expect(screen).toContain('records: 6 done, 17 dead-lettered, 17 pending (40 total)');
      },
    );
  });

  describe('on a terminal in CI', () => {
    const workload = useEmulatedWorkload({
      emulator: { turnaroundMs: 20_000, seed: 19 },
      workload: { books: 2, pages: 2 },
    });

    it.skipIf(!HAS_SCRIPT)('prints plain lines, no bars, on a terminal in CI', async () => {
      const result = await runInTerminal(['run', '-c', workload.configPath], { CI: 'true' });
      const screen = plain(result.stdout);
      expect(result.code, screen).toBe(0);
      expect(screen).not.toMatch(BAR_GLYPHS);
      expect(screen).toContain('progress: 4/4 done, 0 in flight');
    });
  });

  describe('in a pipe', () => {
    // Jobs take 2 s of real time; the first 8 polls (two rounds of retries) answer 503, then the API recovers.
    const workload = useEmulatedWorkload({
      emulator: { timeScale: 10, turnaroundMs: 20_000, seed: 23 },
      workload: { books: 2, pages: 2, execution: { poll_interval: 10 } },
    });

    it('in a pipe (JSON lines), never repeats an unchanged progress line, warning or retry while polls fail', async () => {
      workload.emulator.setFaults({ http: [{ kind: 'status_503', match: 'get', count: 8 }] });
      const result = await runCli(['run', '-c', workload.configPath], { env });
      expect(result.code, result.stderr).toBe(0);
      const lines = result.stderr
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { msg: string; event?: string; repeats?: number });
      const progress = lines.filter((line) => line.event === 'progress').map((line) => line.msg);
      expect(progress.length).toBeGreaterThan(1);
      for (let i = 1; i < progress.length; i++) expect(progress[i]).not.toBe(progress[i - 1]);
      expect(lines.filter((line) => line.event === 'warning')).toHaveLength(1);
      expect(lines.filter((line) => line.event === 'retry')).toHaveLength(1);
      const held = lines.filter((line) => line.event === 'repeated');
      expect(held).toHaveLength(1);
      expect(held[0]?.repeats).toBeGreaterThan(1);
      expect(lines.length).toBeLessThan(25);
    });
  });
});
