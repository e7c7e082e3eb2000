import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkFolderMakeable } from '../src/make-folder.js';

// A run checks its output folders at start with this: it must say what a later mkdir would, and
// leave nothing behind (a dry run creates no folder).
describe('checkFolderMakeable', () => {
  const root = mkdtempSync(join(tmpdir(), 'wb-makeable-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('passes for a folder that exists or can be made, and makes nothing', async () => {
    await checkFolderMakeable(root);
    await checkFolderMakeable(join(root, 'out', 'deeper'));
    expect(readdirSync(root)).toEqual([]);
  });

  it('fails as the mkdir would: ENOENT under /proc, ENOTDIR under a file, naming the top level to make', async () => {
    await expect(checkFolderMakeable('/proc/x/out')).rejects.toMatchObject({
      code: 'ENOENT',
      message: "ENOENT: no such file or directory, mkdir '/proc/x'",
    });
    writeFileSync(join(root, 'file'), 'not a folder');
    await expect(checkFolderMakeable(join(root, 'file', 'out'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(readdirSync(root)).toEqual(['file']);
  });
});
