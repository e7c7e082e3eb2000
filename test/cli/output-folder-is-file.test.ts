import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeTempFolder, type TempFolder } from '../config/temp-folder.js';
import { runCli } from '../fixtures/cli.js';

// With one file per record, an output subfolder that is a file (out/letters, ids letters/…)
// dead-lettered its records with a bare `ENOTDIR: not a directory, stat '…/out/letters/harbour-survey'`,
// which did not say that out/letters is the file in the way.
describe('records whose output folder is a file', () => {
  let folder: TempFolder;
  let emulator: RunningEmulator;
  beforeEach(async () => {
    folder = makeTempFolder('wb-output-file-');
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000 });
  });
  afterEach(async () => {
    await emulator.close();
    folder.remove();
  });

  it('are dead-lettered naming the file and the output it blocks, in the warning and in `failures`; the others are done', async () => {
    // The folder itself a file (letters/…) and a file further up (letters/school-report/…).
    const ids = ['letters/harbour-survey', 'letters/school-report/page-1', 'notes'];
    const rows = ids.map((id) => JSON.stringify({ id, text: `page ${id}` }));
    folder.write('w/data/rows.jsonl', `${rows.join('\n')}\n`);
    folder.write('w/prompts/p/v1.jinja', 'Describe {{ record.text }}.');
    const config = folder.write(
      'w/wavebatch.yaml',
      [
        'name: blocked',
        'source: { type: jsonl, path: data/rows.jsonl }',
        'prompt: { name: p, version: v1 }',
        'model: { name: gemini-2.5-flash }',
        'outputs: out',
        'execution: { poll_interval: 20, max_retries: 0 }',
        `api: { base_url: ${emulator.url} }`,
      ].join('\n'),
    );
    const letters = folder.write('w/out/letters', 'a file of the user where the outputs need a folder\n');
    const env = { GEMINI_API_KEY: 'k' };

    const run = await runCli(['run', '-c', config], { env });
    expect(run.code, run.stderr).toBe(3);
    const expected = [
      `${letters} is a file, not a folder: the output ${letters}/harbour-survey.json cannot be written`,
      `${letters} is a file, not a folder: the output ${letters}/school-report/page-1.json cannot be written`,
    ];
    for (const text of expected) expect(run.stderr).toContain(text);
    expect(run.stderr).not.toContain("stat '");

    const failures = await runCli(['failures', '--dead', '-c', config], { env });
    expect(failures.code).toBe(0);
    for (const text of expected) expect(failures.stdout).toContain(text);

    // The file is left as it was, and the record it does not block is written.
    expect(readFileSync(letters, 'utf8')).toBe('a file of the user where the outputs need a folder\n');
    expect(JSON.parse(readFileSync(folder.path('w/out/notes.json'), 'utf8'))).toMatchObject({ id: 'notes' });
  });
});
