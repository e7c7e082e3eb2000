import { describe, expect, it } from 'vitest';
import { convertSeedConfig, type SeedFacts } from '../../src/scaffold/index.js';

const FACTS: SeedFacts = {
  seedDir: '/seed',
  targetDir: '/work/new',
  datasetDepth: 3,
  outputDirHasFiles: false,
  template: { path: 'prompts/p/v3.j2', text: 'Page {{ page_number }} of {{ school }}: {{ previous_page }}' },
};

function convert(seed: unknown, facts: Partial<SeedFacts> = {}) {
  return convertSeedConfig(seed, { ...FACTS, ...facts }, { name: 'w' });
}

describe('convertSeedConfig', () => {
  it('takes year ranges written as "1900-1950" or { start, end }', () => {
    const dashed = convert({ paths: { image_source_dir: 'img' }, filters: { target_years: '1900-1950' } });
    expect(dashed.config.source).toMatchObject({
      path: '../../seed/img',
      filters: { year: { min: 1900, max: 1950 } },
    });
    const object = convert({
      paths: { image_source_dir: 'img' },
      filters: { target_years: { start: 1890 } },
    });
    expect(object.config.source).toMatchObject({ filters: { year: { min: 1890 } } });
  });

  it('passes model settings on as generation_config in camelCase', () => {
    const result = convert({
      paths: { image_source_dir: 'img' },
      model: { name: 'gemini-2.5-pro', temperature: 0.2, max_output_tokens: 4096 },
    });
    expect(result.config.model).toEqual({
      name: 'gemini-2.5-pro',
      generation_config: { temperature: 0.2, maxOutputTokens: 4096 },
    });
  });

  it('never copies nor repeats a key, and says where keys come from instead', () => {
    const result = convert({ paths: { image_source_dir: 'img' }, gemini: { api_key: 'AIza-secret-value' } });
    expect(result.unmapped).toContainEqual({
      key: 'gemini.api_key',
      reason: 'not copied: API keys come only from GEMINI_API_KEY / GOOGLE_API_KEY',
    });
    expect(JSON.stringify(result)).not.toContain('AIza-secret-value');
  });

  it('points a Braintrust key and an odd project name at the environment, repeating neither', () => {
    const result = convert({
      paths: { image_source_dir: 'img' },
      braintrust: { api_key: 'sk-braintrust-secret', project: 'a project; rm -rf' },
    });
    expect(result.unmapped).toContainEqual({
      key: 'braintrust.api_key',
      reason:
        'not copied: set BRAINTRUST_API_KEY (and BRAINTRUST_PROJECT) in the environment instead; README "Logging inferences to Braintrust"',
    });
    const project = result.unmapped.find((entry) => entry.key === 'braintrust.project');
    expect(project?.reason).toContain('BRAINTRUST_PROJECT=<project> and BRAINTRUST_API_KEY');
    expect(JSON.stringify(result)).not.toContain('sk-braintrust-secret');
    expect(JSON.stringify(result)).not.toContain('rm -rf');
  });

  it("names the command-line equivalents of the seed's dry_run, logging level and log folder", () => {
    const result = convert({
      paths: { image_source_dir: 'img', log_dir: 'logs' },
      execution: { dry_run: false },
      logging: { level: 'WARN' },
    });
    const reasons = Object.fromEntries(result.unmapped.map((entry) => [entry.key, entry.reason]));
    expect(reasons['execution.dry_run']).toContain('`wavebatch run --dry-run`');
    expect(reasons['logging.level']).toBe(
      'not a config key: `wavebatch run --log-level warn` (debug, info, warn or error), or WAVEBATCH_LOG_LEVEL=warn in the environment',
    );
    expect(reasons['paths.log_dir']).toContain('`wavebatch log`');
    for (const reason of Object.values(reasons)) expect(reason).not.toBe('no wavebatch equivalent');
  });

  it('numbers the levels of a dataset of another depth, and reports filters it cannot place', () => {
    const result = convert(
      { paths: { image_source_dir: 'img' }, filters: { target_states: ['MA'] } },
      { datasetDepth: 2 },
    );
    expect(result.config.source).toMatchObject({ levels: ['level_1', 'level_2'] });
    expect(result.unmapped).toContainEqual({
      key: 'filters.target_states',
      reason: 'the dataset has no state folder level (levels: level_1, level_2)',
    });
  });

  it("copies the template under the file's version, setting up the variables its tags use", () => {
    const result = convert({
      paths: { image_source_dir: 'img' },
      prompt: { registry_dir: 'prompts', name: 'p', template_file: 'v3.j2' },
    });
    expect(result.config.prompt).toEqual({ dir: 'prompts', name: 'p', version: 'v3' });
    expect(result.template?.text).toContain('{%- set page_number = record.page %}');
    expect(result.template?.text).toContain('{%- set previous_page = context %}');
    expect(result.template?.text).not.toContain('set state');
  });

  it('refuses a seed config without image_source_dir', () => {
    expect(() => convert({ paths: {} })).toThrow(/image_source_dir/);
  });
});
