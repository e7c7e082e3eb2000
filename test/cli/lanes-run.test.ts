import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';

// `wavebatch run` / `run-once` with a synchronous lane, as a user runs them: the CLI binary against
// the emulator (Flex's 1-15 minutes at 3,600x: 17-250 real ms).
describe('wavebatch run with execution.mode flex', () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  const env = { GEMINI_API_KEY: 'lanes-test-key-not-secret' };

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, seed: 4 });
    const workload = writeCatalogWorkload({
      books: 2,
      pages: 3,
      execution: { mode: 'flex', poll_interval: '1s' },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    ({ root, configPath } = workload);
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('run-once sends the ready records on Flex and waits for their answers; run finishes the chains', async () => {
    const once = await runCli(['run-once', '-c', configPath, '--json'], { env });
    expect(once.code, once.stderr).toBe(0);
    const first = JSON.parse(once.stdout) as {
      counts: { done: number; in_flight: number };
      lanes: Record<string, { done: number; attempts: number; costUsd: number }>;
    };
    // The first page of each chain, answered and applied within the run-once; nothing left in flight.
    expect(first.counts).toMatchObject({ done: 2, in_flight: 0 });
    expect(first.lanes).toEqual({ flex: { done: 2, attempts: 2, costUsd: expect.any(Number) } });
    expect(emulator.ledger.entries()).toHaveLength(2);

    const run = await runCli(['run', '-c', configPath], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/records: 6 done/);
    expect(run.stdout).toMatch(/lanes: flex 4 done in 4 attempts \(\$\d+\.\d+\)/);
    const ledger = emulator.ledger.entries();
    expect(ledger).toHaveLength(6);
    expect(ledger.every((entry) => entry.lane === 'flex')).toBe(true);
  });

  it('an auto run that used Flex says what batch-only would have taken, as an estimate', async () => {
    const auto = writeCatalogWorkload({
      books: 2,
      pages: 3,
      execution: { mode: 'auto', poll_interval: '1s' },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    try {
      const run = await runCli(['run', '-c', auto.configPath, '--json'], { env });
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout) as {
        elapsedMs: number;
        lanes: Record<string, { done: number; reasons?: Record<string, number> }>;
        batchOnly: {
          projectedMs: { low: number; high: number };
          savedMs: { low: number; high: number };
          turnaroundSamples: number;
        };
      };
      expect(summary.lanes.flex?.done).toBeGreaterThan(0);
      // Why auto sent them there: every chain is as deep as the deepest, its critical path.
      expect(summary.lanes.flex?.reasons).toEqual({ critical_path: summary.lanes.flex?.done });
      // No batch job measured: three waves (the chains are three deep) at the assumed turnaround,
      // 1 h typical and 8 h slow.
      expect(summary.batchOnly).toEqual({
        projectedMs: { low: 3 * 3_600_000, high: 24 * 3_600_000 },
        savedMs: { low: 3 * 3_600_000 - summary.elapsedMs, high: 24 * 3_600_000 - summary.elapsedMs },
        turnaroundSamples: 0,
      });
      // Human output: the same figures, labelled as an estimate with its basis.
      const again = writeCatalogWorkload({
        books: 1,
        pages: 2,
        execution: { mode: 'auto', poll_interval: '1s' },
        extraYaml: `api:\n  base_url: ${emulator.url}`,
      });
      try {
        const human = await runCli(['run', '-c', again.configPath], { env });
        expect(human.code, human.stderr).toBe(0);
        expect(human.stdout).toMatch(
          /^lanes: flex 2 done in 2 attempts \(\$\d+\.\d{6}; sent for: critical path 2\)$/m,
        );
        // The run's report says it too, in its lane section.
        const report = readFileSync(join(again.root, 'state', 'report.md'), 'utf8');
        expect(report).toMatch(/^Why `auto` sent them on each lane/m);
        expect(report).toMatch(/^\| flex\s*\| critical path 2\s*\|$/m);
        expect(human.stdout).toMatch(
          /^time saved vs batch-only: ~2h 00m–16h 00m \(estimate: batch-only would take 2h 00m–16h 00m at the assumed batch turnaround \(no batch job measured yet\)\)$/m,
        );
      } finally {
        rmSync(again.root, { recursive: true, force: true });
      }
    } finally {
      rmSync(auto.root, { recursive: true, force: true });
    }
  });
});
