import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WavebatchError } from '../../src/errors.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { makeTempFolder, type TempFolder } from '../config/temp-folder.js';

// The state store's folder is made synchronously (makeFolderSync), by a walk of its own that threw a
// bare `ENOTDIR: not a directory, stat '…/notes/state'` when a file stood in the way, naming no file.
describe('a state store whose folder has a file in the way', () => {
  let folder: TempFolder;
  afterEach(() => folder.remove());

  it('fails with STORE_OPEN naming the file, and leaves the file as it was', () => {
    folder = makeTempFolder('wb-store-file-');
    const file = folder.write('notes', 'the user’s notes\n');
    const path = join(file, 'state', 'deeper', 'state.db');
    let thrown: unknown;
    try {
      new SqliteStore({ path });
    } catch (error) {
      thrown = error;
    }
    expect(WavebatchError.isInstance(thrown) && thrown.code).toBe('STORE_OPEN');
    expect((thrown as Error).message).toBe(
      `Cannot open the state store at ${path}: [PATH_NOT_FOLDER] ${file} is a file, not a folder, so ` +
        `${join(file, 'state', 'deeper')} cannot be made. Check that the data_dir is writable.`,
    );
    expect(readFileSync(file, 'utf8')).toBe('the user’s notes\n');
  });
});
