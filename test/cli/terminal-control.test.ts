import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { answeringWorkload } from '../fixtures/answering-workload.js';
import { runCli, type CliResult } from '../fixtures/cli.js';

// Clear the screen, retitle the window, paint red (with ESC [, then with the one-byte CSI 0x9b, and
// a DEL): what a hostile document could get a model to answer.
const SEQUENCES = '\u001b[2J\u001b]0;pwned\u0007\u001b[31m\u009b31m\u007f';
const SHOWN = '\\u001b[2J\\u001b]0;pwned\\u0007\\u001b[31m\\u009b31m\\u007f';
const RAW_C1 = /[\u007f-\u009f]/;
/** The sequence's C1 part as JSON.stringify writes it (raw): read back, the strings are the same. */
const C1_AS_JSON = '\u009b31m\u007f';

// Text from outside (a model's raw answer, a server's error message) printed for a person: every
// command shows the escape sequences as text, never writes them raw to the terminal.
describe('terminal control sequences in answers and server messages', () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  let run: CliResult;
  let answered: string;
  let refused: string;
  const env = { GEMINI_API_KEY: 'terminal-control-test-key' };
  const cli = (args: string[]) => runCli([...args, '-c', configPath], { env });

  beforeAll(async () => {
    ({ emulator, root, configPath } = await answeringWorkload(
      { books: 2, pages: 1, execution: { max_retries: 0, poll_interval: 20 } },
      (chains) => {
        answered = chains[0]?.[0] as string;
        refused = chains[1]?.[0] as string;
        return (call) =>
          call.key === answered
            ? { text: `not JSON ${SEQUENCES} at all` }
            : call.key === refused
              ? { error: { code: 400, status: 'INVALID_ARGUMENT', message: `bad request ${SEQUENCES}` } }
              : undefined;
      },
    ));
    // Text lines, as on a terminal (a pipe gets JSON Lines, which escape control characters anyway).
    run = await cli(['run', '--log-format', 'text']);
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('prints the run’s dead letters with the sequences as text', () => {
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`dead letter ${refused}`);
    expect(run.stderr).toContain(SHOWN);
    expect(run.stdout + run.stderr).not.toContain('\u001b');
  });

  it('lists failures, raw answers included, and the log, with the sequences as text', async () => {
    const failures = await cli(['failures', '--verbose']);
    expect(failures.code).toBe(0);
    expect(failures.stdout).toContain(answered);
    expect(failures.stdout).toContain(`not JSON ${SHOWN} at all`);
    expect(failures.stdout).toContain(`bad request ${SHOWN}`);
    const log = await cli(['log']);
    expect(log.stdout).toContain(SHOWN);
    const shown = await cli(['show', refused]);
    expect(shown.stdout).toContain(SHOWN);
    for (const output of [failures, log, shown])
      expect(output.stdout + output.stderr).not.toContain('\u001b');
  });

  it('writes the run report, printed and on disk, with the sequences as text', async () => {
    const report = await cli(['report']);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain(`bad request ${SHOWN}`);
    const files = [
      'report.md',
      ...readdirSync(join(root, 'state', 'reports')).map((name) => `reports/${name}`),
    ];
    for (const text of [
      report.stdout,
      ...files.map((file) => readFileSync(join(root, 'state', file), 'utf8')),
    ])
      expect(text).not.toContain('\u001b');
  });

  // JSON escapes ESC (C0) but writes DEL and the C1 controls as they are, and 0x9b (CSI) is a
  // terminal's ESC [ where C1 controls are honoured.
  it('prints --json listings with C1 controls and DEL escaped too, the same strings to a JSON reader', async () => {
    for (const args of [
      ['failures', '--json'],
      ['log', '--json'],
      ['show', answered, '--json'],
    ]) {
      const listed = await cli(args);
      expect(listed.code, `${args.join(' ')}: ${listed.stderr}`).toBe(0);
      expect(listed.stdout, args.join(' ')).not.toMatch(RAW_C1);
      // `log --json` is JSON Lines.
      const parsed: unknown =
        args[0] === 'log'
          ? listed.stdout
              .trim()
              .split('\n')
              .map((line) => JSON.parse(line) as unknown)
          : JSON.parse(listed.stdout);
      expect(JSON.stringify(parsed)).toContain(C1_AS_JSON);
    }
  });
});
