import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { exec, installPackedTarball, REPO } from './installed-package.js';
import { readmeExamples } from './readme-blocks.js';

describe('the packed npm tarball, installed into a fresh project', () => {
  let work: string;
  let project: string;
  let files: string[];
  let emulator: RunningEmulator;

  beforeAll(async () => {
    ({ work, project, files } = await installPackedTarball());
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 3 });
  }, 180_000);

  afterAll(async () => {
    await emulator?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('ships the built library with types, the bin, README, LICENSE and the demo workload, and no tests', () => {
    for (const path of [
      'package.json',
      'README.md',
      'LICENSE',
      'bin/wavebatch.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'dist/cli/commands/demo.js',
      'examples/catalogs/wavebatch.yaml',
      'examples/catalogs/prompts/catalog_page/v1.jinja',
    ])
      expect(files).toContain(path);
    const unwanted = files.filter((path) =>
      /^(src|test|bench|\.ci)\/|\.map$|\.test\.|(^|\/)(out|\.wavebatch)\//.test(path),
    );
    expect(unwanted).toEqual([]);
    const license = readFileSync(join(project, 'node_modules/wavebatch/LICENSE'), 'utf8');
    expect(license).toContain('Apache License');
    expect(license).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });

  // The README ships in the package and named src/ files the package does not have, with nothing to
  // say where they are: it says they are the repository's, and that each is dist/<path>.js here.
  it('ships a README whose src/ files are all in dist/ under the name it gives, and says so', () => {
    const readme = readFileSync(join(project, 'node_modules/wavebatch/README.md'), 'utf8');
    expect(readme).toContain('`src/<path>.ts` is `dist/<path>.js`');
    const named = [
      ...new Set([...readme.matchAll(/`(src\/[\w./-]+?)\/?`/g)].map((match) => match[1] as string)),
    ];
    expect(named.length).toBeGreaterThan(10);
    const missing = named.filter((path) =>
      path.endsWith('.ts')
        ? path !== 'src/<path>.ts' && !files.includes(`dist/${path.slice(4, -3)}.js`)
        : !files.some((file) => file.startsWith(`dist/${path.slice(4)}/`)),
    );
    expect(missing).toEqual([]);
    for (const path of ['dist/pricing/gemini-price-list.js', 'dist/pricing/gemini-price-list.d.ts'])
      expect(files).toContain(path);
  });

  it("imports as 'wavebatch' from JavaScript, and its type declarations check a TypeScript user (the README's library example too, under exactOptionalPropertyTypes)", async () => {
    const script = join(project, 'exports.mjs');
    writeFileSync(
      script,
      "const w = await import('wavebatch');\n" +
        "console.log(['defineWorkload', 'loadConfig', 'runWorkload', 'startEmulator', 'WavebatchError'].map((n) => `${n}:${typeof w[n]}`).join(' '));\n",
    );
    const imported = await exec(process.execPath, [script], project);
    expect(imported.stderr).toBe('');
    expect(imported.stdout.trim()).toBe(
      'defineWorkload:function loadConfig:function runWorkload:function startEmulator:function WavebatchError:function',
    );

    writeFileSync(
      join(project, 'typed.ts'),
      `import { defineWorkload, runWorkload, submitJob, VERSION, ConfigError, GeminiApiError, MissingApiKeyError, type BatchJobInfo, type ConfigErrorCode, type GeminiClient, type GeminiClientOptions, type GeminiErrorCode, type RunSummary, type SourceRecord, type WorkloadStatus, type StoredRecord, type LaneFigures, type WorkloadEstimate, type RunnerEventListener, type FaultPlan } from 'wavebatch';
const config = defineWorkload({ name: 'typed', source: { type: 'jsonl', path: 'rows.jsonl' }, prompt: { name: 'p', version: 'v1' }, model: { name: 'gemini-2.5-flash' } });
export const fromFunction = defineWorkload({ name: 'typed-fn', source: { type: 'function', records: async function* () { yield { id: 'solo-1', vars: { text: 'a' } }; } }, prompt: { name: 'p', version: 'v1' }, model: { name: 'gemini-2.5-flash' } });
export const summary: Promise<RunSummary> = runWorkload('wavebatch.yaml');
export const name: string = config.name;
export const record: SourceRecord = { id: 'solo-2', chainId: 'book' };
export type Named = [WorkloadStatus, StoredRecord, LaneFigures, WorkloadEstimate, RunnerEventListener, FaultPlan];
export const missingKey = (error: unknown): boolean => error instanceof MissingApiKeyError;
export const inCode: Promise<RunSummary> = runWorkload(fromFunction, { signal: AbortSignal.timeout(1000) });
export const outcome = async (): Promise<'finished' | 'interrupted' | 'incomplete'> => (await inCode).outcome;
export const submitted = (client: GeminiClient): Promise<BatchJobInfo> => submitJob(client, { model: 'gemini-2.5-flash', requests: [{ contents: [{ parts: [{ text: 'Hi' }] }] }], transport: 'inline' });
export const configProblem = (error: unknown): ConfigErrorCode | undefined => (error instanceof ConfigError ? error.code : undefined);
export const apiProblem = (error: unknown): GeminiErrorCode | undefined => (GeminiApiError.isInstance(error) ? error.code : undefined);
export const clientOptions: GeminiClientOptions = { apiKey: 'k', baseUrl: 'http://127.0.0.1:1' };
export const version: string = VERSION;
`,
    );
    // The README's library example, as TypeScript: it spreads a loaded config with an optional
    // property set to `string | undefined`, which the strictest users' exactOptionalPropertyTypes checks.
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const library = readmeExamples(readme).find((example) => example.file === 'library.mjs')?.commands;
    expect(library).toContain("from 'wavebatch'");
    writeFileSync(join(project, 'library.ts'), `${library ?? ''}export {};\n`);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(REPO, 'node_modules/@types')],
        },
        files: ['typed.ts', 'library.ts'],
      }),
    );
    const typed = await exec(
      process.execPath,
      [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', project],
      project,
    );
    expect(typed.stdout + typed.stderr).toBe('');
    expect(typed.code).toBe(0);
  });

  // The package is an ES module; Node 24 require()s one (it has no top-level await), but only
  // when the exports map has a condition a CommonJS caller matches: with `import` alone,
  // require('wavebatch') was ERR_PACKAGE_PATH_NOT_EXPORTED.
  it("require('wavebatch') works from a CommonJS program, giving the same exports", async () => {
    const script = join(project, 'exports.cjs');
    writeFileSync(
      script,
      "const w = require('wavebatch');\n" +
        "console.log(['defineWorkload', 'loadConfig', 'runWorkload', 'WorkloadService', 'WavebatchError'].map((n) => `${n}:${typeof w[n]}`).join(' '));\n",
    );
    const required = await exec(process.execPath, [script], project);
    expect(required.stderr).toBe('');
    expect(required.code).toBe(0);
    expect(required.stdout.trim()).toBe(
      'defineWorkload:function loadConfig:function runWorkload:function WorkloadService:function WavebatchError:function',
    );
  });

  // Tools read a package's version with require('<name>/package.json'): without that subpath in the
  // exports map it was ERR_PACKAGE_PATH_NOT_EXPORTED, and the library exported no VERSION instead.
  it("gives package.json's version to require('wavebatch/package.json'), to its JSON import, to VERSION (ESM and CommonJS) and to --version", async () => {
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    writeFileSync(
      join(project, 'version.cjs'),
      "const { VERSION } = require('wavebatch');\n" +
        "console.log(JSON.stringify([require('wavebatch/package.json').version, VERSION]));\n",
    );
    writeFileSync(
      join(project, 'version.mjs'),
      "import { VERSION } from 'wavebatch';\n" +
        "import manifest from 'wavebatch/package.json' with { type: 'json' };\n" +
        'console.log(JSON.stringify([manifest.version, VERSION]));\n',
    );
    for (const script of ['version.cjs', 'version.mjs']) {
      const ran = await exec(process.execPath, [script], project);
      expect(ran.stderr, script).toBe('');
      expect(JSON.parse(ran.stdout), script).toEqual([version, version]);
    }
    const printed = await exec(join(project, 'node_modules/.bin/wavebatch'), ['--version'], project);
    expect(printed.code).toBe(0);
    expect(printed.stdout.trim()).toBe(version);
  });

  // A library must not print, exit or take the process's signals: the program below (the library
  // section's, from the installed package) prints one line itself and nothing else may appear.
  it('runs a workload defined in the program, stops it by its signal, resumes it and submits a one-off job, printing nothing itself', async () => {
    mkdirSync(join(project, 'library-prompts/note'), { recursive: true });
    writeFileSync(
      join(project, 'library-prompts/note/v1.jinja'),
      'Summarise note {{ record.n }}. {{ context }}\n',
    );
    writeFileSync(
      join(project, 'in-code.mjs'),
      `import { createGeminiClient, defineWorkload, runWorkload, startEmulator, submitJob, WorkloadService } from 'wavebatch';
const signals = () => ['SIGINT', 'SIGTERM', 'exit', 'uncaughtException', 'unhandledRejection'].map((name) => process.listenerCount(name));
const before = signals();
const emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 4 });
async function* notes() {
  for (const n of [1, 2, 3]) yield { id: \`book/n\${n}\`, chainId: 'book', position: n, vars: { n }, media: [] };
}
const workload = defineWorkload({
  name: 'in-code',
  source: { type: 'function', records: notes },
  prompt: { name: 'note', version: 'v1', dir: 'library-prompts' },
  model: { name: 'gemini-2.5-flash' },
  data_dir: 'in-code-state',
  outputs: 'in-code-out',
  execution: { poll_interval: 20 },
  api: { base_url: emulator.url },
});
const stop = new AbortController();
const first = await runWorkload(workload, { signal: stop.signal, onEvent: (event) => { if (event.type === 'record-done') stop.abort(); } });
const second = await runWorkload(workload);
const service = await WorkloadService.load(workload);
const status = await service.status();
await service.close();
const client = createGeminiClient({ apiKey: 'in-code-key', baseUrl: emulator.url });
const job = await submitJob(client, { model: 'gemini-2.5-flash', requests: [{ key: 'one', request: { contents: [{ parts: [{ text: 'Hi' }] }] } }] });
const billed = emulator.ledger.entries().map((entry) => entry.key).sort();
await emulator.close();
console.log(JSON.stringify({ first: [first.outcome, first.counts.done], second: [second.outcome, second.counts.done], done: status.records.done, job: job.name.startsWith('batches/'), billed, signals: [before, signals()] }));
`,
    );
    const ran = await exec(process.execPath, ['in-code.mjs'], project);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual({
      first: ['interrupted', 1],
      second: ['finished', 3],
      done: 3,
      job: true,
      // The one-off job is billed when it ends, not yet: each record of the workload once.
      billed: ['book/n1', 'book/n2', 'book/n3'],
      signals: [
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
      ],
    });
    expect(existsSync(join(project, 'in-code-out/book/n3.json'))).toBe(true);
  });

  it('runs `wavebatch --help` from the installed compiled code, without the sources', async () => {
    expect(existsSync(join(project, 'node_modules/wavebatch/src'))).toBe(false);
    const help = await exec(join(project, 'node_modules/.bin/wavebatch'), ['--help'], project);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: wavebatch');
    expect(help.stdout).toContain('run-once');
  });

  it('runs the demo from the installed package in a copy in ./wavebatch-demo, not inside node_modules', async () => {
    const demo = await exec(join(project, 'node_modules/.bin/wavebatch'), ['demo'], project, {
      WAVEBATCH_LOG_FORMAT: 'text',
    });
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toContain('records: 15 done, 0 dead-lettered, 0 pending (15 total)');
    expect(existsSync(join(project, 'wavebatch-demo/out/MA/harvard/1901/page_002.json'))).toBe(true);
    expect(existsSync(join(project, 'node_modules/wavebatch/examples/catalogs/out'))).toBe(false);
  });

  it('runs a TypeScript config (defineWorkload) on the emulator from the installed package', async () => {
    mkdirSync(join(project, 'prompts/note'), { recursive: true });
    writeFileSync(join(project, 'prompts/note/v1.jinja'), 'Summarise note {{ record.n }}. {{ context }}\n');
    writeFileSync(
      join(project, 'wavebatch.ts'),
      `import { defineWorkload, type WorkloadRecord } from 'wavebatch';

async function* notes(): AsyncIterable<WorkloadRecord> {
  for (const n of [1, 2, 3]) yield { id: \`notes/n\${n}\`, chainId: 'notes', position: n, vars: { n }, media: [] };
}

export default defineWorkload({
  name: 'installed',
  source: { type: 'function', records: notes },
  prompt: { name: 'note', version: 'v1' },
  model: {
    name: 'gemini-2.5-flash',
    response_schema: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] },
  },
  execution: { poll_interval: 20 },
  api: { base_url: '${emulator.url}' },
});
`,
    );
    const run = await exec(
      join(project, 'node_modules/.bin/wavebatch'),
      ['run', '-c', 'wavebatch.ts'],
      project,
      {
        GEMINI_API_KEY: 'installed-test-key',
      },
    );
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('records: 3 done');
    for (const n of [1, 2, 3]) {
      const output = JSON.parse(readFileSync(join(project, 'out', 'notes', `n${n}.json`), 'utf8')) as unknown;
      expect(output).toBeTypeOf('object');
    }
    const billed = emulator.ledger.entries().map((entry) => entry.key);
    expect(billed.sort()).toEqual(['notes/n1', 'notes/n2', 'notes/n3']);
  });
});
