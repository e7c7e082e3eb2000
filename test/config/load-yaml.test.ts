import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PAGE_EXTENSIONS, loadConfig, parseDuration } from '../../src/config/index.js';
import { makeTempFolder, minimalYaml, writeMinimalWorkload, type TempFolder } from './temp-folder.js';

describe('loadConfig (YAML)', () => {
  let folder: TempFolder;
  beforeEach(() => {
    folder = makeTempFolder();
  });
  afterEach(() => folder.remove());

  it('applies every default and makes paths absolute against the config folder', async () => {
    const configPath = writeMinimalWorkload(folder);
    const config = await loadConfig(configPath, {});
    expect(config.configPath).toBe(configPath);
    expect(config.name).toBe('test-workload');
    expect(config.data_dir).toBe(join(folder.root, '.wavebatch'));
    expect(config.outputs).toBe(join(folder.root, 'out'));
    expect(config.prompt).toEqual({ dir: join(folder.root, 'prompts'), name: 'page', version: 'v1' });
    expect(config.source).toEqual({
      type: 'jsonl',
      path: join(folder.root, 'data.jsonl'),
      id_field: 'id',
      max_record_bytes: 64_000_000,
    });
    expect(config.model).toEqual({ name: 'gemini-2.5-flash', generation_config: {} });
    expect(config.execution).toEqual({
      max_retries: 3,
      max_concurrent_jobs: 10,
      max_requests_per_job: 1000,
      records_per_request: 1,
      max_job_bytes: 100_000_000,
      inline_max_bytes: 10_000_000,
      media_upload_bytes: 4_000_000,
      enqueued_token_budget: 5_000_000,
      poll_interval: 30_000,
      redo_stale: false,
      give_up_after: 900_000,
      stall_factor: 4,
      stall_min_age: 3_600_000,
      stall_action: 'wait',
      mode: 'batch',
      sync_concurrency: 32,
    });
    expect(config.api).toEqual({});
    expect(config.apiKey).toBeUndefined();
    expect(config.context).toBeUndefined();
    expect(config.hooks).toBeUndefined();
  });

  it('defaults a directory source to the page extensions and normalises the ones given', async () => {
    folder.folder('dataset');
    folder.write('prompts/page/v1.jinja', 'x');
    const base = minimalYaml().replace(
      '  type: jsonl\n  path: data.jsonl',
      '  type: directory\n  path: dataset',
    );
    folder.write('default.yaml', base);
    folder.write(
      'custom.yaml',
      base.replace('  path: dataset', '  path: dataset\n  extensions: [PNG, .Txt]'),
    );
    const byDefault = await loadConfig(folder.path('default.yaml'), {});
    expect(byDefault.source).toMatchObject({ type: 'directory', extensions: DEFAULT_PAGE_EXTENSIONS });
    const custom = await loadConfig(folder.path('custom.yaml'), {});
    expect(custom.source).toMatchObject({ extensions: ['.png', '.txt'] });
  });

  it('resolves relative paths against the config file, not the working folder', async () => {
    folder.write('conf/prompts/page/v1.jinja', 'x');
    folder.write('conf/../inputs/rows.csv', 'id\na\n');
    folder.write('conf/schema.json', '{"type":"object"}');
    const configPath = folder.write(
      'conf/wavebatch.yaml',
      minimalYaml()
        .replace('type: jsonl', 'type: csv')
        .replace('path: data.jsonl', 'path: ../inputs/rows.csv')
        .replace(
          '  name: gemini-2.5-flash',
          '  name: gemini-2.5-flash\n  response_schema_file: schema.json',
        ) + '\ndata_dir: state\noutputs: /tmp/absolute-outputs\n',
    );
    const config = await loadConfig(configPath, {});
    expect(config.source).toMatchObject({ type: 'csv', path: join(folder.root, 'inputs/rows.csv') });
    expect(config.data_dir).toBe(join(folder.root, 'conf/state'));
    expect(config.outputs).toBe('/tmp/absolute-outputs');
    expect(config.prompt.dir).toBe(join(folder.root, 'conf/prompts'));
    expect(config.model.response_schema).toEqual({ type: 'object' });
  });

  it('reads the full README example shape: filters, allow list, context, inline generation config, base_url', async () => {
    folder.folder('dataset');
    folder.write('allow.txt', 'MA/harvard/1901\n');
    folder.write('prompts/catalog_page/v1.jinja', 'x');
    folder.write(
      'schema.json',
      JSON.stringify({ type: 'object', properties: { carry_over: { type: 'string' } } }),
    );
    const configPath = folder.write(
      'wavebatch.yaml',
      [
        'name: catalogs',
        'source:',
        '  type: directory',
        '  path: dataset',
        '  levels: [state, school, year]',
        '  allow_list: allow.txt',
        '  filters:',
        '    state: [MA, NY]',
        '    year: { min: 1900, max: 1950 }',
        'prompt: { dir: prompts, name: catalog_page, version: v1 }',
        'context: { field: carry_over }',
        'model:',
        '  name: gemini-2.5-flash',
        '  generation_config: { temperature: 0, maxOutputTokens: 512 }',
        '  response_schema_file: schema.json',
        'api:',
        '  base_url: http://127.0.0.1:8080',
      ].join('\n'),
    );
    const config = await loadConfig(configPath, {});
    expect(config.source).toMatchObject({
      levels: ['state', 'school', 'year'],
      allow_list: join(folder.root, 'allow.txt'),
      filters: { state: ['MA', 'NY'], year: { min: 1900, max: 1950 } },
    });
    expect(config.context).toEqual({ field: 'carry_over' });
    expect(config.model.generation_config).toEqual({ temperature: 0, maxOutputTokens: 512 });
    expect(config.api.base_url).toBe('http://127.0.0.1:8080');
  });

  it('reads an empty section (every line commented out) as all defaults', async () => {
    const configPath = writeMinimalWorkload(folder, 'execution:\n  # max_retries: 5\napi:\n');
    const config = await loadConfig(configPath, {});
    expect(config.execution.max_retries).toBe(3);
    expect(config.api).toEqual({});
  });

  it('accepts an inline response schema', async () => {
    const configPath = writeMinimalWorkload(
      folder,
      '  response_schema:\n    type: object\n    required: [a]',
    );
    const config = await loadConfig(configPath, {});
    expect(config.model.response_schema).toEqual({ type: 'object', required: ['a'] });
  });

  it.each([
    [250, 250],
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['1h', 3_600_000],
  ])('reads poll_interval %j as %d ms', async (written, ms) => {
    const configPath = writeMinimalWorkload(
      folder,
      `execution:\n  poll_interval: ${JSON.stringify(written)}`,
    );
    expect((await loadConfig(configPath, {})).execution.poll_interval).toBe(ms);
  });

  it('parses durations and refuses what is not one', () => {
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration(' 10 s ')).toBe(10_000);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    for (const text of ['', '10', '10x', 's', '-5s', '1w']) expect(parseDuration(text)).toBeUndefined();
  });

  it('takes GEMINI_API_KEY over GOOGLE_API_KEY, falls back to GOOGLE_API_KEY, and ignores blank values', async () => {
    const configPath = writeMinimalWorkload(folder);
    expect(
      (await loadConfig(configPath, { GEMINI_API_KEY: 'gemini-key', GOOGLE_API_KEY: 'google-key' })).apiKey,
    ).toBe('gemini-key');
    expect((await loadConfig(configPath, { GOOGLE_API_KEY: 'google-key' })).apiKey).toBe('google-key');
    expect((await loadConfig(configPath, { GEMINI_API_KEY: ' ', GOOGLE_API_KEY: 'google-key' })).apiKey).toBe(
      'google-key',
    );
    expect((await loadConfig(configPath, {})).apiKey).toBeUndefined();
  });

  it('reads the environment from process.env by default', async () => {
    const configPath = writeMinimalWorkload(folder);
    const saved = { gemini: process.env.GEMINI_API_KEY, google: process.env.GOOGLE_API_KEY };
    process.env.GEMINI_API_KEY = 'from-process-env';
    try {
      expect((await loadConfig(configPath)).apiKey).toBe('from-process-env');
    } finally {
      if (saved.gemini === undefined) delete process.env.GEMINI_API_KEY;
      else process.env.GEMINI_API_KEY = saved.gemini;
    }
  });
});
