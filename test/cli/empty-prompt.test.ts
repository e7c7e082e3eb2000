import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../fixtures/cli.js';

// An empty template file (saved before it was written): every record was sent as an empty text
// part beside the system instruction, billed and marked done, exit 0, the outputs answers to nothing.
describe('a prompt that renders empty text for a record without media', () => {
  let root: string;
  let emulator: RunningEmulator;
  const env = { GEMINI_API_KEY: 'empty-prompt-key' };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'wavebatch-empty-prompt-'));
    const init = await runCli(['init', root, '--source', 'jsonl', '--emulator', '--yes']);
    expect(init.code).toBe(0);
    writeFileSync(join(root, 'prompts/review/v1.jinja'), '\n');
    emulator = await startEmulator({ timeScale: 3600, seed: 5 });
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('dead-letters the record naming the prompt and the record, and sends nothing', async () => {
    const config = join(root, 'wavebatch.yaml');
    const args = ['-c', config, '--base-url', emulator.url, '--log-format', 'text'];
    const run = await runCli(['run', ...args], { env });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      'dead letter r001 [input_error]: Prompt review/v1 renders empty text for r001, which has no media',
    );
    // Said once, by its dead letter: the start's token calibration said it first, as a warning of its own.
    expect(run.stderr.match(/renders empty text for r001/g)).toHaveLength(1);
    expect(run.stderr).not.toContain('Token calibration skipped');
    expect(emulator.ledger.entries()).toEqual([]);

    writeFileSync(join(root, 'prompts/review/v1.jinja'), 'Review: {{ record.text }}\n');
    expect((await runCli(['requeue', '-c', config], { env })).code).toBe(0);
    const again = await runCli(['run', ...args], { env });
    expect(again.code).toBe(0);
    const keys = emulator.ledger.entries().map((entry) => entry.key);
    expect(keys.sort()).toEqual(['r001', 'r002', 'r003', 'r004']);
  });
});
