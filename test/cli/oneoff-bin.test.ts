import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { pollUntilDone, tempDir } from '../emulator/harness.js';
import { runCli, type CliResult } from '../fixtures/cli.js';
import { request, SECRET_KEY } from './oneoff-fixture.js';

// The one-off commands as a user runs them: the real `wavebatch` bin in child processes, against
// the emulator over HTTP, configured only through the environment.
describe('wavebatch submit -> jobs -> status -> fetch (child processes)', () => {
  let emulator: RunningEmulator;
  let dir: { path: string; remove(): void };
  let env: Record<string, string>;
  const results: CliResult[] = [];
  const cli = async (args: string[]): Promise<CliResult> => {
    const result = await runCli(args, { cwd: dir.path, env });
    results.push(result);
    return result;
  };

  beforeAll(async () => {
    emulator = await startEmulator({
      timeScale: 3600,
      turnaroundMs: 60_000,
      faults: { byKey: { broken: ['request_error'] } },
    });
    dir = tempDir('oneoff-bin');
    env = { GEMINI_API_KEY: SECRET_KEY, WAVEBATCH_BASE_URL: emulator.url };
  });

  afterAll(async () => {
    await emulator.close();
    dir.remove();
  });

  it('submits a JSONL file, lists, shows and fetches the job; results land in --out/<job id>.jsonl', async () => {
    const lines = ['first', 'second', 'broken'].map((key) =>
      JSON.stringify({ key, request: request(`Describe ${key}.`) }),
    );
    await writeFile(join(dir.path, 'requests.jsonl'), `${lines.join('\n')}\n`);

    const submitted = await cli(['submit', 'requests.jsonl', '--model', 'gemini-2.5-flash']);
    expect(submitted).toMatchObject({ code: 0, stderr: '' });
    const name = submitted.stdout.trim();
    expect(name).toMatch(/^batches\/[a-z0-9]+$/);
    await pollUntilDone(emulator, name);

    // Read-only commands run side by side to keep the test short (each child starts tsx).
    const [listed, status, fetched] = await Promise.all([
      cli(['jobs', '--state', 'succeeded']),
      cli(['status', name]),
      cli(['fetch', name, '--out', 'results']),
    ]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`^${name} {2}succeeded {2}\\S+ {2}wavebatch-submit-requests\\n$`),
    );
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${name}  SUCCEEDED`);
    expect(status.stdout).toContain('requests      3 total, 2 succeeded, 1 failed, 0 pending');

    const id = name.slice('batches/'.length);
    const path = join(dir.path, 'results', `${id}.jsonl`);
    expect(fetched).toMatchObject({
      code: 0,
      stderr: '',
      stdout: `${name}: 3 inline results (1 failed) -> ${path}\n`,
    });
    expect(await readdir(join(dir.path, 'results'))).toEqual([`${id}.jsonl`]);
    const written = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; response?: unknown; error?: { code: number } });
    expect(written.map((line) => line.key).sort()).toEqual(['broken', 'first', 'second']);
    // As Google writes a failed row: google.rpc.Status with the gRPC code (13 = INTERNAL).
    expect(written.find((line) => line.key === 'broken')).toMatchObject({ error: { code: 13 } });
    expect(written.filter((line) => line.response !== undefined)).toHaveLength(2);

    for (const result of results) expect(`${result.stdout}${result.stderr}`).not.toContain(SECRET_KEY);
  });
});
