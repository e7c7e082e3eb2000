import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * Creates `folder` and its missing parents, as `mkdir(folder, { recursive: true })` does, and
 * returns the top-most folder it created (undefined when it existed). Each level is made on its own:
 * Node's recursive mkdir loops forever on a path the kernel refuses with ENOENT though its parent
 * exists (`/proc/x` spun at 100% CPU); here that mkdir's own error is thrown, naming the path.
 * A part of the path that is a file is ENOTDIR (EEXIST for the folder itself), as with mkdir.
 */
export async function makeFolder(folder: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (let current = resolve(folder); ; current = dirname(current)) {
    const found = await stat(current).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && dirname(current) !== current) return null;
      throw error;
    });
    if (found) {
      if (found.isDirectory()) break;
      throw notAFolder(folder, current);
    }
    missing.unshift(current);
  }
  for (const level of missing) {
    // Another writer may make the same level at the same time.
    await mkdir(level).catch(async (error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !(await stat(level)).isDirectory())
        throw error;
    });
  }
  return missing[0];
}

/** makeFolder for code that must stay synchronous (opening the state store in `data_dir`). */
export function makeFolderSync(folder: string): void {
  const missing: string[] = [];
  for (let current = resolve(folder); ; current = dirname(current)) {
    const found = statSync(current, { throwIfNoEntry: dirname(current) === current });
    if (found) {
      if (found.isDirectory()) break;
      throw notAFolder(folder, current);
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

/** The error of a mkdir of `folder` where `current`, it or one of its parents, is a file. */
function notAFolder(folder: string, current: string): Error {
  return Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${folder}' (${current} is a file)`), {
    code: current === resolve(folder) ? 'EEXIST' : 'ENOTDIR',
    path: current,
  });
}
