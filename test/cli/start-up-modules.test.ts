import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, collectOutput, runCli } from '../fixtures/cli.js';

// Format- and feature-specific libraries load where they are used: each start of the CLI (`--help`,
// `status`, a refused flag) paid some 270 modules of Parquet writer, CSV parser and encoder, Ajv and
// the Gemini SDK
// for work it never did. Node's module loader is the observer: a hook lists every module it loads.
const HEAVY = [
  'hyparquet-writer',
  'csv-parse',
  'csv-stringify',
  'ajv',
  '@google/genai',
  'google-auth-library',
];

let folder: string;
let hook: string;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'wb-start-up-'));
  hook = join(folder, 'list-modules.mjs');
  writeFileSync(
    hook,
    `import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
process.on('exit', () => writeFileSync(process.env.LOADED_LIST, loaded.join('\\n')));
`,
  );
  const workload = join(folder, 'workload');
  expect((await runCli(['init', workload, '--source', 'jsonl', '--emulator'])).code).toBe(0);
  // Without a response schema nothing is validated, so nothing needs Ajv.
  const config = join(workload, 'wavebatch.yaml');
  writeFileSync(config, readFileSync(config, 'utf8').replace(/^\s*response_schema_file:.*$/m, ''));
});

afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** The packages whose modules the CLI loaded for `args`, run in `cwd`. */
async function packagesLoaded(
  args: string[],
  cwd: string,
): Promise<{ code: number | null; packages: Set<string> }> {
  const list = join(folder, 'loaded.txt');
  const child = spawn(process.execPath, ['--import', pathToFileURL(hook).href, BIN, ...args], {
    cwd,
    env: cliEnv({ LOADED_LIST: list }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { code } = await collectOutput(child);
  const packages = new Set(
    readFileSync(list, 'utf8')
      .split('\n')
      .map((url) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1])
      .filter((name) => name !== undefined),
  );
  return { code, packages };
}

describe('the CLI at start', () => {
  it.each([
    ['--help', ['--help'], '.', 0],
    ['run refusing a bad flag', ['run', '--bogus'], '.', 2],
    ['status of a workload', ['status'], 'workload', 0],
    ['export without a workload', ['export'], '.', 2],
  ])('%s loads no Parquet writer, CSV library, Ajv or Gemini SDK', async (_name, args, where, exitCode) => {
    const { code, packages } = await packagesLoaded(args, join(folder, where));
    expect(code).toBe(exitCode);
    // The hook saw the CLI's own libraries, so an empty list cannot pass for a lean start.
    expect(packages).toContain('commander');
    expect(HEAVY.filter((name) => packages.has(name))).toEqual([]);
  });
});
