import { randomUUID } from 'node:crypto';
import { constants, mkdirSync, statSync } from 'node:fs';
import { access, mkdir, rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { WavebatchError } from './errors.js';
import { nearestExisting, nearestExistingSync, type NearestExisting } from './nearest-existing.js';

/**
 * Creates `folder` and its missing parents, as `mkdir(folder, { recursive: true })` does, and
 * returns the top-most folder it created (undefined when it existed). Each level is made on its own:
 * Node's recursive mkdir loops forever on a path the kernel refuses with ENOENT though its parent
 * exists (`/proc/x` spun at 100% CPU); here that mkdir's own error is thrown, naming the path.
 * A part of the path that is a file is a NotAFolderError (PATH_NOT_FOLDER) naming it.
 */
export async function makeFolder(folder: string): Promise<string | undefined> {
  const { missing } = await nearestFolder(folder);
  for (const level of missing) {
    // Another writer may make the same level at the same time.
    await mkdir(level).catch(async (error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !(await stat(level)).isDirectory())
        throw error;
    });
  }
  return missing[0];
}

/**
 * Throws what making `folder` (with makeFolder) or writing into it would throw, and makes nothing
 * that stays: a run checks its output folders at start, before a batch job is paid for, and a
 * dry run must leave no folder behind. The nearest existing folder up the path must be a folder
 * (a file in the path is a NotAFolderError, as makeFolder says) and writable and searchable (fs.access).
 * Where levels are missing, a probe folder is made in it and removed at once: root passes
 * fs.access everywhere, yet the kernel refuses a mkdir under /proc (ENOENT) all the same.
 */
export async function checkFolderMakeable(folder: string): Promise<void> {
  const { existing, missing: levels } = await nearestFolder(folder);
  const missing = levels[0];
  try {
    await access(existing, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw missing === undefined ? error : asMkdirError(error, missing);
  }
  if (missing === undefined) return;
  const probe = join(existing, `.wavebatch-probe-${randomUUID()}`);
  try {
    await mkdir(probe);
  } catch (error) {
    throw asMkdirError(error, missing);
  }
  await rmdir(probe);
}

/**
 * makeFolder for code that must stay synchronous (opening the state store in `data_dir`): the same
 * walk and the same NotAFolderError naming the file in the way, where it threw a bare ENOTDIR.
 */
export function makeFolderSync(folder: string): void {
  const { missing } = folderAt(folder, nearestExistingSync(folder));
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (error) {
      // Another writer may make the same level at the same time.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(level).isDirectory()) throw error;
    }
  }
}

/**
 * The nearest folder that exists at or above `folder`, and the levels missing below it, top-most
 * first; a NotAFolderError when the first thing that exists is a file.
 */
async function nearestFolder(folder: string): Promise<{ existing: string; missing: string[] }> {
  return folderAt(folder, await nearestExisting(folder));
}

function folderAt(folder: string, found: NearestExisting): { existing: string; missing: string[] } {
  if (!found.stats.isDirectory()) throw new NotAFolderError(folder, found.path);
  return { existing: found.path, missing: found.missing };
}

/**
 * A folder that cannot be made (or written into) because `path`, it or one of its parents, is a
 * file. It was a plain Error with mkdir's errno (ENOTDIR, EEXIST for the folder itself) as its code,
 * outside the one error base class; callers that quote it (the output store, the state store's
 * STORE_OPEN, a command's folder to write into) name the file from `path`.
 */
export class NotAFolderError extends WavebatchError {
  readonly code = 'PATH_NOT_FOLDER';
  constructor(
    readonly folder: string,
    readonly path: string,
  ) {
    super(
      path === resolve(folder)
        ? `${path} is a file, not a folder`
        : `${path} is a file, not a folder, so ${folder} cannot be made`,
    );
  }
}

/** A failed access or probe as the error of the mkdir of `level` that it stands for (same code and reason). */
function asMkdirError(error: unknown, level: string): Error {
  const { code, message } = error as NodeJS.ErrnoException;
  const reason = message.split(', ')[0] ?? message;
  return Object.assign(new Error(`${reason}, mkdir '${level}'`), { code, path: level });
}
