import { randomUUID } from 'node:crypto';
import { constants, mkdirSync, statSync } from 'node:fs';
import { access, mkdir, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/**
 * Creates `folder` and its missing parents, as `mkdir(folder, { recursive: true })` does, and
 * returns the top-most folder it created (undefined when it existed). Each level is made on its own:
 * Node's recursive mkdir loops forever on a path the kernel refuses with ENOENT though its parent
 * exists (`/proc/x` spun at 100% CPU); here that mkdir's own error is thrown, naming the path.
 * A part of the path that is a file is a NotAFolderError naming it: ENOTDIR (EEXIST for the folder
 * itself), as with mkdir.
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
 * (a file in the path is ENOTDIR, as makeFolder says) and writable and searchable (fs.access).
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

/** makeFolder for code that must stay synchronous (opening the state store in `data_dir`). */
export function makeFolderSync(folder: string): void {
  const missing: string[] = [];
  for (let current = resolve(folder); ; current = dirname(current)) {
    const found = statSync(current, { throwIfNoEntry: dirname(current) === current });
    if (found) {
      if (found.isDirectory()) break;
      throw new NotAFolderError(folder, current);
    }
    missing.unshift(current);
  }
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
 * first; a NotAFolderError when the first thing that exists is a file. A level below a file is
 * missing too (its stat fails ENOTDIR), so the walk goes on up to the file and names it: it threw
 * that stat's error, `ENOTDIR … stat 'out/letters/harbour-survey'`, which never said that
 * `out/letters` was the file.
 */
async function nearestFolder(folder: string): Promise<{ existing: string; missing: string[] }> {
  const missing: string[] = [];
  for (let current = resolve(folder); ; current = dirname(current)) {
    const found = await stat(current).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(current) !== current) return null;
      throw error;
    });
    if (found) {
      if (found.isDirectory()) return { existing: current, missing };
      throw new NotAFolderError(folder, current);
    }
    missing.unshift(current);
  }
}

/**
 * The error of a mkdir of `folder` where `path`, it or one of its parents, is a file: ENOTDIR
 * (EEXIST for the folder itself), as mkdir's own, with `path` the file in the way.
 */
export class NotAFolderError extends Error {
  readonly code: 'ENOTDIR' | 'EEXIST';
  constructor(
    readonly folder: string,
    readonly path: string,
  ) {
    super(
      path === resolve(folder)
        ? `${path} is a file, not a folder`
        : `${path} is a file, not a folder, so ${folder} cannot be made`,
    );
    this.name = 'NotAFolderError';
    this.code = path === resolve(folder) ? 'EEXIST' : 'ENOTDIR';
  }
}

/** A failed access or probe as the error of the mkdir of `level` that it stands for (same code and reason). */
function asMkdirError(error: unknown, level: string): Error {
  const { code, message } = error as NodeJS.ErrnoException;
  const reason = message.split(', ')[0] ?? message;
  return Object.assign(new Error(`${reason}, mkdir '${level}'`), { code, path: level });
}
