import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeTempFolder, type TempFolder } from '../config/temp-folder.js';
import { runCli } from '../fixtures/cli.js';

// With one file per record, id `a` is the file out/a.json and id `a.json/b` needs out/a.json as a
// folder: both cannot exist. The sync must say so before anything is sent, not the write after it.
describe('ids whose output files clash as file and folder', () => {
  let folder: TempFolder;
  let emulator: RunningEmulator;
  beforeEach(async () => {
    folder = makeTempFolder('wb-path-clash-');
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000 });
  });
  afterEach(async () => {
    await emulator.close();
    folder.remove();
  });

  function workload(ids: string[], outputs: string): string {
    const rows = ids.map((id) => JSON.stringify({ id, text: `page ${id}` }));
    folder.write('w/data/rows.jsonl', `${rows.join('\n')}\n`);
    folder.write('w/prompts/p/v1.jinja', 'Describe {{ record.id }}.');
    return folder.write(
      'w/wavebatch.yaml',
      [
        'name: clash',
        'source: { type: jsonl, path: data/rows.jsonl }',
        'prompt: { name: p, version: v1 }',
        'model: { name: gemini-2.5-flash }',
        `outputs: ${outputs}`,
        'execution: { poll_interval: 20, max_retries: 0 }',
        `api: { base_url: ${emulator.url} }`,
      ].join('\n'),
    );
  }

  it('stops the sync naming both ids (RECORD_ID_CLASH, exit 2) and sends nothing', async () => {
    const config = workload(['x/a', 'other', 'x/a.json/b', 'x/a.json/c.json/d', 'x/a.json/c'], 'out');
    const result = await runCli(['run', '-c', config], { env: { GEMINI_API_KEY: 'k' } });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('error [RECORD_ID_CLASH]');
    expect(result.stderr).toContain('"x/a" and "x/a.json/b"');
    expect(emulator.ledger.entries()).toHaveLength(0);
    expect(existsSync(folder.path('w/out/x'))).toBe(false);
  });

  it('lets JSONL shards hold both ids', async () => {
    const config = workload(['a', 'a.json/b'], '{ sink: jsonl, path: out }');
    const result = await runCli(['run', '-c', config], { env: { GEMINI_API_KEY: 'k' } });
    expect(result.code, result.stderr).toBe(0);
    expect(emulator.ledger.entries()).toHaveLength(2);
  });
});
