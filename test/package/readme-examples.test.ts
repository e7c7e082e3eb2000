import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { exec, installPackedTarball, REPO } from './installed-package.js';
import { readmeExamples, unmarkedShellBlocks, type ReadmeExample } from './readme-blocks.js';

// The README's commands as a new user types them: in a project that installed the packed tarball,
// each marked block run verbatim by bash (stopping at the first failing command), against the
// emulator (WAVEBATCH_BASE_URL, which the README says wins over the config's api.base_url).
describe('the README examples, run verbatim', () => {
  const examples = readmeExamples(readFileSync(join(REPO, 'README.md'), 'utf8'));
  let work: string;
  let project: string;
  let emulator: RunningEmulator;

  beforeAll(async () => {
    ({ work, project } = await installPackedTarball());
    emulator = await startEmulator({ timeScale: 3600, seed: 29 });
  }, 180_000);

  afterAll(async () => {
    await emulator?.close();
    rmSync(work, { recursive: true, force: true });
  });

  /**
   * Runs one marked block: commands with bash -e (npx must find the installed package, never the
   * registry), a module from its file with node (it imports the installed package).
   */
  function run(example: ReadmeExample) {
    const cwd = join(project, example.cwd);
    const env = { WAVEBATCH_BASE_URL: emulator.url, npm_config_offline: 'true' };
    if (example.language === 'sh') return exec('bash', ['-e', '-c', example.commands], cwd, env);
    writeFileSync(join(cwd, example.file ?? 'example.mjs'), example.commands);
    return exec(process.execPath, [example.file ?? 'example.mjs'], cwd, env);
  }

  it('runs every shell block of the README, or says why it cannot', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    expect(unmarkedShellBlocks(readme)).toEqual([]);
    for (const line of readme.split('\n').filter((text) => text.startsWith('<!-- readme-skip')))
      expect(line).toMatch(/^<!-- readme-skip: \S.{10,} -->$/);
  });

  it('marks the quick start and the commands run in its workload', () => {
    const commands = examples.filter((example) => example.language === 'sh');
    expect(commands.map((example) => example.cwd)).toEqual([
      '.',
      'my-workload',
      'my-workload',
      'my-workload',
      'my-workload',
      'my-workload',
      'my-workload',
    ]);
    for (const example of commands) expect(example.commands).toMatch(/^npx wavebatch /m);
    const modules = examples.filter((example) => example.language === 'js');
    expect(modules.map((example) => [example.cwd, example.file])).toEqual([['my-workload', 'library.mjs']]);
  });

  it('runs the quick start: init, run to the end on the emulator, status', async () => {
    const [quickStart] = examples;
    const result = await run(quickStart as ReadmeExample);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/records: (\d+) done, 0 dead-lettered, 0 pending \(\1 total\)/);
    const done = Number(/records: (\d+) done/.exec(result.stdout)?.[1]);
    expect(done).toBeGreaterThan(0);
    expect(emulator.ledger.entries()).toHaveLength(done);
    expect(existsSync(join(project, 'my-workload', 'out'))).toBe(true);
    // init's next steps are commands that work as printed here, and its config points editors at the
    // installed package's schema by a path relative to itself.
    expect(result.stdout).toMatch(/^ {2}npx wavebatch run /m);
    expect(result.stdout).not.toMatch(/^ {2}wavebatch /m);
    const modeline = readFileSync(join(project, 'my-workload', 'wavebatch.yaml'), 'utf8').split('\n')[0];
    expect(modeline).toBe(
      '# yaml-language-server: $schema=../node_modules/wavebatch/schema/wavebatch.schema.json',
    );
    expect(existsSync(join(project, 'node_modules/wavebatch/schema/wavebatch.schema.json'))).toBe(true);
  });

  it('runs the failure commands in the workload', async () => {
    const [, failures] = examples;
    const result = await run(failures as ReadmeExample);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('no failures recorded');
    expect(readFileSync(join(project, 'my-workload', 'dead.csv'), 'utf8')).toMatch(/^at,recordId,/);
  });

  it('runs the estimate commands: a table, a calibrated one, and JSON for scripts', async () => {
    const [, , estimate] = examples;
    expect(estimate?.commands).toContain('npx wavebatch estimate --calibrate 20');
    const result = await run(estimate as ReadmeExample);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^auto\s/m);
    const json = JSON.parse(readFileSync(join(project, 'my-workload', 'estimate.json'), 'utf8')) as {
      records: number;
      modes: { auto: { available: boolean } };
    };
    expect(json.records).toBe(5);
    expect(json.modes.auto.available).toBe(true);
  });

  it('runs the selection commands: only the forced chain is sent again', async () => {
    const [, , , selection] = examples;
    expect(selection?.commands).toContain("--only 'letters/harbour-survey' --force");
    const billedBefore = emulator.ledger.entries().length;
    const result = await run(selection as ReadmeExample);
    expect(result.code, result.stderr).toBe(0);
    // Everything was done already: only --force sends anything, the three pages of that chain.
    const sent = emulator.ledger.entries().slice(billedBefore);
    expect(sent.map((entry) => entry.key).sort()).toEqual([
      'letters/harbour-survey/page_001',
      'letters/harbour-survey/page_002',
      'letters/harbour-survey/page_003',
    ]);
    expect(result.stdout).toContain('selected records: 3 done');
  });

  it('runs the inference log commands on what the runs recorded', async () => {
    const [, , , , , log] = examples;
    const result = await run(log as ReadmeExample);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('letters/harbour-survey/page_003');
    const attempts = result.stdout
      .split('\n')
      // `log --json` prints one object per line; `show` and `report` print other text around it.
      .filter((line) => line.startsWith('{"'))
      .map((line) => JSON.parse(line) as { kind?: string; recordId?: string });
    expect(
      attempts.some(
        (event) => event.kind === 'attempt' && event.recordId === 'letters/harbour-survey/page_003',
      ),
    ).toBe(true);
  });

  it('runs the stale-output redo: nothing is stale, nothing is sent', async () => {
    const [, , , , redo] = examples;
    expect(redo?.commands).toContain('--redo stale');
    const billedBefore = emulator.ledger.entries().length;
    const result = await run(redo as ReadmeExample);
    expect(result.code, result.stderr).toBe(0);
    expect(emulator.ledger.entries()).toHaveLength(billedBefore);
  });

  it('runs the export commands: JSONL, CSV, per chain, clean files and assembled documents', async () => {
    const [, , , , , , exports] = examples;
    const result = await run(exports as ReadmeExample);
    expect(result.code, result.stderr).toBe(0);
    const folder = join(project, 'my-workload');
    expect(readFileSync(join(folder, 'outputs.jsonl'), 'utf8').trim().split('\n')).toHaveLength(5);
    expect(readFileSync(join(folder, 'outputs.csv'), 'utf8').split('\n')[0]).toMatch(/^id,/);
    expect(readFileSync(join(folder, 'books.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(existsSync(join(folder, 'clean', 'letters', 'harbour-survey', 'page_003.json'))).toBe(true);
    expect(readdirSync(join(folder, 'books'), { recursive: true }).length).toBeGreaterThan(0);
  });

  it('runs the library example: the finished workload from code, then its status and outputs', async () => {
    const library = examples.find((example) => example.language === 'js');
    const billedBefore = emulator.ledger.entries().length;
    const result = await run(library as ReadmeExample);
    expect(result.code, result.stderr).toBe(0);
    // Everything was done by the commands before: the run finds nothing to send.
    expect(result.stdout).toContain('finished: true, 5 of 5 done');
    expect(emulator.ledger.entries()).toHaveLength(billedBefore);
    expect(result.stdout).toContain('records: 5 done, 0 dead-lettered');
    const outputs = result.stdout.split('\n').filter((line) => line.startsWith('output '));
    expect(outputs).toHaveLength(5);
    expect(outputs).toContain('output letters/harbour-survey/page_003');
  });
});
