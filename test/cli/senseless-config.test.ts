import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { runCli } from '../fixtures/cli.js';

// Values the config accepted though they made no sense: a filter range with nothing in it (the
// source yielded no record, without a word), limits far past anything Google or a process allows
// (max_concurrent_jobs 101 ran as 100 silently), and outputs written among the prompt templates.
describe('config check on values that make no sense', () => {
  let root: string;
  let starter: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'wb-senseless-'));
    const init = await runCli(['init', join(root, 'w'), '-y']);
    expect(init.code).toBe(0);
    starter = readFileSync(join(root, 'w', 'wavebatch.yaml'), 'utf8');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** `config check` of the starter with `path` set to `value`. */
  async function checkWith(settings: Array<[string[], unknown]>) {
    const document = parseDocument(starter);
    for (const [path, value] of settings) document.setIn(path, value);
    writeFileSync(join(root, 'w', 'wavebatch.yaml'), document.toString());
    return runCli(['config', 'check', '-c', join(root, 'w', 'wavebatch.yaml')]);
  }

  it.each([
    [
      'a filter range whose min is above its max',
      [['source', 'filters'], { document: { min: 1905, max: 1901 } }],
      'source.filters.document: min 1905 is above max 1901',
    ],
    [
      'sync_concurrency 100000',
      [['execution', 'sync_concurrency'], 100_000],
      'execution.sync_concurrency: expected a whole number from 1 to 10000',
    ],
    [
      'give_up_after 400d',
      [['execution', 'give_up_after'], '400d'],
      'execution.give_up_after: expected a duration of at most 7d',
    ],
    [
      'max_concurrent_jobs 101',
      [['execution', 'max_concurrent_jobs'], 101],
      'execution.max_concurrent_jobs: expected a whole number from 1 to 100',
    ],
    ['outputs: prompts', [['outputs'], 'prompts'], 'outputs: "prompts" is inside the prompt folder'],
    [
      'data_dir inside the prompts',
      [['data_dir'], 'prompts/state'],
      'data_dir: "prompts/state" is inside the prompt folder',
    ],
  ] as Array<[string, [string[], unknown], string]>)(
    'refuses %s with CONFIG_INVALID, naming the key',
    async (_what, setting, message) => {
      const result = await checkWith([setting]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('error [CONFIG_INVALID]');
      expect(result.stderr).toContain(message);
    },
  );

  it('takes the largest values that make sense, and a higher job cap the project declares', async () => {
    const result = await checkWith([
      [['source', 'filters'], { document: { min: 3, max: 3 } }],
      [['execution', 'sync_concurrency'], 10_000],
      [['execution', 'give_up_after'], '7d'],
      [['execution', 'max_concurrent_jobs'], 150],
      [['limits', 'batch_concurrent_jobs'], 200],
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const capped = await checkWith([
      [['execution', 'max_concurrent_jobs'], 201],
      [['limits', 'batch_concurrent_jobs'], 200],
    ]);
    expect(capped.code).toBe(2);
    expect(capped.stderr).toContain(
      'execution.max_concurrent_jobs: expected a whole number from 1 to 200 (limits.batch_concurrent_jobs), got 201',
    );
  });
});
