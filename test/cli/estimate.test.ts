import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { WorkloadEstimate } from '../../src/service/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';
import { writeBlankPng } from '../media/png.js';
import { wavBytes } from '../media/timed-media.js';

/**
 * A workload of one page whose media is a blank PNG of side × side px (or the bytes given, in a file
 * of that extension), uploaded when at least `uploadBytes`.
 */
function writeScanWorkload(
  media: number | { bytes: Buffer; extension: string },
  uploadBytes: number,
  baseUrl: string,
): string {
  const root = mkdtempSync(join(tmpdir(), 'wb-estimate-scan-'));
  const extension = typeof media === 'number' ? 'png' : media.extension;
  const page = join(root, 'dataset', 'ST', 'book1', '1900', `page_1.${extension}`);
  mkdirSync(join(page, '..'), { recursive: true });
  if (typeof media === 'number') writeBlankPng(page, media, media);
  else writeFileSync(page, media.bytes);
  mkdirSync(join(root, 'prompts', 'page'), { recursive: true });
  writeFileSync(join(root, 'prompts', 'page', 'v1.jinja'), 'Transcribe page {{ record.page }}.\n');
  const yaml = [
    'name: scans',
    'data_dir: state',
    'outputs: out',
    `source: { type: directory, path: dataset, levels: [state, school, year], extensions: [.${extension}] }`,
    'prompt: { dir: prompts, name: page, version: v1 }',
    'model: { name: gemini-2.5-flash }',
    `execution: { media_upload_bytes: ${uploadBytes} }`,
    `api: { base_url: ${baseUrl} }`,
  ].join('\n');
  writeFileSync(join(root, 'wavebatch.yaml'), `${yaml}\n`);
  return root;
}

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

  it('calibrates against --base-url, which wins over the config and WAVEBATCH_BASE_URL, as for run', async () => {
    // The config points nowhere: only --base-url reaches an API.
    const elsewhere = writeCatalogWorkload({
      books: 1,
      pages: 2,
      extraYaml: 'api:\n  base_url: http://127.0.0.1:9',
    });
    try {
      const result = await runCli(
        ['estimate', '-c', elsewhere.configPath, '--json', '--calibrate', '2', '--base-url', emulator.url],
        { env: { ...env, WAVEBATCH_BASE_URL: 'http://127.0.0.1:9' } },
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const estimate = JSON.parse(result.stdout) as WorkloadEstimate;
      expect(estimate.tokens.inputSource).toMatchObject({ kind: 'calibrated', samples: 2 });
      expect(emulator.ledger.entries()).toHaveLength(0);
    } finally {
      rmSync(elsewhere.root, { recursive: true, force: true });
    }
  });

  it('prices grouped requests (records_per_request) as the batch lane sends them: the instructions once per group', async () => {
    const instructions = 'Transcribe every course: code, title, credits, prerequisites. '.repeat(10);
    // Four chains: each step has four records ready, a full group (a group never holds two records of a chain).
    const grouped = writeCatalogWorkload({
      books: 4,
      pages: 3,
      execution: { records_per_request: 4 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    const single = writeCatalogWorkload({
      books: 4,
      pages: 3,
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
      expect(human.stdout).toContain('test: 12 records (4 per batch request) in 4 chains');
      expect(human.stdout).toMatch(/input tokens: +[\d,]+ \([\d,]+ per record/);
    } finally {
      rmSync(grouped.root, { recursive: true, force: true });
      rmSync(single.root, { recursive: true, force: true });
    }
  });

  it('counts a large image in 258-token tiles, as the emulator and Google do, inline or uploaded', async () => {
    const roots: string[] = [];
    try {
      const inputOf = async (side: number, uploadBytes: number) => {
        const root = writeScanWorkload(side, uploadBytes, emulator.url);
        roots.push(root);
        const config = join(root, 'wavebatch.yaml');
        const result = await runCli(['estimate', '-c', config, '--json', '--output-tokens', '40'], { env });
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        return (JSON.parse(result.stdout) as WorkloadEstimate).tokens.input;
      };
      // 1536 x 1536 px: tiles of 768 px, 2 x 2 of them, 4 x 258 tokens; a 4 x 4 px thumbnail is 258.
      const small = await inputOf(4, 4_000_000);
      expect(await inputOf(1536, 4_000_000)).toBe(small + 3 * 258);
      // Uploaded (not sent for an estimate): its size is read from the file's header all the same.
      expect(await inputOf(1536, 1)).toBe(small + 3 * 258);
      // The emulator bills such an image the same: countTokens over the same request agrees.
      const calibrated = await runCli(
        ['estimate', '-c', join(roots[1] as string, 'wavebatch.yaml'), '--json', '--calibrate', '1'],
        { env },
      );
      const estimate = JSON.parse(calibrated.stdout) as WorkloadEstimate;
      expect(estimate.tokens.inputSource).toMatchObject({ kind: 'calibrated', samples: 1 });
      expect(estimate.tokens.input).toBe(small + 3 * 258);
      expect(emulator.ledger.entries()).toHaveLength(0);
    } finally {
      for (const root of roots) rmSync(root, { recursive: true, force: true });
    }
  });

  it('counts audio at 32 tokens a second, its length read from the WAV header as the emulator reads it', async () => {
    const roots: string[] = [];
    try {
      const estimateOf = async (
        media: number | { bytes: Buffer; extension: string },
        uploadBytes: number,
        calibrate = 0,
      ) => {
        const root = writeScanWorkload(media, uploadBytes, emulator.url);
        roots.push(root);
        const args = ['estimate', '-c', join(root, 'wavebatch.yaml'), '--json', '--output-tokens', '40'];
        const result = await runCli(calibrate > 0 ? [...args, '--calibrate', String(calibrate)] : args, {
          env,
        });
        expect(result.code).toBe(0);
        return JSON.parse(result.stdout) as WorkloadEstimate;
      };
      const text = (await estimateOf(4, 4_000_000)).tokens.input - 258; // the prompt without its thumbnail
      // A minute of 8 kHz 16-bit mono: 960 KB, 1,920 tokens (a token per 4 base64 characters was 320,015).
      const minute = { bytes: wavBytes(60), extension: 'wav' };
      expect((await estimateOf(minute, 4_000_000)).tokens.input).toBe(text + 60 * 32);
      // The emulator counts the same request the same: countTokens calibrates it by a ratio of 1.
      const calibrated = await estimateOf(minute, 4_000_000, 1);
      expect(calibrated.tokens).toMatchObject({ input: text + 60 * 32, inputSource: { kind: 'calibrated' } });
      // Uploaded, its length is read from its header all the same (not its size at 128 kbit/s, 1,921).
      const uploaded = await estimateOf(minute, 1);
      expect(uploaded.tokens.input).toBe(text + 60 * 32);
    } finally {
      for (const root of roots) rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a bad --calibrate with exit code 2', async () => {
    const result = await runCli(['estimate', '-c', configPath, '--calibrate', 'many'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected a whole number');
  });
});
