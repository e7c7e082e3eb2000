import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { SelectionPlan, WorkloadEstimate } from '../../src/service/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';
import { billedTimes, remoteJobs } from '../fixtures/remote-jobs.js';

// `run --only/--filter/--limit/--force/--dry-run` as a user runs them: the CLI binary against the
// emulator, what was sent read from the emulator's ledger.
describe('wavebatch run over a selection', () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  let chains: string[][];
  const env = { GEMINI_API_KEY: 'selection-test-key-not-secret' };
  const billedKeys = () => [...billedTimes(emulator).keys()].sort();
  const output = (id: string) => join(root, 'out', `${id}.json`);
  const page = (book: number, number: number) => chains[book - 1]?.[number - 1] as string;

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 21 });
    const workload = writeCatalogWorkload({
      books: 3,
      pages: 3,
      execution: { poll_interval: 20 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    ({ root, configPath, chains } = workload);
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('--dry-run --limit prints the sample it would send and its cost, and sends nothing', async () => {
    const human = await runCli(['run', '-c', configPath, '--limit', '4', '--dry-run'], { env });
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('dry run: nothing was sent');
    expect(human.stdout).toContain('selection: 4 records matched (up to --limit); 4 to send in 2 chains');
    // Whole chain prefixes: the first book, then the first page of the second.
    const listed = human.stdout.split('would send:\n')[1]?.split('\nestimate:')[0];
    expect(listed).toBe([page(1, 1), page(1, 2), page(1, 3), page(2, 1)].map((id) => `  ${id}`).join('\n'));
    expect(human.stdout).toMatch(/estimate: \S+ input and 2,000 output tokens; \$\S+ on the batch lane/);

    const json = await runCli(['run-once', '-c', configPath, '--limit', '4', '--dry-run', '--json'], { env });
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
    const result = await runCli(['run', '-c', configPath, '--limit', '4', '--json'], { env });
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
    const status = JSON.parse((await runCli(['status', '-c', configPath, '--json'], { env })).stdout) as {
      records: { done: number; total: number };
    };
    expect(status.records).toMatchObject({ done: 4, total: 9 });
  });

  it('--filter sends only the records whose levels match', async () => {
    const result = await runCli(['run-once', '-c', configPath, '--filter', 'school=school3'], { env });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('selection: 3 records matched; 3 to send in 1 chain');
    // run-once submits what is ready now: the first page (the others wait for their context).
    expect(result.stderr).toMatch(/submitted inline job \S+ -> \S+ \(1 request,/);
    expect(result.stderr).not.toMatch(/submitted .*\(\d+ requests,/);
    const rest = await runCli(['run', '-c', configPath, '--filter', 'school=school3,year=1900..1999'], {
      env,
    });
    expect(rest.code).toBe(0);
    expect(rest.stdout).toContain('selected records: 3 done, 0 dead-lettered, 0 pending (3 total)');
    expect(billedKeys().filter((key) => key.startsWith('ST/school3/'))).toHaveLength(3);
    expect(billedKeys().filter((key) => key.startsWith('ST/school2/'))).toEqual([page(2, 1)]);
  });

  it('a selected record whose predecessor is neither done nor selected waits and is reported', async () => {
    const before = emulator.ledger.entries().length;
    const result = await runCli(['run', '-c', configPath, '--only', page(2, 3)], { env });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `1 record wait on a predecessor outside the selection that is not done: ${page(2, 3)} (after ${page(2, 2)}, ready)`,
    );
    expect(result.stdout).toContain('selected records: 0 done, 0 dead-lettered, 1 pending (1 total)');
    expect(result.stdout).toContain('1 selected records wait on records outside the selection');
    expect(emulator.ledger.entries()).toHaveLength(before);
  });

  it('--force makes the selected outputs again, and only those', async () => {
    const before = billedTimes(emulator);
    const earlier = readFileSync(output(page(1, 2)), 'utf8');
    const result = await runCli(['run', '-c', configPath, '--only', 'ST/school1/**', '--force'], { env });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('3 to send in 1 chain (3 done ones made again)');
    const after = billedTimes(emulator);
    for (const id of chains[0] ?? []) expect(after.get(id)).toBe((before.get(id) ?? 0) + 1);
    for (const [key, times] of after) if (!key.startsWith('ST/school1/')) expect(times).toBe(before.get(key));
    expect(readFileSync(output(page(1, 2)), 'utf8')).not.toBe(earlier);
  });

  it('refuses bad selections with exit code 2, naming what is wrong', async () => {
    const unknown = await runCli(['run', '-c', configPath, '--only', 'ST/nowhere/1900/page_1'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--only names no record or chain: ST/nowhere/1900/page_1');
    const field = await runCli(['run', '-c', configPath, '--filter', 'county=Essex', '--dry-run'], { env });
    expect(field.code).toBe(2);
    expect(field.stderr).toContain('--filter names a field no record has: county');
    const malformed = await runCli(['run', '-c', configPath, '--filter', 'state'], { env });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('is not field=value');
    const limit = await runCli(['run', '-c', configPath, '--limit', '0'], { env });
    expect(limit.code).toBe(2);
    const redo = await runCli(['run', '-c', configPath, '--limit', '2', '--redo', 'stale'], { env });
    expect(redo.code).toBe(2);
    expect(redo.stderr).toContain('--redo stale');
  });
});

describe('wavebatch run --force on many records', () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  const env = { GEMINI_API_KEY: 'selection-test-key-not-secret' };

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 22 });
    const workload = writeCatalogWorkload({
      books: 22,
      pages: 1,
      execution: { poll_interval: 20, max_requests_per_job: 30 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    ({ root, configPath } = workload);
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('asks for --yes without a terminal, and redoes them all with it', async () => {
    expect((await runCli(['run', '-c', configPath], { env })).code).toBe(0);
    const billed = emulator.ledger.entries().length;
    expect(billed).toBe(22);

    const refused = await runCli(['run', '-c', configPath, '--force'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--force would make 22 existing outputs again; add --yes to confirm');
    expect(emulator.ledger.entries()).toHaveLength(billed);

    const dry = await runCli(['run', '-c', configPath, '--force', '--dry-run'], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('22 to send in 22 chains (22 done ones made again)');
    expect(emulator.ledger.entries()).toHaveLength(billed);

    const confirmed = await runCli(['run', '-c', configPath, '--force', '--yes'], { env });
    expect(confirmed.code).toBe(0);
    expect(emulator.ledger.entries()).toHaveLength(2 * billed);
  });
});
