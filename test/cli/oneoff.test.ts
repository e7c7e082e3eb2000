import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cancelCommand } from '../../src/cli/commands/cancel.js';
import { fetchCommand } from '../../src/cli/commands/fetch.js';
import { jobsCommand } from '../../src/cli/commands/jobs.js';
import type { OneoffDeps } from '../../src/cli/commands/oneoff-options.js';
import { statusCommand } from '../../src/cli/commands/status.js';
import { submitCommand } from '../../src/cli/commands/submit.js';
import { reportError } from '../../src/cli/report-error.js';
import { startFakeGoogle, type FakeGoogle } from '../gemini/fake-google.js';

const KEY = 'AIzaFAKE-oneoff-cli-key-77ab';

let google: FakeGoogle;
let dir: string;
let printed: string;
let deps: OneoffDeps;

beforeEach(async () => {
  google = await startFakeGoogle();
  dir = await mkdtemp(join(tmpdir(), 'wb-oneoff-'));
  printed = '';
  deps = { env: { GEMINI_API_KEY: KEY, WAVEBATCH_BASE_URL: google.url }, print: (text) => void (printed += text) };
});
afterEach(async () => {
  await google.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(factory: (d: OneoffDeps) => Command, args: string[]): Promise<string> {
  printed = '';
  const command = factory(deps)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  await command.parseAsync(args, { from: 'user' });
  return printed;
}

const request = (text: string) => ({ contents: [{ role: 'user', parts: [{ text }] }] });

describe('one-off job commands', () => {
  it('submits a small JSONL inline, lists it, shows status, fetches inline results as JSONL', async () => {
    const input = join(dir, 'prompts.jsonl');
    await writeFile(input, `${JSON.stringify({ key: 'k1', request: request('a') })}\n\n${JSON.stringify(request('b'))}\n`);
    const name = (await run(submitCommand, [input, '--model', 'gemini-2.5-flash'])).trim();
    expect(name).toMatch(/^batches\//);
    const sent = JSON.parse(google.requests.at(-1)?.body ?? '{}') as { batch: { displayName: string; inputConfig: { requests: { requests: Array<{ metadata: { key: string } }> } } } };
    expect(sent.batch.displayName).toBe('wavebatch-submit-prompts');
    expect(sent.batch.inputConfig.requests.requests.map((r) => r.metadata.key)).toEqual(['k1', 'request-2']);

    expect(await run(jobsCommand, ['--state', 'pending'])).toContain(name);
    expect(await run(jobsCommand, ['--state', 'succeeded'])).toBe('no succeeded jobs\n');
    expect(await run(fetchCommand, [name, '--out', dir])).toContain('still pending');

    google.succeed(name);
    const status = await run(statusCommand, [name]);
    expect(status).toContain('SUCCEEDED');
    expect(status).toContain('2 inline responses');
    const json = JSON.parse(await run(statusCommand, [name.replace('batches/', ''), '--json'])) as { state: string; inlinedResponseCount: number };
    expect(json).toMatchObject({ state: 'succeeded', inlinedResponseCount: 2 });

    const out = join(dir, 'results');
    expect(await run(fetchCommand, [name, '-o', out])).toContain('2 inline results');
    const lines = (await readFile(join(out, `${name.slice('batches/'.length)}.jsonl`), 'utf8')).trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { key: string }).key).sort()).toEqual(['k1', 'request-2']);
    expect(JSON.parse(lines[0] ?? '{}')).toHaveProperty('response.candidates');
  });

  it('uploads with --upload, and --all-pending fetches only new succeeded jobs', async () => {
    const input = join(dir, 'prompts.json');
    await writeFile(input, JSON.stringify({ requests: [request('a'), { key: 'x', request: request('b') }] }));
    const first = (await run(submitCommand, [input, '-m', 'm', '--upload', '--display-name', 'up'])).trim();
    const second = (await run(submitCommand, [input, '-m', 'm', '--upload'])).trim();
    const uploaded = [...google.files.values()][0]?.content ?? '';
    expect(uploaded.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { key: 'request-1', request: request('a') },
      { key: 'x', request: request('b') },
    ]);
    google.succeed(first);
    const out = join(dir, 'out');
    const report = await run(fetchCommand, ['--all-pending', '--out', out]);
    expect(report).toContain('1 jobs still pending or running');
    expect(report).toContain(`${first}: results ->`);
    expect(await readdir(out)).toEqual([`${first.slice('batches/'.length)}.jsonl`]);
    expect(await run(fetchCommand, ['--all-pending', '--out', out])).toContain('nothing new to fetch');

    expect(await run(cancelCommand, [second])).toContain(`cancel requested: ${second}`);
    expect(await run(jobsCommand, ['--json'])).toContain('"cancelled"');
  });

  it('rejects bad input with exit code 2 and sends nothing', async () => {
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, `${JSON.stringify(request('a'))}\n{"contents": [}\n`);
    const error = await run(submitCommand, [bad, '-m', 'm']).catch((e: unknown) => e);
    expect((error as Error).message).toContain('bad.jsonl:2');
    const stderr: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((text: string) => stderr.push(text) > 0) as typeof process.stderr.write;
    try {
      expect(reportError(error)).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    await expect(run(submitCommand, [join(dir, 'missing.json'), '-m', 'm'])).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await writeFile(join(dir, 'empty.json'), '[{"key": "a"}]');
    await expect(run(submitCommand, [join(dir, 'empty.json'), '-m', 'm'])).rejects.toThrow(/non-empty "contents"/);
    await writeFile(join(dir, 'dup.jsonl'), `${JSON.stringify({ key: 'a', request: request('x') })}\n`.repeat(2));
    await expect(run(submitCommand, [join(dir, 'dup.jsonl'), '-m', 'm'])).rejects.toThrow(/used twice/);
    await expect(run(statusCommand, ['batches/../x'])).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(run(fetchCommand, ['--out', dir])).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(run(jobsCommand, ['--state', 'done'])).rejects.toBeInstanceOf(CommanderError);
    expect(google.requests).toEqual([]);
  });

  it('needs a key unless a base URL is given, and never prints the key', async () => {
    deps = { env: {}, print: deps.print };
    await expect(run(jobsCommand, [])).rejects.toMatchObject({ code: 'API_KEY_MISSING' });
    deps = { env: { GEMINI_API_KEY: KEY }, print: deps.print };
    const error = await run(statusCommand, ['batches/nope', '--base-url', google.url]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NOT_FOUND' });
    expect(String(error)).not.toContain(KEY);
    expect(google.requests[0]?.headers['x-goog-api-key']).toBe(KEY);
  });
});
