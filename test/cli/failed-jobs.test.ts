import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli, startCli } from '../fixtures/cli.js';

/** A run that sends a failing job again for ever never ends: it is killed after this. */
const BOUND_MS = 60_000;
const env = { GEMINI_API_KEY: 'failed-jobs-test-key' };

// A job Google ended FAILED sent its records back to the queue with an attempt counted but never
// dead-lettered them: a job that always failed was sent again for ever (the run never ended, and
// `failures` listed nothing), though the code meant a FAILED job to count against max_retries.
describe('wavebatch run when Google ends every batch job FAILED', () => {
  let emulator: RunningEmulator;
  let root = '';

  beforeAll(async () => {
    emulator = await startEmulator({
      timeScale: 3600,
      turnaroundMs: 60_000,
      seed: 14,
      faults: { jobRates: { failed: 1 } },
    });
  });
  afterAll(async () => {
    await emulator?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it(
    "dead-letters the records once out of retries, exits 3 and files Google's reason as each failure",
    async () => {
      const workload = writeCatalogWorkload({
        books: 2,
        pages: 1,
        execution: { max_retries: 1, poll_interval: '200ms' },
        extraYaml: `api:\n  base_url: ${emulator.url}`,
      });
      root = workload.root;
      const run = startCli(['run', '-c', workload.configPath], { env });
      const timer = setTimeout(() => run.child.kill('SIGKILL'), BOUND_MS);
      const result = await run.result.finally(() => clearTimeout(timer));
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(3);
      expect(result.stdout).toContain('records: 0 done, 2 dead-lettered');
      expect(result.stderr).toMatch(/ended FAILED: The batch job failed due to an internal error/);

      // One job and one retry (max_retries: 1), nothing billed: Google bills no FAILED job.
      const listed = await fetch(`${emulator.url}/v1beta/batches`, { headers: { 'x-goog-api-key': 'k' } });
      expect(((await listed.json()) as { operations: unknown[] }).operations).toHaveLength(2);
      expect(emulator.ledger.entries()).toEqual([]);

      const dead = await runCli(['failures', '--dead', '--json', '-c', workload.configPath], { env });
      const rows = JSON.parse(dead.stdout) as Array<{ recordId: string; cause: string; message: string }>;
      expect(rows.map((row) => row.recordId).sort()).toEqual(workload.chains.flat().sort());
      for (const row of rows) {
        expect(row.cause).toBe('job_failed');
        expect(row.message).toMatch(/^Job \S+ ended FAILED: The batch job failed due to an internal error/);
      }
    },
    BOUND_MS + 20_000,
  );
});
