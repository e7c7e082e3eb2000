import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Folders of a working checkout that a fresh clone does not have. */
const NOT_IN_A_CLONE = new Set(['node_modules', '.git', 'dist', '.wavebatch', 'out', '.cache', 'coverage']);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program with Node 24 (this test's node) first on PATH, as a user's shell would. */
function exec(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: {
        ...process.env,
        PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
        NO_COLOR: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// The package as a user gets it: `npm pack` (which builds dist/ in prepack) from a copy of the
// checkout, so the test never rebuilds the dist/ of the tree other tests run from, then
// `npm install <tarball>` into an empty project, then the installed library and CLI.
describe('the packed npm tarball, installed into a fresh project', () => {
  let work: string;
  let project: string;
  let files: string[];
  let emulator: RunningEmulator;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'wb-pack-'));
    const checkout = join(work, 'checkout');
    cpSync(REPO, checkout, {
      recursive: true,
      filter: (source) => !NOT_IN_A_CLONE.has(basename(source)),
    });
    // The build in prepack needs the dev dependencies (tsc); the checkout's are reused, not reinstalled.
    symlinkSync(join(REPO, 'node_modules'), join(checkout, 'node_modules'), 'dir');
    const packed = await exec('npm', ['pack', '--json', '--pack-destination', work], checkout);
    expect(packed.code, packed.stderr).toBe(0);
    const [report] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    files = report.files.map((file) => file.path);

    project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'user-project', private: true, type: 'module' }),
    );
    const installed = await exec(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, basename(report.filename))],
      project,
    );
    expect(installed.code, installed.stderr).toBe(0);
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

  it("imports as 'wavebatch' from JavaScript, and its type declarations check a TypeScript user", async () => {
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
      `import { defineWorkload, runWorkload, type RunSummary } from 'wavebatch';
const config = defineWorkload({ name: 'typed', source: { type: 'jsonl', path: 'rows.jsonl' }, prompt: { name: 'p', version: 'v1' }, model: { name: 'gemini-2.5-flash' } });
export const summary: Promise<RunSummary> = runWorkload('wavebatch.yaml');
export const name: string = config.name;
`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
        },
        files: ['typed.ts'],
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

  it('runs `wavebatch --help` from the installed compiled code, without the sources', async () => {
    expect(existsSync(join(project, 'node_modules/wavebatch/src'))).toBe(false);
    const help = await exec(join(project, 'node_modules/.bin/wavebatch'), ['--help'], project);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: wavebatch');
    expect(help.stdout).toContain('run-once');
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
