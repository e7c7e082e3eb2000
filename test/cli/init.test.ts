import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { WorkloadStatus } from '../../src/service/index.js';
import { runCli, startCli } from '../fixtures/cli.js';

interface PageOutput {
  output: { summary: string; topics: string[]; carry_over: string };
}

// `wavebatch init` as a new user meets it: a starter that runs on the emulator as it is.
describe('wavebatch init', () => {
  let emulator: RunningEmulator;
  let root: string;
  const env = { GEMINI_API_KEY: 'init-test-key-not-secret' };

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 9 });
    root = mkdtempSync(join(tmpdir(), 'wb-init-'));
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('writes a directory workload from flags that runs to the end on the emulator, chains in order', async () => {
    const folder = join(root, 'letters');
    const init = await runCli(['init', folder, '--yes', '--base-url', emulator.url], { env });
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('created ');
    expect(init.stdout).toMatch(/^ {2}npx wavebatch run /m);
    const yaml = readFileSync(join(folder, 'wavebatch.yaml'), 'utf8');
    expect(yaml.split('\n')[0]).toMatch(
      /^# yaml-language-server: \$schema=.*schema\/wavebatch\.schema\.json$/,
    );
    expect(parse(yaml)).toMatchObject({ name: 'letters', api: { base_url: emulator.url } });

    const check = await runCli(['config', 'check', '-q', '-c', join(folder, 'wavebatch.yaml')], { env });
    expect(check).toMatchObject({ code: 0, stderr: '' });

    emulator.ledger.clear();
    const run = await runCli(['run', '-c', join(folder, 'wavebatch.yaml')], { env });
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('records: 5 done, 0 dead-lettered, 0 pending (5 total)');
    const ledger = emulator.ledger.entries();
    expect(ledger.map((entry) => entry.key).sort()).toEqual([
      'letters/harbour-survey/page_001',
      'letters/harbour-survey/page_002',
      'letters/harbour-survey/page_003',
      'letters/school-report/page_001',
      'letters/school-report/page_002',
    ]);
    // Page 2's prompt held page 1's carry_over: the starter's chains work.
    const first = JSON.parse(
      readFileSync(join(folder, 'out/letters/harbour-survey/page_001.json'), 'utf8'),
    ) as PageOutput;
    const second = ledger.find((entry) => entry.key === 'letters/harbour-survey/page_002');
    expect(second?.promptText).toContain(first.output.carry_over);
    expect(second?.promptText).toContain('Summarise page 2 of the document "harbour-survey"');

    const status = await runCli(['status', '--json', '-c', join(folder, 'wavebatch.yaml')], { env });
    expect((JSON.parse(status.stdout) as WorkloadStatus).chains).toMatchObject({ total: 2, done: 2 });
  });

  it('writes a JSONL workload that runs too', async () => {
    const folder = join(root, 'reviews');
    const init = await runCli(['init', folder, '--yes', '--source', 'jsonl', '--base-url', emulator.url], {
      env,
    });
    expect(init.code).toBe(0);
    emulator.ledger.clear();
    const run = await runCli(['run', '-c', join(folder, 'wavebatch.yaml')], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('records: 4 done');
    expect(readdirSync(join(folder, 'out')).sort()).toEqual([
      'r001.json',
      'r002.json',
      'r003.json',
      'r004.json',
    ]);
    expect(emulator.ledger.entries().find((entry) => entry.key === 'r002')?.promptText).toContain(
      'Customer service never answered',
    );
  });

  it('asks on a terminal (answers piped with --interactive), re-asking after a bad answer', async () => {
    const folder = join(root, 'asked');
    const answers = ['Not A Name', 'asked-flow', 'csv', 'jsonl', '', emulator.url, ''].join('\n');
    const asked = await startCli(['init', folder, '--interactive'], { env, input: answers }).result;
    expect(asked.code).toBe(0);
    expect(asked.stderr).toContain('Workload name [asked]');
    expect(asked.stderr).toContain('use lower-case letters, digits and dashes');
    expect(asked.stderr).toContain('answer one of: directory, jsonl');
    const config = parse(readFileSync(join(folder, 'wavebatch.yaml'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      name: 'asked-flow',
      source: { type: 'jsonl' },
      model: { name: 'gemini-2.5-flash' },
      api: { base_url: emulator.url },
    });
  });

  it('stops (exit 2, nothing written) when the piped answers end after a refused one, instead of taking the default', async () => {
    for (const [answers, question] of [
      ['Not A Name', 'Workload name'],
      ['piped-flow\njsonl\n\nlocalhost:8080', 'API root for a local emulator'],
    ] as const) {
      const folder = join(root, 'cut-short');
      const asked = await startCli(['init', folder, '--interactive'], { env, input: answers }).result;
      expect(asked.code, asked.stderr).toBe(2);
      expect(asked.stderr).toContain(`error [INPUT_INIT_ANSWER]: ${question}`);
      expect(asked.stderr).toContain('the input ended before another answer; nothing was written');
      expect(() => readdirSync(folder)).toThrow();
    }
  });

  it('refuses to overwrite a workload, changing nothing, unless --force', async () => {
    const folder = join(root, 'letters');
    const config = join(folder, 'wavebatch.yaml');
    writeFileSync(config, `${readFileSync(config, 'utf8')}# my edit\n`);
    const again = await runCli(['init', folder, '--yes'], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('wavebatch.yaml');
    expect(again.stderr).toContain('--force');
    expect(readFileSync(config, 'utf8')).toContain('# my edit');
    const forced = await runCli(['init', folder, '--yes', '--force', '--json'], { env });
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({
      config,
      written: expect.arrayContaining(['wavebatch.yaml']),
    });
    expect(readFileSync(config, 'utf8')).not.toContain('# my edit');
  });

  it('prints next steps that work when followed, the emulator hint included', async () => {
    const init = await runCli(['init', 'newdir3'], { cwd: root, env });
    expect(init.code, init.stderr).toBe(0);
    const next = init.stdout.slice(init.stdout.indexOf('next:\n')).split('\n');
    expect(next).toContain('  cd newdir3');
    const hint = next.find((line) => line.includes('GEMINI_API_KEY')) ?? '';
    const command = /# or, for a local emulator: npx wavebatch (.+)$/.exec(hint)?.[1] ?? '';
    expect(command).toBe('init --emulator --force');
    const folder = join(root, 'newdir3');
    const followed = await runCli(command.split(' '), { cwd: folder, env });
    expect(followed.stderr).toBe('');
    expect(followed.code).toBe(0);
    const config = parse(readFileSync(join(folder, 'wavebatch.yaml'), 'utf8')) as {
      name: string;
      api?: { base_url?: string };
    };
    expect(config).toMatchObject({ name: 'newdir3', api: { base_url: 'http://127.0.0.1:8080' } });
  });

  it('refuses a bad --name and a bad --base-url with exit code 2', async () => {
    const name = await runCli(['init', join(root, 'x'), '--yes', '--name', 'Bad Name'], { env });
    expect(name.code).toBe(2);
    expect(name.stderr).toContain('--name');
    const url = await runCli(['init', join(root, 'y'), '--yes', '--base-url', 'localhost:8080'], { env });
    expect(url.code).toBe(2);
  });
});
