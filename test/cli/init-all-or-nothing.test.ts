import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';

/** Every file and folder under `folder`, relative to it, sorted. */
function tree(folder: string, under = folder): string[] {
  return readdirSync(under)
    .flatMap((name) => {
      const path = join(under, name);
      return [relative(folder, path), ...(statSync(path).isDirectory() ? tree(folder, path) : [])];
    })
    .sort();
}

// init wrote its files one by one: one it could not write (here under `dataset`, a file the user
// has where the starter's folder goes; a read-only subfolder is the same) left the config, prompts
// and schema behind, which the next init refused as existing files. And it exited 1, where an
// export's unwritable -o exits 2.
describe('wavebatch init that cannot write every file', () => {
  const root = mkdtempSync(join(tmpdir(), 'wb-init-partial-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes nothing, leaves the folder as it was and exits 2 naming the path', async () => {
    const folder = join(root, 'existing');
    mkdirSync(folder);
    writeFileSync(join(folder, 'dataset'), 'a file of the user where init puts a folder\n');
    writeFileSync(join(folder, 'notes.txt'), 'mine\n');
    const before = tree(folder);

    const result = await runCli(['init', folder, '-y', '--source', 'directory']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error [INPUT_PATH_UNWRITABLE]: Cannot write to ${folder}`);
    expect(tree(folder)).toEqual(before);
  });

  it('removes the folders it made for the files it could not finish', async () => {
    const folder = join(root, 'with-dataset');
    mkdirSync(join(folder, 'dataset'), { recursive: true });
    // prompts/page/ is made before dataset/letters/harbour-survey/, which cannot be: letters is a file.
    writeFileSync(join(folder, 'dataset', 'letters'), '');
    const result = await runCli(['init', folder, '-y']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error [INPUT_PATH_UNWRITABLE]');
    expect(tree(folder)).toEqual(['dataset', join('dataset', 'letters')]);
  });
});
