import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { collectOutput } from '../fixtures/cli.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Folders of a working checkout that a fresh clone does not have. */
const NOT_IN_A_CLONE = new Set(['node_modules', '.git', 'dist', '.wavebatch', 'out', '.cache', 'coverage']);

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program with Node 24 (this test's node) first on PATH, as a user's shell would. */
export function exec(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Result> {
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
  return collectOutput(child);
}

export interface InstalledPackage {
  /** Temp folder holding the project; remove it after. */
  work: string;
  /** An empty npm project (type: module) that installed the tarball. */
  project: string;
  /** The tarball's file list, as `npm pack` reported it. */
  files: string[];
}

/** The packed tarball and its file list, as `npm pack` reported them. */
interface Packed {
  tarball: string;
  files: string[];
}

/** How long a test file waits for another one's `npm pack` (the build in it takes 30 s on a busy machine). */
const PACK_WAIT_MS = 150_000;

/**
 * `npm pack` (which builds dist/ in prepack with tsc) from a copy of the checkout, so the dist/ of
 * the tree other tests run from is never rebuilt under them. Made once per test run, in the compiled
 * package's folder (test/compiled-cli.ts removes it after the run): the first test file to ask packs,
 * holding the folder it made, and any other waits for its report. Each file packed its own before,
 * the same tarball twice, some 30 s of CPU.
 */
async function packedOnce(): Promise<Packed> {
  const shared = join(inject('compiledRoot'), 'packed');
  const report = join(shared, 'report.json');
  const failure = join(shared, 'failed.txt');
  try {
    mkdirSync(shared);
  } catch {
    // Another test file is packing (or has packed): wait for its report.
    for (const until = Date.now() + PACK_WAIT_MS; Date.now() < until; await sleep(250)) {
      if (existsSync(report)) return JSON.parse(readFileSync(report, 'utf8')) as Packed;
      if (existsSync(failure)) throw new Error(readFileSync(failure, 'utf8'));
    }
    throw new Error(`no npm pack report in ${shared} after ${PACK_WAIT_MS} ms`);
  }
  try {
    const checkout = join(shared, 'checkout');
    cpSync(REPO, checkout, { recursive: true, filter: (source) => !NOT_IN_A_CLONE.has(basename(source)) });
    // The build in prepack needs the dev dependencies (tsc); the checkout's are reused, not reinstalled.
    symlinkSync(join(REPO, 'node_modules'), join(checkout, 'node_modules'), 'dir');
    const packed = await exec('npm', ['pack', '--json', '--pack-destination', shared], checkout);
    if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
    const [made] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    const result: Packed = {
      tarball: join(shared, basename(made.filename)),
      files: made.files.map((file) => file.path),
    };
    // Written whole, then renamed: a waiting file never reads half a report.
    writeFileSync(`${report}.part`, JSON.stringify(result));
    renameSync(`${report}.part`, report);
    return result;
  } catch (error) {
    writeFileSync(failure, error instanceof Error ? error.message : String(error));
    throw error;
  }
}

/**
 * The package as a user gets it: the checkout's packed tarball (packedOnce), then
 * `npm install <tarball>` into an empty project of the caller's own.
 */
export async function installPackedTarball(): Promise<InstalledPackage> {
  const { tarball, files } = await packedOnce();
  const work = mkdtempSync(join(tmpdir(), 'wb-pack-'));
  const project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'user-project', private: true, type: 'module' }),
  );
  const installed = await exec(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball],
    project,
  );
  if (installed.code !== 0) throw new Error(`npm install of the tarball failed:\n${installed.stderr}`);
  return { work, project, files };
}
