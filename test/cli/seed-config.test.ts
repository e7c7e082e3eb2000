import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../fixtures/cli.js';

const SEED_FIXTURE = fileURLToPath(new URL('../fixtures/seed', import.meta.url));

interface InitReport {
  written: string[];
  mapped: Array<{ from: string; to: string; value: unknown }>;
  unmapped: Array<{ key: string; reason: string }>;
}

// The seed system's config.yaml (test/fixtures/seed), converted and run on the emulator.
describe('wavebatch init --from-seed-config', () => {
  let emulator: RunningEmulator;
  let root: string;
  let seedConfig: string;
  const env = { GEMINI_API_KEY: 'seed-test-key-not-secret' };

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 4 });
    root = mkdtempSync(join(tmpdir(), 'wb-seed-'));
    // A copy: the converted workload writes its outputs beside the seed's, inside the seed folder.
    cpSync(SEED_FIXTURE, join(root, 'seed'), { recursive: true });
    seedConfig = join(root, 'seed', 'config.yaml');
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('says what it mapped and what it could not, as text and as JSON', async () => {
    const human = await runCli(['init', join(root, 'shown'), '--from-seed-config', seedConfig], { env });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('mapped from the seed config:');
    expect(human.stdout).toMatch(/filters\.target_states -> source\.filters\.state: \["MA","NY"\]/);
    expect(human.stdout).toMatch(/execution\.batch_size_limit -> execution\.max_requests_per_job: 50/);
    expect(human.stdout).toMatch(/execution\.max_concurrent_batches -> execution\.max_concurrent_jobs: 4/);
    expect(human.stdout).toContain('not mapped:');
    expect(human.stdout).toMatch(/paths\.label_source_dir: .*evaluation labels/);
    // The seed's Braintrust project is logged to through the environment, as the README says.
    expect(human.stdout).toContain(
      '  braintrust.project: not a config key: wavebatch logs every inference to Braintrust with ' +
        'BRAINTRUST_PROJECT=catalog-ocr and BRAINTRUST_API_KEY set in the environment (and the optional ' +
        'braintrust package installed); README "Logging inferences to Braintrust"',
    );
    expect(human.stdout).not.toContain('braintrust.project: no wavebatch equivalent');

    const json = await runCli(['init', join(root, 'as-json'), '--from-seed-config', seedConfig, '--json'], {
      env,
    });
    const report = JSON.parse(json.stdout) as InitReport;
    expect(report.written).toEqual(['wavebatch.yaml', 'prompts/catalog_ocr/v2.jinja']);
    expect(report.mapped.map((entry) => `${entry.from} -> ${entry.to}`)).toEqual([
      'paths.image_source_dir -> source.path',
      'filters.target_states -> source.filters.state',
      'filters.target_years -> source.filters.year',
      'paths.output_dir -> outputs',
      'execution.batch_size_limit -> execution.max_requests_per_job',
      'execution.max_concurrent_batches -> execution.max_concurrent_jobs',
      'model -> model.name',
      'prompt.registry_dir + name + template_file -> prompt',
    ]);
    expect(report.unmapped.map((entry) => entry.key)).toEqual([
      'paths.label_source_dir',
      'paths.log_dir',
      'execution.dry_run',
      'braintrust.project',
      'logging.level',
    ]);
  });

  it('converts into a workload that runs on the emulator: only the filtered catalogs, chained, beside the seed outputs', async () => {
    const folder = join(root, 'catalogs');
    const init = await runCli(
      ['init', folder, '--from-seed-config', seedConfig, '--base-url', emulator.url],
      { env },
    );
    expect(init.code).toBe(0);
    const config = parse(readFileSync(join(folder, 'wavebatch.yaml'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      name: 'catalogs',
      outputs: '../seed/data/ocr_output/wavebatch',
      source: {
        type: 'directory',
        path: '../seed/data/catalog_images',
        levels: ['state', 'school', 'year'],
        filters: { state: ['MA', 'NY'], year: [1901, 1905, 1921] },
      },
      prompt: { dir: 'prompts', name: 'catalog_ocr', version: 'v2' },
      model: { name: 'gemini-2.5-flash' },
      execution: { max_requests_per_job: 50, max_concurrent_jobs: 4 },
    });

    emulator.ledger.clear();
    const run = await runCli(['run', '-c', join(folder, 'wavebatch.yaml')], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('records: 7 done, 0 dead-lettered, 0 pending (7 total)');
    const ledger = emulator.ledger.entries();
    // CT/yale (state) and NY/cornell/1899 (year) are filtered out; the seed's own output for
    // harvard page 1 is neither overwritten nor taken as done.
    expect(ledger.map((entry) => entry.key).sort()).toEqual([
      'MA/harvard/1901/page_001',
      'MA/harvard/1901/page_002',
      'MA/harvard/1901/page_003',
      'MA/mit/1905/page_001',
      'MA/mit/1905/page_002',
      'NY/columbia/1921/page_001',
      'NY/columbia/1921/page_002',
    ]);
    const seedOutput = readFileSync(join(root, 'seed/data/ocr_output/MA/harvard/1901/page_001.json'), 'utf8');
    expect(seedOutput).toContain('Latin Composition');

    // The seed template's own variables: page_number, year, school, state, and previous_page as context.
    const pageOne = JSON.parse(
      readFileSync(join(root, 'seed/data/ocr_output/wavebatch/MA/harvard/1901/page_001.json'), 'utf8'),
    ) as { output: unknown };
    const pageTwo = ledger.find((entry) => entry.key === 'MA/harvard/1901/page_002');
    expect(pageTwo?.promptText).toContain('page 2 of the 1901 course catalog of harvard (MA)');
    expect(pageTwo?.promptText).toContain(String(pageOne.output));
    expect(ledger.find((entry) => entry.key === 'MA/harvard/1901/page_001')?.promptText).not.toContain(
      'The previous page ended',
    );
  });

  it('names a missing seed config and exits 2', async () => {
    const result = await runCli(['init', join(root, 'none'), '--from-seed-config', join(root, 'nope.yaml')], {
      env,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('nope.yaml');
  });
});
