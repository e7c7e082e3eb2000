import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import type { CliResult } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

/** An API key no test output could contain by chance. */
const KEY = 'wb-distinctive-key-7f3a9c2e51d4';

/** Every file under `folder`, recursively. */
function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

// The history commands as a user runs them (child processes over a real workload on the emulator),
// after a run whose API answers echo the API key back: it must surface nowhere.
describe('wavebatch log / runs / show / report / prune', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 21 },
    workload: { books: 2, pages: 2, execution: { max_retries: 1, poll_interval: 20 } },
  });
  let emulator: RunningEmulator;
  let root: string;
  let chains: string[][];
  const outputs: CliResult[] = [];

  async function cli(args: string[]): Promise<CliResult> {
    const result = await workload.cli(args, { env: { GEMINI_API_KEY: KEY } });
    outputs.push(result);
    return result;
  }

  beforeAll(async () => {
    ({ emulator, root, chains } = workload);
    const echoing = chains[1]?.[0] as string;
    // The model answers this record with broken JSON that quotes the key, every time: the failure's
    // message and raw response both hold it.
    emulator.setResponder((call) =>
      call.key === echoing ? { text: `{"courses": ["key=${KEY}"], "carry_over": ` } : undefined,
    );
    const run = await cli(['run']);
    expect(run.code).toBe(3); // finished with a dead letter
  });

  it('prints the run summary with its cost and report', () => {
    const run = outputs[0] as CliResult;
    expect(run.stdout).toContain('records: 2 done, 1 dead-lettered, 1 pending (4 total)');
    expect(run.stdout).toMatch(/cost: \$\d+\.\d+/);
    expect(run.stdout).toContain(join('state', 'report.md'));
  });

  it('lists the inference log, filtered, as lines or JSON', async () => {
    const all = await cli(['log', '--json']);
    expect(all.code).toBe(0);
    const events = all.stdout
      .trim()
      .split('\n')
      .map(
        (line) => JSON.parse(line) as { kind: string; type: string; recordId: string; cause: string | null },
      );
    const billed = emulator.ledger.entries();
    expect(events.filter((e) => e.kind === 'attempt')).toHaveLength(billed.length);
    expect(events.some((e) => e.kind === 'job' && e.type === 'submitted')).toBe(true);

    const dead = chains[1]?.[0] as string;
    const failures = await cli(['log', '--cause', 'invalid_json']);
    expect(failures.stdout.trim().split('\n')).toHaveLength(2);
    expect(failures.stdout).toContain(dead);
    expect(failures.stdout).toContain('attempt/dead');

    const one = await cli(['log', '--record', chains[0]?.[1] as string, '--kind', 'attempt']);
    expect(one.stdout.trim().split('\n')).toHaveLength(1);
    expect(one.stdout).toMatch(/attempt\/done\s+ST\/school1\/1900\/page_2/);

    const none = await cli(['log', '--since', '2099-01-01']);
    expect(none.stdout).toBe('no events match\n');
    const bad = await cli(['log', '--since', 'yesterday-ish']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since');
  });

  it('lists runs', async () => {
    const runs = await cli(['runs', '--json']);
    const [run] = JSON.parse(runs.stdout) as Array<{ id: number; mode: string; totals: { outcome: string } }>;
    expect(run).toMatchObject({ id: 1, mode: 'run', totals: { outcome: 'finished' } });
    const text = await cli(['runs']);
    expect(text.stdout).toMatch(/^run\s+1\s+run\s+\S+\s+finished/m);
  });

  it("shows one record's history and output", async () => {
    const done = chains[0]?.[0] as string;
    const shown = await cli(['show', done]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`${done}  DONE`);
    expect(shown.stdout).toContain('attempt/done');
    expect(shown.stdout).toContain('"carry_over"');
    const missing = await cli(['show', 'no/such/record']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No record "no/such/record"');
    // Quoted, so an empty id shows, and a terminal's control sequence is printed as text, not obeyed.
    expect((await cli(['show', ''])).stderr).toContain('No record "" in this workload');
    const hostile = await cli(['show', 'a\u001b[2Jb']);
    expect(hostile.stderr).toContain('No record "a\\u001b[2Jb"');
    expect(hostile.stderr).not.toContain('\u001b');
  });

  it('prints the report the run wrote, and refuses an unknown run', async () => {
    const report = await cli(['report']);
    expect(report.stdout).toBe(readFileSync(join(root, 'state', 'report.md'), 'utf8'));
    expect(report.stdout).toContain('## Failure analysis');
    expect(report.stdout).toContain('### invalid_json: 2 failures, 1 records, 1 dead-lettered');
    expect((await cli(['report', '1'])).stdout).toBe(report.stdout);
    const missing = await cli(['report', '99']);
    expect(missing.code).toBe(2);
  });

  it('leaves the API key in no file, event, report, log line or output', async () => {
    await cli(['failures', '--export', 'jsonl']);
    for (const result of outputs) {
      expect(result.stdout).not.toContain(KEY);
      expect(result.stderr).not.toContain(KEY);
    }
    for (const file of filesUnder(root)) expect(readFileSync(file).includes(KEY), file).toBe(false);
    // It was there to leak: the log kept the failure with its raw response, redacted.
    const log = await cli(['log', '--cause', 'invalid_json', '--json']);
    expect(log.stdout).toContain('[redacted]');
  });

  it('prunes old events only', async () => {
    const kept = await cli(['prune', '--older-than', '30d']);
    expect(kept.stdout).toMatch(/^deleted 0 events/);
    // A date, as its error message and `log --since` take one.
    const dated = await cli(['prune', '--older-than', '2025-06-01']);
    expect(dated.code).toBe(0);
    expect(dated.stdout).toBe(
      'deleted 0 events, 0 stored prompts and 0 run reports from before 2025-06-01T00:00:00.000Z\n',
    );
    const cutoff = await cli(['prune', '--older-than', '0s']);
    expect(cutoff.stdout).toMatch(/^deleted [1-9]\d* events/);
    expect(cutoff.stdout).toContain('and 1 run report from before'); // "1 run reports", it said
    expect(existsSync(join(root, 'state', 'reports', 'run-1.md'))).toBe(false);
    expect((await cli(['log'])).stdout).toBe('no events match\n');
    expect((await cli(['prune', '--older-than', 'forever'])).code).toBe(2);
  });
});
