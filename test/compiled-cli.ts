// Vitest global set-up: compiles src/ once per test run into a package laid out as npm installs it
// (bin/, dist/, package.json, schema/, examples/), and gives its bin to the CLI tests. The child
// processes of the crash tests (test/fixtures/*-child.ts) are compiled beside it, importing the
// same compiled modules through a src/ link to dist/.
//
// Why: the tests spawn the real `wavebatch` bin hundreds of times. In a source checkout the bin runs
// src/ through tsx, whose loader costs about 0.6 s of CPU more per start than plain JavaScript; that
// alone was several minutes of CI. esbuild is the transpiler tsx itself uses, so the code that runs is
// the same; the shipped tsc build is still tested by test/package/pack-install.test.ts.
import { build } from 'esbuild';
import { cpSync, globSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The compiled package's `bin/wavebatch.js`. */
    compiledBin: string;
    /** The compiled package's folder: `test/fixtures/<name>-child.js` are the compiled children. */
    compiledRoot: string;
  }
}

const ROOT = resolve(import.meta.dirname, '..');
/** The scripts the tests start as child processes, with `node <script>`. */
const CHILDREN = ['run-child', 'lease-child', 'open-store-child'];

export default async function setup(project: TestProject): Promise<() => void> {
  const packageRoot = mkdtempSync(join(tmpdir(), 'wavebatch-compiled-'));
  const sources = globSync('src/**/*.ts', { cwd: ROOT }).filter((file) => !file.endsWith('.test.ts'));
  await build({
    entryPoints: sources.map((file) => join(ROOT, file)),
    outdir: join(packageRoot, 'dist'),
    outbase: join(ROOT, 'src'),
    format: 'esm',
    platform: 'node',
    target: 'node24',
    logLevel: 'error',
  });
  await build({
    entryPoints: CHILDREN.map((name) => join(ROOT, 'test', 'fixtures', `${name}.ts`)),
    outdir: join(packageRoot, 'test', 'fixtures'),
    format: 'esm',
    platform: 'node',
    target: 'node24',
    logLevel: 'error',
  });
  // The children import '../../src/….js'. No src/cli/main.ts is there, so the bin still runs dist/.
  symlinkSync(join(packageRoot, 'dist'), join(packageRoot, 'src'));
  cpSync(join(ROOT, 'bin'), join(packageRoot, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(packageRoot, 'package.json'));
  // Read-only parts of the package and the dependencies are linked, not copied.
  for (const part of ['schema', 'examples', 'node_modules'])
    symlinkSync(join(ROOT, part), join(packageRoot, part));
  project.provide('compiledBin', join(packageRoot, 'bin', 'wavebatch.js'));
  project.provide('compiledRoot', packageRoot);
  return () => rmSync(packageRoot, { recursive: true, force: true });
}
