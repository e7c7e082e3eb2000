import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  /** Temp folder holding the checkout copy, the tarball and the project; remove it after. */
  work: string;
  /** An empty npm project (type: module) that installed the tarball. */
  project: string;
  /** The tarball's file list, as `npm pack` reported it. */
  files: string[];
}

/**
 * The package as a user gets it: `npm pack` (which builds dist/ in prepack) from a copy of the
 * checkout, so the dist/ of the tree other tests run from is never rebuilt under them, then
 * `npm install <tarball>` into an empty project.
 */
export async function installPackedTarball(): Promise<InstalledPackage> {
  const work = mkdtempSync(join(tmpdir(), 'wb-pack-'));
  const checkout = join(work, 'checkout');
  cpSync(REPO, checkout, { recursive: true, filter: (source) => !NOT_IN_A_CLONE.has(basename(source)) });
  // The build in prepack needs the dev dependencies (tsc); the checkout's are reused, not reinstalled.
  symlinkSync(join(REPO, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  const packed = await exec('npm', ['pack', '--json', '--pack-destination', work], checkout);
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
  const [report] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];

  const project = join(work, 'project');
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
  if (installed.code !== 0) throw new Error(`npm install of the tarball failed:\n${installed.stderr}`);
  return { work, project, files: report.files.map((file) => file.path) };
}
