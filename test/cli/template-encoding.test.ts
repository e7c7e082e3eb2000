import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../fixtures/cli.js';

// A template saved in Latin-1 (`Café` as the byte 0xE9) was read as UTF-8: the é became U+FFFD,
// sent in every prompt and billed, with no word said. Source files were refused for the same bytes.
describe('a prompt template that is not UTF-8', () => {
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
});
