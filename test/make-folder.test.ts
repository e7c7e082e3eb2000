import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkFolderMakeable, makeFolder } from '../src/make-folder.js';

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

  it('fails as the mkdir would: ENOENT under /proc, naming the top level to make; PATH_NOT_FOLDER under a file', async () => {
    await expect(checkFolderMakeable('/proc/x/out')).rejects.toMatchObject({
      code: 'ENOENT',
      message: "ENOENT: no such file or directory, mkdir '/proc/x'",
    });
    writeFileSync(join(root, 'file'), 'not a folder');
    await expect(checkFolderMakeable(join(root, 'file', 'out'))).rejects.toMatchObject({
      code: 'PATH_NOT_FOLDER',
    });
    expect(readdirSync(root)).toEqual(['file']);
  });

  // Below a file, a stat fails ENOTDIR too: that error (`stat 'file/out'`) was thrown as it was, and
  // never said which part of the path is the file.
  it('names the file in the way, however far below it the folder is, as makeFolder does', async () => {
    const file = join(root, 'file');
    writeFileSync(file, 'not a folder');
    for (const make of [checkFolderMakeable, makeFolder])
      await expect(make(join(file, 'out', 'deeper'))).rejects.toMatchObject({
        code: 'PATH_NOT_FOLDER',
        path: file,
        message: `${file} is a file, not a folder, so ${join(file, 'out', 'deeper')} cannot be made`,
      });
    await expect(makeFolder(file)).rejects.toMatchObject({
      code: 'PATH_NOT_FOLDER',
      message: `${file} is a file, not a folder`,
    });
  });
});
