import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';

// The CLI as a user runs it: a child process on a real config folder, against the emulator over HTTP.
describe('wavebatch run / failures / requeue / reset', () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  let doomed: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 11 });
    const workload = writeCatalogWorkload({
      books: 2,
      pages: 2,
      execution: { max_retries: 1, poll_interval: 20 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    root = workload.root;
    configPath = workload.configPath;
    doomed = workload.chains[1]?.[0] as string;
    emulator.setFaults({ byKey: { [doomed]: ['safety', 'safety'] } });
    env = { GEMINI_API_KEY: 'cli-test-key-not-secret' };
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('runs to the end, dead-letters the record that keeps failing and blocks only its chain', async () => {
    const result = await runCli(['run', '-c', configPath], { env });
    expect(result.stderr).not.toContain('cli-test-key-not-secret');
    expect(result.code).toBe(3); // finished with dead letters
    expect(result.stdout).toContain('records: 2 done, 1 dead-lettered, 1 pending (4 total)');
    expect(result.stdout).toContain('1 records wait behind dead letters');
    expect(existsSync(join(root, 'out', `${doomed}.json`))).toBe(false);
  });

  it('groups failures by cause and exports dead letters as CSV', async () => {
    const byCause = await runCli(['failures', '--by-cause', '-c', configPath], { env });
    expect(byCause.code).toBe(0);
    expect(byCause.stdout).toMatch(/^\s+2\s+safety$/m);

    const csvPath = join(root, 'dead.csv');
    const exported = await runCli(
      ['failures', '--dead', '--export', 'csv', '-o', csvPath, '-c', configPath],
      { env },
    );
    expect(exported.code).toBe(0);
    const lines = readFileSync(csvPath, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^at,recordId,jobId,attempt,cause,final/);
    expect(lines.some((line) => line.includes(doomed) && line.includes('safety'))).toBe(true);
  });

  it('refuses destructive commands without --yes and leaves state untouched', async () => {
    const refused = await runCli(['reset', '-c', configPath], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    const still = await runCli(['failures', '--dead', '-c', configPath], { env });
    expect(still.stdout).toContain(doomed);
  });

  it('requeues dead letters; the next run finishes them and unlocks their chain', async () => {
    const requeued = await runCli(['requeue', doomed, '--json', '-c', configPath], { env });
    expect(requeued.code).toBe(0);
    expect(JSON.parse(requeued.stdout)).toEqual({ requeued: 1 });
    const again = await runCli(['requeue', '-c', configPath], { env });
    expect(again.stdout).toBe('requeued 0 records; run `wavebatch run` to process them\n');
    const rerun = await runCli(['run', '-c', configPath], { env });
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('records: 4 done, 0 dead-lettered, 0 pending (4 total)');
    expect(existsSync(join(root, 'out', `${doomed}.json`))).toBe(true);
    // Each record billed once for its success: the earlier 2 failures + 4 successes.
    expect(emulator.ledger.entries()).toHaveLength(6);
  });

  it('clears the failure log and resets the state, saying what it did as JSON; outputs count as done again', async () => {
    const cleared = await runCli(['clear-failures', '--yes', '--json', '-c', configPath], { env });
    expect(cleared.code).toBe(0);
    expect(JSON.parse(cleared.stdout)).toEqual({ cleared: 2 });
    const none = await runCli(['failures', '-c', configPath], { env });
    expect(none.stdout).toBe('no failures recorded\n');

    const reset = await runCli(['reset', '--yes', '--json', '-c', configPath], { env });
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout)).toEqual({ reset: true, outputsKept: true });
    const billed = emulator.ledger.entries().length;
    const rerun = await runCli(['run', '-c', configPath], { env });
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('records: 4 done, 0 dead-lettered, 0 pending (4 total)');
    // Nothing sent again: the outputs on disk marked every record done.
    expect(emulator.ledger.entries()).toHaveLength(billed);
  });

  it('names the key and the line of a broken config and exits 2', async () => {
    const broken = join(root, 'broken.yaml');
    writeFileSync(broken, readFileSync(configPath, 'utf8').replace('max_retries: 1', 'max_retries: lots'));
    const result = await runCli(['run-once', '-c', broken], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('execution.max_retries');
    expect(result.stderr).toMatch(/line \d+/);
  });

  it('says which variable to set when Google is targeted without an API key', async () => {
    const google = join(root, 'google.yaml');
    writeFileSync(google, readFileSync(configPath, 'utf8').replace(/^api:\n.*$/m, ''));
    const result = await runCli(['run-once', '-c', google], { env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('GEMINI_API_KEY');
  });
});
