import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../fixtures/cli.js';

const BOM = '\uFEFF';

// Windows editors save UTF-8 with a byte-order mark. A schema.json saved so failed to load
// (CONFIG_SYNTAX: invalid JSON: unexpected "<the invisible mark>" at column 1), and a
// template saved so sent the mark at the head of every prompt.
describe('files the config names, saved with a UTF-8 byte-order mark', () => {
  let root: string;
  let emulator: RunningEmulator;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'wavebatch-bom-'));
    const init = await runCli(['init', root, '--source', 'jsonl', '--emulator', '--yes']);
    expect(init.code).toBe(0);
    for (const file of ['schema.json', 'prompts/review/v1.jinja', 'prompts/review/system.jinja']) {
      writeFileSync(join(root, file), BOM + readFileSync(join(root, file), 'utf8'));
    }
    emulator = await startEmulator({ timeScale: 3600, seed: 5 });
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('are read without it: config check passes and no prompt carries the mark', async () => {
    const check = await runCli(['config', 'check', '-c', join(root, 'wavebatch.yaml')]);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);

    const env = { GEMINI_API_KEY: 'bom-test-key' };
    const config = join(root, 'wavebatch.yaml');
    const run = await runCli(['run', '-c', config, '--base-url', emulator.url], { env });
    expect(run.code).toBe(0);
    const prompts = emulator.ledger.entries().map((entry) => entry.promptText);
    expect(prompts).toHaveLength(4);
    for (const prompt of prompts) {
      expect(prompt).not.toContain(BOM);
      expect(prompt.startsWith('You read documents carefully')).toBe(true);
    }
  });
});
