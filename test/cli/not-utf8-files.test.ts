import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../fixtures/cli.js';

// A template saved in Latin-1 (`Café` as the byte 0xE9) was read as UTF-8: the é became U+FFFD,
// sent in every prompt and billed, with no word said. Source files were refused for the same bytes.
describe('a prompt template, config or schema file that is not UTF-8', () => {
  let root: string;
  let emulator: RunningEmulator;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'wavebatch-template-encoding-'));
    const init = await runCli(['init', root, '--source', 'jsonl', '--emulator', '--yes']);
    expect(init.code).toBe(0);
    const latin1 = Buffer.from(
      'Product: {{ record.product }}\nCaf\u00e9 review: {{ record.text }}\n',
      'latin1',
    );
    writeFileSync(join(root, 'prompts/review/v1.jinja'), latin1);
    emulator = await startEmulator({ timeScale: 3600, seed: 5 });
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('is refused naming the file, its line and byte, and a run sends nothing', async () => {
    const config = join(root, 'wavebatch.yaml');
    const template = join(root, 'prompts/review/v1.jinja');
    const expected = `error [PROMPT_ENCODING]: Prompt template ${template} line 2: byte 33 of the file is not valid UTF-8; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)\n`;
    const check = await runCli(['config', 'check', '-c', config]);
    expect(check.code).toBe(2);
    expect(check.stderr).toBe(expected);

    const env = { GEMINI_API_KEY: 'template-encoding-key' };
    const run = await runCli(['run', '-c', config, '--base-url', emulator.url, '--log-format', 'text'], {
      env,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(expected);
    expect(emulator.ledger.entries()).toEqual([]);
  });

  // The same bytes in the config or the schema file were read as U+FFFD too: a comment passed,
  // a path holding one named a file that is not there, a schema description reached the model so.
  it('in the config or the response schema file is refused naming its line, before anything is sent', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'wavebatch-config-encoding-'));
    try {
      cpSync(root, copy, { recursive: true });
      writeFileSync(join(copy, 'prompts/review/v1.jinja'), 'Review: {{ record.text }}\n');
      const config = join(copy, 'wavebatch.yaml');
      const yaml = readFileSync(config);
      writeFileSync(config, Buffer.concat([yaml, Buffer.from('# caf\u00e9\n', 'latin1')]));
      const env = { GEMINI_API_KEY: 'config-encoding-key' };
      const args = ['-c', config, '--base-url', emulator.url, '--log-format', 'text'];
      const run = await runCli(['run', ...args], { env });
      expect(run.code).toBe(2);
      const line = yaml.toString('utf8').split('\n').length;
      expect(run.stderr).toBe(
        `error [CONFIG_SYNTAX]: ${config} line ${line}: byte ${yaml.length + 5} of the file is not valid UTF-8; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)\n`,
      );

      writeFileSync(config, yaml);
      const schema =
        '{\n  "description": "r\u00e9sum\u00e9",' + readFileSync(join(copy, 'schema.json'), 'utf8').slice(1);
      writeFileSync(join(copy, 'schema.json'), Buffer.from(schema, 'latin1'));
      const check = await runCli(['run', ...args], { env });
      expect(check.code).toBe(2);
      expect(check.stderr).toBe(
        `error [CONFIG_SYNTAX]: ${join(copy, 'schema.json')} line 2: byte 21 of the file is not valid UTF-8; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8) (column 20)\n`,
      );
      expect(emulator.ledger.entries()).toEqual([]);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
