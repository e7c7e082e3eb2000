import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import type { SelectionPlan, WorkloadEstimate } from '../../src/service/index.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';
import { billedTimes, remoteJobs } from '../fixtures/remote-jobs.js';

// `run --only/--filter/--limit/--force/--dry-run` as a user runs them: the CLI binary against the
// emulator, what was sent read from the emulator's ledger.
describe('wavebatch run over a selection', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 21 },
    workload: { books: 3, pages: 3, execution: { poll_interval: 20 } },
  });
  let emulator: RunningEmulator;
  let root: string;
  let chains: string[][];
  const billedKeys = () => [...billedTimes(emulator).keys()].sort();
  const output = (id: string) => join(root, 'out', `${id}.json`);
  const page = (book: number, number: number) => chains[book - 1]?.[number - 1] as string;

  beforeAll(() => {
    ({ emulator, root, chains } = workload);
  });

  it('--dry-run --limit prints the sample it would send and its cost, and sends nothing', async () => {
    const human = await workload.cli(['run', '--limit', '4', '--dry-run']);
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('dry run: nothing was sent');
    expect(human.stdout).toContain('selection: 4 records matched (up to --limit); 4 to send in 2 chains');
    // Whole chain prefixes: the first book, then the first page of the second.
    const listed = human.stdout.split('would send:\n')[1]?.split('\nestimate:')[0];
    expect(listed).toBe([page(1, 1), page(1, 2), page(1, 3), page(2, 1)].map((id) => `  ${id}`).join('\n'));
    expect(human.stdout).toMatch(/estimate: \S+ input and 2,000 output tokens; \$\S+ on the batch lane/);

    const json = await workload.cli(['run-once', '--limit', '4', '--dry-run', '--json']);
    expect(json.code).toBe(0);
    const dry = JSON.parse(json.stdout) as {
      dryRun: boolean;
      selection: SelectionPlan;
      estimate: WorkloadEstimate;
    };
    expect(dry.dryRun).toBe(true);
    expect(dry.selection).toMatchObject({
      matched: 4,
      send: [page(1, 1), page(1, 2), page(1, 3), page(2, 1)],
      redo: [],
      chains: 2,
      limited: true,
    });
    expect(dry.estimate).toMatchObject({ records: 4, chains: 2, longestChain: 3 });
    expect(dry.estimate.modes.batch.costUsd).toBeGreaterThan(0);
    // Nothing billed, no job created, no output written.
    expect(emulator.ledger.entries()).toHaveLength(0);
    expect(await remoteJobs(emulator)).toHaveLength(0);
    expect(existsSync(join(root, 'out'))).toBe(false);
  });

  it('--limit runs exactly the sample; every other record stays untouched', async () => {
    const result = await workload.cli(['run', '--limit', '4', '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('selection: 4 records matched (up to --limit); 4 to send in 2 chains');
    const summary = JSON.parse(result.stdout) as {
      finished: boolean;
      counts: { done: number; total: number };
      selection: { matched: number; sent: number; limited: boolean };
    };
    expect(summary).toMatchObject({
      finished: true,
      counts: { done: 4, total: 4 },
      selection: { matched: 4, sent: 4, limited: true },
    });
    expect(billedKeys()).toEqual([page(1, 1), page(1, 2), page(1, 3), page(2, 1)].sort());
    expect(existsSync(output(page(2, 2)))).toBe(false);
    // The workload as a whole: 4 of 9 done, the rest still queued.
    const status = JSON.parse((await workload.cli(['status', '--json'])).stdout) as {
      records: { done: number; total: number };
    };
    expect(status.records).toMatchObject({ done: 4, total: 9 });
  });

  it('--filter sends only the records whose levels match', async () => {
    const result = await workload.cli(['run-once', '--filter', 'school=school3']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('selection: 3 records matched; 3 to send in 1 chain');
    // run-once submits what is ready now: the first page (the others wait for their context).
    expect(result.stderr).toMatch(/submitted inline job \S+ -> \S+ \(1 request,/);
    expect(result.stderr).not.toMatch(/submitted .*\(\d+ requests,/);
    const rest = await workload.cli(['run', '--filter', 'school=school3,year=1900..1999']);
    expect(rest.code).toBe(0);
    expect(rest.stdout).toContain('selected records: 3 done, 0 dead-lettered, 0 pending (3 total)');
    expect(billedKeys().filter((key) => key.startsWith('ST/school3/'))).toHaveLength(3);
    expect(billedKeys().filter((key) => key.startsWith('ST/school2/'))).toEqual([page(2, 1)]);
  });

  it('a selected record whose predecessor is neither done nor selected waits and is reported', async () => {
    const before = emulator.ledger.entries().length;
    const result = await workload.cli(['run', '--only', page(2, 3)]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `1 record wait on a predecessor outside the selection that is not done: ${page(2, 3)} (after ${page(2, 2)}, ready)`,
    );
    expect(result.stdout).toContain('selected records: 0 done, 0 dead-lettered, 1 pending (1 total)');
    expect(result.stdout).toContain('1 selected record waits on records outside the selection');
    expect(emulator.ledger.entries()).toHaveLength(before);
  });

  it('--force makes the selected outputs again, and only those', async () => {
    const before = billedTimes(emulator);
    const earlier = readFileSync(output(page(1, 2)), 'utf8');
    const result = await workload.cli(['run', '--only', 'ST/school1/**', '--force']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('3 to send in 1 chain (3 done ones made again)');
    const after = billedTimes(emulator);
    for (const id of chains[0] ?? []) expect(after.get(id)).toBe((before.get(id) ?? 0) + 1);
    for (const [key, times] of after) if (!key.startsWith('ST/school1/')) expect(times).toBe(before.get(key));
    expect(readFileSync(output(page(1, 2)), 'utf8')).not.toBe(earlier);
  });

  it('refuses bad selections with exit code 2, naming what is wrong', async () => {
    const unknown = await workload.cli(['run', '--only', 'ST/nowhere/1900/page_1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--only names no record or chain: ST/nowhere/1900/page_1');
    const field = await workload.cli(['run', '--filter', 'county=Essex', '--dry-run']);
    expect(field.code).toBe(2);
    expect(field.stderr).toContain('--filter names a field no record has: county');
    // A range of text, and a filter no record satisfies, matched nothing and ran nothing, silently.
    const textRange = await workload.cli(['run', '--filter', 'page=abc..def']);
    expect(textRange).toMatchObject({ code: 2, stdout: '' });
    expect(textRange.stderr).toBe(
      'error [INPUT_SELECTION]: --filter "page=abc..def" is not a range: min..max takes numbers (either end optional, e.g. year=1990..1999); other values are compared as exact text\n',
    );
    const before = emulator.ledger.entries().length;
    const nothing = await workload.cli(['run', '--filter', 'school=school9,year=2000..']);
    expect(nothing).toMatchObject({ code: 2, stdout: '' });
    expect(nothing.stderr).toBe(
      'error [INPUT_SELECTION]: The selection matches no record; nothing was sent. Values the records have: ' +
        'school: school1, school2, school3; year: 1900 (--filter compares text exactly; min..max is a numeric range).\n',
    );
    const noGlob = await workload.cli(['run', '--only', 'XX/**', '--dry-run']);
    expect(noGlob.code).toBe(2);
    expect(noGlob.stderr).toContain('The selection matches no record; nothing was sent.');
    expect(emulator.ledger.entries()).toHaveLength(before);
    const malformed = await workload.cli(['run', '--filter', 'state']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('is not field=value');
    const limit = await workload.cli(['run', '--limit', '0']);
    expect(limit.code).toBe(2);
    const redo = await workload.cli(['run', '--limit', '2', '--redo', 'stale']);
    expect(redo.code).toBe(2);
    expect(redo.stderr).toContain('--redo stale');
  });
});

describe('wavebatch run --force on many records', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 22 },
    workload: { books: 22, pages: 1, execution: { poll_interval: 20, max_requests_per_job: 30 } },
  });

  it('asks for --yes without a terminal, and redoes them all with it', async () => {
    expect((await workload.cli(['run'])).code).toBe(0);
    const billed = workload.emulator.ledger.entries().length;
    expect(billed).toBe(22);

    const refused = await workload.cli(['run', '--force']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--force would make 22 existing outputs again; add --yes to confirm');
    expect(workload.emulator.ledger.entries()).toHaveLength(billed);

    const dry = await workload.cli(['run', '--force', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('22 to send in 22 chains (22 done ones made again)');
    expect(workload.emulator.ledger.entries()).toHaveLength(billed);

    const confirmed = await workload.cli(['run', '--force', '--yes']);
    expect(confirmed.code).toBe(0);
    expect(workload.emulator.ledger.entries()).toHaveLength(2 * billed);
  });
});
