import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { rawGet } from '../emulator/harness.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';
import { billed } from '../fixtures/billed-figures.js';
import { speedableRealTime } from '../fixtures/emulator-clock.js';

const env = { GEMINI_API_KEY: 'max-cost-uneven-jobs-key-not-secret' };

// max_cost counts a batch job in flight at its estimate, request by request. It spread the job's
// tokens evenly over its requests, so a job of one long-context request (over 2.5 Pro's 200K
// threshold) and three short ones was counted at the lower rates for all four: at about half what
// the API bills it, and records sent beside it took the run's bill past the cap.
describe('max_cost with a batch job of one long request and short ones in flight', () => {
  let emulator: RunningEmulator;
  let root = '';
  // The emulator's time stands still until both passes have seen the first job: it is still in
  // flight when the second run-once starts, however loaded the machine. Then it runs 60 times
  // faster, so each job's four emulated hours take 0.4 real seconds, not 24.
  const time = speedableRealTime(0);

  beforeAll(async () => {
    emulator = await startEmulator({
      timeScale: 600,
      turnaroundMs: 4 * 3_600_000,
      seed: 21,
      realNow: time.now,
    });
  });

  afterAll(async () => {
    await emulator.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('prices each request of the job at its own size, and holds what would cross the cap', async () => {
    const workload = writeCatalogWorkload({
      books: 7,
      pages: 1,
      execution: { mode: 'batch', poll_interval: '1s', max_concurrent_jobs: 1, max_requests_per_job: 4 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    root = workload.root;
    const page = (index: number, repeats: number) => {
      const id = workload.chains[index]?.[0] as string;
      writeFileSync(join(workload.root, 'dataset', `${id}.txt`), `${id}: ${'Latin 101. '.repeat(repeats)}`);
    };
    // The first job's four: one page of some 260K tokens (over the threshold: $0.33 on Batch at the
    // long-context rates, 500 output tokens assumed) and three of a few tokens ($0.003 each).
    page(0, 95_000);
    // The three left ready: some 60K tokens each, $0.04 ($0.046 with the 15% margin).
    for (const index of [4, 5, 6]) page(index, 21_800);
    const edit = (from: string, to: string) =>
      writeFileSync(workload.configPath, readFileSync(workload.configPath, 'utf8').replace(from, to));
    edit('name: gemini-2.5-flash', 'name: gemini-2.5-pro');

    const once = await runCli(['run-once', '-c', workload.configPath], { env });
    expect(once.code, once.stderr).toBe(0);
    expect(await jobSizes()).toEqual([4]);

    // The job in flight is $0.39 at its estimate: one more page ($0.046) crosses the cap. Spread
    // evenly (four requests of 65K tokens at the lower rates) it was $0.20, and all three were sent.
    const maxCost = 0.4;
    edit('max_concurrent_jobs: 1', `max_concurrent_jobs: 10\n  max_cost: ${maxCost}`);
    const second = await runCli(['run-once', '-c', workload.configPath], { env });
    expect(second.code, second.stderr).toBe(0);
    expect(await jobSizes()).toEqual([4]);
    expect(second.stderr).toContain('max_cost');

    // Once the job is billed (below its estimate) the run sends what the cap still has room for: the
    // bill stays within it, and some page is still held.
    time.speedUp(60);
    const run = await runCli(['run', '-c', workload.configPath], { env });
    expect(run.code, run.stderr).toBe(0);
    const bills = emulator.ledger.entries();
    expect(bills.length).toBeLessThan(7);
    expect(billed(bills).all.costUsd).toBeLessThanOrEqual(maxCost);
  }, 180_000);

  /** Requests of each batch job the emulator holds (its batchStats, which the SDK does not expose). */
  async function jobSizes(): Promise<number[]> {
    const { body } = await rawGet(emulator, 'batches');
    const operations = (body.operations ?? []) as Array<{
      metadata: { batchStats: { requestCount: string } };
    }>;
    return operations.map((operation) => Number(operation.metadata.batchStats.requestCount));
  }
});
