import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { runCli } from '../fixtures/cli.js';

// A CSV without the column the template prints (`record.text`): the prompt rendered a blank where
// the review belongs, every record was sent, billed and marked done, and `config check` said the
// config was valid. It now names the field, the first record and where it is, and what to fix.
describe('wavebatch config check on a source without a field the prompt reads', () => {
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'wavebatch-unread-'));
    const init = await runCli(['init', root, '--source', 'jsonl', '--emulator', '--yes']);
    expect(init.code).toBe(0);
    writeFileSync(join(root, 'data.csv'), 'id,product\nr001,kettle\nr002,toaster\n');
    const config = readFileSync(join(root, 'wavebatch.yaml'), 'utf8');
    writeFileSync(
      join(root, 'csv.yaml'),
      config.replace(/type: jsonl/, 'type: csv').replace('path: data.jsonl', 'path: data.csv'),
    );
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('warns, naming the field, the record, its line and the fields it has (exit 0: it is valid)', async () => {
    const result = await runCli(['config', 'check', '-c', join(root, 'csv.yaml')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `warning: prompt review/v1 reads record.text, which the source's first record (r001, ${join(root, 'data.csv')} line 2) does not have: it renders as empty text. Its fields are product;`,
    );
    const json = await runCli(['config', 'check', '-c', join(root, 'csv.yaml'), '--json']);
    const document = JSON.parse(json.stdout) as { warnings: string[] };
    expect(document.warnings).toEqual([expect.stringContaining('reads record.text')]);
  });

  it('a dry run warns the same on standard error', async () => {
    const dry = await runCli(['run', '--dry-run', '-c', join(root, 'csv.yaml')]);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain('warning: prompt review/v1 reads record.text');
    expect(dry.stdout).toContain('dry run: nothing was sent');
  });

  it('a run warns the same before it sends anything', async () => {
    const emulator = await startEmulator({ timeScale: 3600, seed: 5 });
    try {
      const run = await runCli([
        'run',
        '-c',
        join(root, 'csv.yaml'),
        '--base-url',
        emulator.url,
        '--log-format',
        'text',
      ]);
      expect(run.code).toBe(0);
      const warning = run.stderr.indexOf('warning: prompt review/v1 reads record.text');
      expect(warning).toBeGreaterThanOrEqual(0);
      expect(warning).toBeLessThan(run.stderr.indexOf('submitted'));
    } finally {
      await emulator.close();
    }
  });

  it("does not run a source function's generator for the check: it is the user's code", async () => {
    const marker = join(root, 'generator-ran');
    writeFileSync(
      join(root, 'wavebatch.mjs'),
      `import { appendFileSync } from 'node:fs';
export default {
  name: 'code', data_dir: 'state-code', outputs: 'out-code',
  source: { type: 'function', records: async function* () { appendFileSync(${JSON.stringify(marker)}, 'x'); yield { id: 'r1', product: 'kettle' }; } },
  prompt: { dir: 'prompts', name: 'review', version: 'v1' },
  model: { name: 'gemini-2.5-flash', response_schema_file: 'schema.json' },
};
`,
    );
    const result = await runCli(['config', 'check', '-c', join(root, 'wavebatch.mjs')]);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(result.stdout).not.toContain('warning:');
  });

  it('says nothing of the kind when the source has every field (the starter as written)', async () => {
    const result = await runCli(['config', 'check', '-c', join(root, 'wavebatch.yaml')]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('warning:');
  });

  // A top-level name the prompt is never given (`nothere`, a misspelt `recrod`) rendered empty for
  // every record, and `config check` said nothing: it warned only of `record.*` fields.
  it('warns of a name the prompt is never given, naming the template file and line', async () => {
    const template = join(root, 'prompts/review/v2.jinja');
    writeFileSync(
      template,
      'Review: {{ record.text }}\n{% for w in words %}{{ w }}{% endfor %}{{ nothere.x }}\n',
    );
    const config = readFileSync(join(root, 'wavebatch.yaml'), 'utf8').replace(/version: v1/, 'version: v2');
    writeFileSync(join(root, 'v2.yaml'), config);
    const check = await runCli(['config', 'check', '-c', join(root, 'v2.yaml')]);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(
      `warning: prompt review/v2 reads \`words\` (${template} line 2), which it is never given: it renders as empty text.`,
    );
    expect(check.stdout).toContain(`reads \`nothere\` (${template} line 2)`);
    expect(check.stdout).not.toMatch(/reads `(w|record)`/);
    const dry = await runCli(['run', '--dry-run', '-c', join(root, 'v2.yaml')]);
    expect(dry.stderr).toContain(`warning: prompt review/v2 reads \`nothere\` (${template} line 2)`);
  });
});
