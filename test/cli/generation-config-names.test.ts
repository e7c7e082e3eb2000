import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../fixtures/cli.js';

// `temprature: 0` in model.generation_config passed config check, and the batch lane's SDK
// converter dropped the unknown name without a word: every record was sent, billed and marked done
// at the default temperature. A string where Gemini wants a number (`top_p: high`) was sent too.
describe('model.generation_config with a misspelt setting or a value of the wrong kind', () => {
  let root: string;
  let emulator: RunningEmulator;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'wavebatch-generation-config-'));
    const init = await runCli(['init', root, '--source', 'jsonl', '--emulator', '--yes']);
    expect(init.code).toBe(0);
    const config = join(root, 'wavebatch.yaml');
    const text = readFileSync(config, 'utf8');
    const edited = text.replace(
      '    temperature: 0\n',
      '    temprature: 0\n    top_p: high\n    thinking_config: { thinking_budgett: 5 }\n',
    );
    expect(edited).not.toBe(text);
    writeFileSync(config, edited);
    emulator = await startEmulator({ timeScale: 3600, seed: 5 });
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('is refused with each key and its line, and a run sends nothing', async () => {
    const config = join(root, 'wavebatch.yaml');
    const check = await runCli(['config', 'check', '-c', config]);
    expect(check.code).toBe(2);
    const lines = check.stderr.trim().split('\n');
    expect(lines[0]).toMatch(
      /^error \[CONFIG_INVALID\]: .*wavebatch\.yaml line 20: model\.generation_config\.temprature: unknown key: Gemini has no such generation setting \(allowed here: .*\btemperature\b/,
    );
    expect(lines[1]).toMatch(
      /wavebatch\.yaml line 21: model\.generation_config\.top_p: expected a number, got "high"$/,
    );
    expect(lines[2]).toMatch(
      /wavebatch\.yaml line 22: model\.generation_config\.thinking_config\.thinking_budgett: unknown key: .*\(allowed here: include_thoughts, thinking_budget, thinking_level\)$/,
    );

    const env = { GEMINI_API_KEY: 'generation-config-key' };
    const run = await runCli(['run', '-c', config, '--base-url', emulator.url], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('model.generation_config.temprature: unknown key');
    expect(emulator.ledger.entries()).toEqual([]);
  });
});
