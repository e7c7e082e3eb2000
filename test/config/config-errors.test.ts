import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import {
  failure,
  makeTempFolder,
  minimalYaml,
  writeMinimalWorkload,
  type TempFolder,
} from './temp-folder.js';

describe('loadConfig errors', () => {
  let folder: TempFolder;
  beforeEach(() => {
    folder = makeTempFolder();
  });
  afterEach(() => folder.remove());

  it('names the file, line, key and refused value of a bad value', async () => {
    const path = writeMinimalWorkload(folder, 'execution:\n  max_concurrent_jobs: 2\n  max_retries: lots');
    const error = await failure(path);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(
      'wavebatch.yaml line 12: execution.max_retries: expected a whole number >= 0, got "lots"',
    );
    expect(error).toMatchObject({
      file: expect.stringContaining('wavebatch.yaml'),
      line: 12,
      key: 'execution.max_retries',
    });
  });

  it('rejects unknown keys with their key path, line and the keys allowed there', async () => {
    const path = writeMinimalWorkload(folder, 'execution:\n  max_retires: 2');
    const error = await failure(path);
    expect(error.message).toMatch(
      /line 11: execution\.max_retires: unknown key \(allowed here: max_retries, /,
    );
    expect(error.line).toBe(11);
  });

  it('reports every problem at once, in file order', async () => {
    const path = folder.write(
      'wavebatch.yaml',
      [
        'name: Not_Valid', // 1
        'source:', // 2
        '  type: jsonl', // 3
        '  path: data.jsonl', // 4
        '  id_feild: key', // 5
        'prompt:', // 6
        '  name: page', // 7
        'model:', // 8
        '  name: m', // 9
        'execution:', // 10
        '  max_retries: -1', // 11
        '  poll_interval: soon', // 12
        'api:', // 13
        '  base_url: not a url', // 14
      ].join('\n'),
    );
    const error = await failure(path);
    expect(error.issues.map((issue) => [issue.line, issue.key])).toEqual([
      [1, 'name'],
      [5, 'source.id_feild'],
      [6, 'prompt.version'],
      [11, 'execution.max_retries'],
      [12, 'execution.poll_interval'],
      [14, 'api.base_url'],
    ]);
    expect(error.message.split('\n')).toHaveLength(6);
    expect(error.message).toContain('prompt.version: required');
    expect(error.message).toContain('got "soon"');
  });

  it('refuses a poll_interval above 24h, naming the key, and still takes 24h itself', async () => {
    // 30d (2592000000 ms) does not fit a Node timer: before, it passed the check and the run spun.
    const path = writeMinimalWorkload(folder, 'execution:\n  poll_interval: 30d');
    const error = await failure(path);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues.map((issue) => [issue.line, issue.key])).toEqual([[11, 'execution.poll_interval']]);
    expect(error.message).toContain(
      'line 11: execution.poll_interval: expected a duration of at most 24h (a batch job expires 48 h after it is made), got "30d"',
    );
    const longest = writeMinimalWorkload(folder, 'execution:\n  poll_interval: 24h');
    expect((await loadConfig(longest, {})).execution.poll_interval).toBe(86_400_000);
  });

  it('refuses records_per_request outside 1 to 100, naming the line and key', async () => {
    for (const [value, expected] of [
      ['0', 'expected a whole number >= 1'],
      ['101', 'expected a whole number from 1 to 100'],
      ['2.5', 'expected a whole number >= 1'],
    ]) {
      const path = folder.write(
        'wavebatch.yaml',
        [
          'name: grouped',
          'source: { type: jsonl, path: data.jsonl }',
          'prompt: { name: page, version: v1 }',
          'model: { name: m }',
          'execution:',
          `  records_per_request: ${value}`,
        ].join('\n'),
      );
      const error = await failure(path);
      expect(error.issues.map((issue) => [issue.line, issue.key])).toEqual([
        [6, 'execution.records_per_request'],
      ]);
      expect(error.message).toContain(expected);
    }
  });

  it('names the line of a YAML syntax error', async () => {
    const path = folder.write(
      'wavebatch.yaml',
      'name: x\nsource:\n  type: jsonl\n  path: [unclosed\nprompt: {}\n',
    );
    const error = await failure(path);
    expect(error.code).toBe('CONFIG_SYNTAX');
    expect(error.message).toMatch(/wavebatch\.yaml line \d+: /);
    expect(error.line).toBeGreaterThanOrEqual(4);
  });

  it('treats a repeated key as a syntax error', async () => {
    const path = folder.write('wavebatch.yaml', 'name: x\nname: y\n');
    const error = await failure(path);
    expect(error.code).toBe('CONFIG_SYNTAX');
    expect(error.line).toBe(2);
  });

  it('refuses a YAML alias bomb', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let level = 1; level < 8; level++) {
      levels.push(
        `${String.fromCharCode(97 + level)}: &${String.fromCharCode(97 + level)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + level)}`)
          .join(', ')}]`,
      );
    }
    const error = await failure(folder.write('wavebatch.yaml', `${levels.join('\n')}\n`));
    expect(error.code).toBe('CONFIG_SYNTAX');
    expect(error.message).toMatch(/alias/i);
  });

  it('reports a missing config file', async () => {
    const error = await failure(folder.path('nowhere.yaml'));
    expect(error.code).toBe('CONFIG_NOT_FOUND');
    expect(error.message).toContain('nowhere.yaml');
  });

  it('reports an empty file as missing keys', async () => {
    const error = await failure(folder.write('wavebatch.yaml', ''));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues.map((issue) => issue.key)).toEqual(['name', 'prompt', 'model', 'source']);
    expect(error.issues[3]?.message).toBe(
      'required: where the records come from (type: directory, jsonl, json or csv)',
    );
  });

  it('reports missing referenced files with the key that names them', async () => {
    const path = folder.write('wavebatch.yaml', minimalYaml('  response_schema_file: schema.json'));
    const error = await failure(path);
    expect(error.code).toBe('CONFIG_FILE_MISSING');
    expect(error.issues.map((issue) => [issue.line, issue.key])).toEqual([
      [4, 'source.path'],
      [5, 'prompt.dir'],
      [10, 'model.response_schema_file'],
    ]);
    expect(error.message).toContain('file "schema.json" does not exist');
  });

  it('reports a missing allow list and a source path of the wrong kind', async () => {
    folder.write('prompts/page/v1.jinja', 'x');
    folder.write('dataset', 'a file, not a folder');
    const path = folder.write(
      'wavebatch.yaml',
      minimalYaml().replace(
        '  type: jsonl\n  path: data.jsonl',
        '  type: directory\n  path: dataset\n  allow_list: allow.txt',
      ),
    );
    const error = await failure(path);
    expect(error.issues.map((issue) => issue.key)).toEqual(['source.path', 'source.allow_list']);
    expect(error.message).toContain('folder "dataset" is not a folder');
  });

  it('names the schema file and the position of invalid JSON in it', async () => {
    folder.write('schema.json', '{\n  "type": "object",\n  "properties": { "a": }\n}\n');
    const path = writeMinimalWorkload(folder, '  response_schema_file: schema.json');
    const error = await failure(path);
    expect(error.code).toBe('CONFIG_SYNTAX');
    expect(error.file).toContain('schema.json');
    expect(error.line).toBe(3);
    expect(error.message).toContain('schema.json line 3: invalid JSON: unexpected "}" (column 24)');
  });

  it('rejects a response schema that is not a valid JSON Schema', async () => {
    folder.write('schema.json', JSON.stringify({ type: 'strin' }));
    const path = writeMinimalWorkload(folder, '  response_schema_file: schema.json');
    const error = await failure(path);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.key).toBe('model.response_schema_file');
    expect(error.message).toContain('not a valid JSON Schema');
  });

  it('rejects an inline response schema that is not a valid JSON Schema, and both kinds at once', async () => {
    const inline = writeMinimalWorkload(folder, '  response_schema: { type: object, required: yes }');
    expect((await failure(inline)).key).toBe('model.response_schema');
    folder.write('schema.json', '{}');
    const both = writeMinimalWorkload(
      folder,
      '  response_schema_file: schema.json\n  response_schema: { type: object }',
    );
    expect((await failure(both)).message).toContain('not both');
  });

  it('refuses an API key in the file, naming the key and the variable to use but never the value', async () => {
    const secret = 'AIzaSyTHIS-IS-A-SECRET-VALUE';
    const path = writeMinimalWorkload(
      folder,
      `api:\n  api_key: ${secret}\n  base_url: http://127.0.0.1:1\nnested:\n  apiKey: ${secret}`,
    );
    const error = await failure(path);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('api.api_key');
    expect(error.message).toContain('nested.apiKey');
    expect(error.message).toContain('GEMINI_API_KEY');
    expect(error.message).not.toContain(secret);
    expect(JSON.stringify(error.issues)).not.toContain(secret);
    expect(error.line).toBe(11);
  });

  it('never prints a value that is an API key, even under another key', async () => {
    const envKey = 'my-env-secret-1234';
    const googleLooking = `AIza${'x'.repeat(35)}`;
    const path = writeMinimalWorkload(
      folder,
      `api:\n  base_url: ${envKey}\nexecution:\n  max_retries: ${googleLooking}`,
    );
    const error = await loadConfig(path, { GEMINI_API_KEY: ` ${envKey} ` }).then(
      () => undefined,
      (thrown: unknown) => thrown as ConfigError,
    );
    expect(error?.message).toContain(
      'api.base_url: expected an http(s) URL, got a value that looks like an API key (not shown)',
    );
    expect(error?.message).toContain(
      'execution.max_retries: expected a whole number >= 0, got a value that looks like an API key',
    );
    expect(error?.message).not.toContain(envKey);
    expect(error?.message).not.toContain(googleLooking);
  });

  it('refuses functions in YAML and filters on unknown levels', async () => {
    folder.folder('dataset');
    const path = writeMinimalWorkload(folder, 'hooks:\n  source: x');
    expect((await failure(path)).message).toContain(
      'hooks: functions can only be given in a TypeScript or JavaScript config',
    );
    const filtered = folder.write(
      'filtered.yaml',
      minimalYaml().replace(
        '  type: jsonl\n  path: data.jsonl',
        '  type: directory\n  path: dataset\n  levels: [state]\n  filters:\n    year: [1901]',
      ),
    );
    const error = await failure(filtered);
    expect(error.key).toBe('source.filters.year');
    expect(error.line).toBe(7);
    expect(error.message).toContain('unknown level "year": levels are state');
  });

  it('names the allowed source types when the type is wrong', async () => {
    const path = folder.write('wavebatch.yaml', minimalYaml().replace('type: jsonl', 'type: parquet'));
    const error = await failure(path);
    expect(error.message).toContain(
      'wavebatch.yaml line 3: source.type: expected one of directory, jsonl, json, csv, function, got "parquet"',
    );
  });
});
