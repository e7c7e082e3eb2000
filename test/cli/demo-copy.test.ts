import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../fixtures/cli.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * `wavebatch demo` as an installed package runs it: the package sits in a project's node_modules,
 * so the demo copies its workload to ./wavebatch-demo of the current folder. The package is the
 * checkout's own files laid out there (bin/ runs src/ through tsx, its dependencies linked), which
 * is quicker than the `npm pack` of test/package/pack-install.test.ts and keeps the same paths.
 */
describe('wavebatch demo from an installed package, and an existing ./wavebatch-demo', () => {
  let root: string;
  let bin: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'wb-demo-copy-'));
    const pkg = join(root, 'node_modules', 'wavebatch');
    mkdirSync(join(pkg, 'examples'), { recursive: true });
    for (const part of ['bin', 'src', 'schema', 'package.json'])
      cpSync(join(REPO, part), join(pkg, part), { recursive: true });
    cpSync(join(REPO, 'examples', 'catalogs'), join(pkg, 'examples', 'catalogs'), {
      recursive: true,
      filter: (source) => !['out', '.wavebatch'].includes(basename(source)),
    });
    symlinkSync(join(REPO, 'node_modules'), join(pkg, 'node_modules'), 'dir');
    bin = join(pkg, 'bin', 'wavebatch.js');
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const demo = (cwd: string, args: string[] = []): Promise<CliResult> =>
    runCli(['demo', ...args], { cwd, bin });

  function project(name: string): string {
    const folder = join(root, name);
    mkdirSync(folder);
    return folder;
  }

  it('refuses a ./wavebatch-demo the user made, with or without --keep, and leaves it as it was', async () => {
    const cwd = project('user-folder');
    const folder = join(cwd, 'wavebatch-demo');
    mkdirSync(folder);
    writeFileSync(join(folder, 'important.txt'), 'notes\n');
    for (const args of [[], ['--keep']]) {
      const result = await demo(cwd, args);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(
        `error [INPUT_DEMO_FOLDER]: ${folder} exists and was not made by the demo`,
      );
      expect(result.stderr).toContain('nothing was deleted');
      expect(readdirSync(folder)).toEqual(['important.txt']);
      expect(readFileSync(join(folder, 'important.txt'), 'utf8')).toBe('notes\n');
    }
  });

  it('replaces its own earlier copy on a re-run, but not once the user has put a file in it', async () => {
    const cwd = project('rerun');
    const folder = join(cwd, 'wavebatch-demo');
    const first = await demo(cwd);
    expect(first.code, first.stderr).toBe(0);
    expect(existsSync(join(folder, '.wavebatch-demo'))).toBe(true);
    // The modeline of the copy's config leads an editor to the installed package's schema.
    const [modeline = ''] = readFileSync(join(folder, 'wavebatch.yaml'), 'utf8').split('\n');
    expect(modeline).toBe(
      '# yaml-language-server: $schema=../../node_modules/wavebatch/schema/wavebatch.schema.json',
    );
    const schema = resolve(folder, modeline.replace(/^.*\$schema=/, ''));
    expect(schema).toBe(join(root, 'node_modules', 'wavebatch', 'schema', 'wavebatch.schema.json'));
    expect(JSON.parse(readFileSync(schema, 'utf8'))).toHaveProperty('properties.name');
    // A leftover the re-run must clear: the copy is replaced, not reused.
    writeFileSync(join(folder, 'out', 'stale.json'), '{}');

    const again = await demo(cwd);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('records: 15 done, 0 dead-lettered, 0 pending (15 total)');
    expect(existsSync(join(folder, 'out', 'MA', 'harvard', '1901', 'page_002.json'))).toBe(true);
    expect(existsSync(join(folder, 'out', 'stale.json'))).toBe(false);

    writeFileSync(join(folder, 'my-notes.txt'), 'mine\n');
    const refused = await demo(cwd);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(
      `error [INPUT_DEMO_FOLDER]: ${folder} exists and holds files the demo did not make (my-notes.txt); nothing was deleted.`,
    );
    expect(readFileSync(join(folder, 'my-notes.txt'), 'utf8')).toBe('mine\n');
    expect(existsSync(join(folder, 'out', 'MA', 'harvard', '1901', 'page_002.json'))).toBe(true);
  }, 90_000);
});
