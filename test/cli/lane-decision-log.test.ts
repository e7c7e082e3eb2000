import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';

const MINUTE = 60_000;

// An auto run's lane decisions at --log-level debug, as a user reads them on standard error.
describe('lane decisions in the run log', () => {
  let emulator: RunningEmulator;
  let root = '';

  beforeAll(async () => {
    // The project runs one batch job at a time, the config allows three: the other creates are
    // refused (429) and their records, ready again, are decided again at every poll.
    emulator = await startEmulator({
      timeScale: 3600,
      seed: 31,
      turnaroundMs: { min: 10 * MINUTE, max: 30 * MINUTE },
      quotas: { maxConcurrentBatchJobs: 1 },
    });
  });

  afterAll(async () => {
    await emulator.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('logs a record decision when it changes, not again for every refused job creation', async () => {
    const workload = writeCatalogWorkload({
      books: 6,
      pages: 1,
      execution: { mode: 'auto', deadline: '48h', max_requests_per_job: 2, poll_interval: '200ms' },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    root = workload.root;
    const run = await runCli(
      ['run', '-c', workload.configPath, '--log-level', 'debug', '--log-format', 'json'],
      {
        env: { GEMINI_API_KEY: 'decision-log-test-key' },
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event?: string; recordId?: string; lane?: string | null });
    // Creates were refused: the records waited ready through several rounds.
    expect(lines.some((line) => line.event === 'quota-wait')).toBe(true);
    const decisions = lines.filter((line) => line.event === 'lane-decision');
    // Each of the six records sent once, by batch (a 48-hour deadline), and its decision logged once.
    expect(emulator.ledger.entries()).toHaveLength(6);
    expect(decisions.map((line) => line.recordId).sort()).toEqual(workload.chains.flat().sort());
    expect(decisions.every((line) => line.lane === 'batch')).toBe(true);
  }, 90_000);

  it('shows one held record per reason at info, and how many more were held, not a line per record', async () => {
    const workload = writeCatalogWorkload({
      books: 400,
      pages: 1,
      execution: { mode: 'auto', sync_concurrency: 4, poll_interval: '200ms' },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    root = workload.root;
    const billedBefore = emulator.ledger.entries().length;
    const run = await runCli(['run', '-c', workload.configPath, '--log-format', 'json'], {
      env: { GEMINI_API_KEY: 'decision-log-test-key' },
    });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stderr
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { level: string; event?: string; lane?: string | null; records?: number },
      );
    const shown = lines.filter((line) => line.event === 'lane-decision');
    const counted = lines.filter((line) => line.event === 'held');
    const news = lines.filter((line) => !['lane-decision', 'held', 'progress'].includes(line.event ?? ''));
    // Hundreds of records waited for room: one line of each reason between two pieces of news.
    const notShown = counted.reduce((sum, line) => sum + (line.records ?? 0), 0);
    expect(notShown).toBeGreaterThan(100);
    expect(shown.every((line) => line.lane === null && line.level === 'info')).toBe(true);
    expect(shown.length).toBeLessThanOrEqual(2 * (news.length + 1));
    expect(lines.length).toBeLessThan(100);
    // Every record was sent and billed.
    expect(emulator.ledger.entries().length - billedBefore).toBeGreaterThanOrEqual(400);
  }, 120_000);
});
