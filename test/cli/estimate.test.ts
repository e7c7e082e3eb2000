import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { WorkloadEstimate } from '../../src/service/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';

// `wavebatch estimate` as a user runs it.
describe('wavebatch estimate', () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  const env = { GEMINI_API_KEY: 'estimate-test-key-not-secret' };

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 4 });
    const workload = writeCatalogWorkload({
      books: 2,
      pages: 6,
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    root = workload.root;
    configPath = workload.configPath;
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('prints a row per mode with cost, rounds and time', async () => {
    const result = await runCli(['estimate', '-c', configPath], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('test: 12 requests in 2 chains (longest 6), gemini-2.5-flash');
    expect(result.stdout).toMatch(/^batch\s+\$\S+\s+6 {2}\S/m);
    expect(result.stdout).toMatch(/^priority\s+not available in your usage tier/m);
    expect(result.stdout).toMatch(/^auto\s+\$\S+\s+6 {2}.*\(flex 12\)$/m);
    expect(result.stdout).toContain('a default guess');
    // Nothing was billed: an estimate only counts.
    expect(emulator.ledger.entries()).toHaveLength(0);
  });

  it('prints JSON for scripts, calibrated with countTokens on the emulator', async () => {
    const result = await runCli(
      ['estimate', '-c', configPath, '--json', '--calibrate', '5', '--output-tokens', '40'],
      { env },
    );
    expect(result.code).toBe(0);
    const estimate = JSON.parse(result.stdout) as WorkloadEstimate;
    expect(estimate).toMatchObject({ records: 12, chains: 2, longestChain: 6 });
    expect(estimate.tokens.inputSource).toMatchObject({ kind: 'calibrated', samples: 5 });
    expect(estimate.tokens).toMatchObject({
      outputPerRequest: 40,
      output: 480,
      outputSource: { kind: 'option' },
    });
    expect(estimate.modes.priority).toMatchObject({ available: false, costUsd: expect.any(Number) });
    expect(estimate.modes.priority.timeMs.low).toBeNull();
    expect(estimate.modes.standard.costUsd).toBeCloseTo(2 * (estimate.modes.batch.costUsd ?? 0), 12);
    expect(emulator.ledger.entries()).toHaveLength(0);
  });

  it('prices grouped requests (records_per_request) as the batch lane sends them: the instructions once per group', async () => {
    const instructions = 'Transcribe every course: code, title, credits, prerequisites. '.repeat(10);
    const grouped = writeCatalogWorkload({
      books: 2,
      pages: 6,
      execution: { records_per_request: 4 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    const single = writeCatalogWorkload({
      books: 2,
      pages: 6,
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    try {
      const item = 'Page {{ r.page }} of {{ r.school }}.';
      writeFileSync(
        join(grouped.root, 'prompts/page/v1.jinja'),
        `${instructions}\n{% for r in records %}${item}\n{% endfor %}`,
      );
      writeFileSync(
        join(single.root, 'prompts/page/v1.jinja'),
        `${instructions}\n{% set r = record %}${item}\n`,
      );
      const estimates = [];
      for (const workload of [grouped, single]) {
        const result = await runCli(
          ['estimate', '-c', workload.configPath, '--json', '--output-tokens', '40'],
          {
            env,
          },
        );
        expect(result.code).toBe(0);
        estimates.push(JSON.parse(result.stdout) as WorkloadEstimate);
      }
      const [together, alone] = estimates as [WorkloadEstimate, WorkloadEstimate];
      expect(together).toMatchObject({ records: 12, recordsPerRequest: 4, tokens: { output: 480 } });
      expect(alone.recordsPerRequest).toBe(1);
      expect(together.tokens.input).toBeLessThan(alone.tokens.input * 0.75);
      expect(together.modes.batch.costUsd ?? 0).toBeLessThan((alone.modes.batch.costUsd ?? 0) * 0.9);
      // The synchronous lanes send each record alone: no saving there.
      expect(together.modes.flex.costUsd ?? 0).toBeGreaterThan((together.modes.batch.costUsd ?? 0) * 1.1);

      const human = await runCli(['estimate', '-c', grouped.configPath], { env });
      expect(human.stdout).toContain('test: 12 records (4 per batch request) in 2 chains');
      expect(human.stdout).toMatch(/input tokens: +[\d,]+ \([\d,]+ per record/);
    } finally {
      rmSync(grouped.root, { recursive: true, force: true });
      rmSync(single.root, { recursive: true, force: true });
    }
  });

  it('refuses a bad --calibrate with exit code 2', async () => {
    const result = await runCli(['estimate', '-c', configPath, '--calibrate', 'many'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected a whole number');
  });
});
