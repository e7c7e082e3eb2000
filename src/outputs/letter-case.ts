import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { nearestExisting } from '../nearest-existing.js';
import { tempName } from './paths.js';

/**
 * The name two ids share on a file system that ignores letter case (macOS's and Windows' defaults):
 * `Page1` and `page1` are one file there. Only A–Z are folded, as SQLite's `lower()` folds them, so
 * the store's scan and this agree on every id.
 */
export function foldedId(id: string): string {
  return id.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/**
 * Whether `folder` ignores letter case in file names: a probe file is created in it and looked up by
 * its upper-case name. A folder not made yet is judged by the nearest folder above it that exists,
 * where it will be made (nothing is created for it: a dry run leaves no output folder behind). The
 * probe has a temp file's name, so a crash that leaves it in the output folder leaves it to the
 * next start's sweep.
 */
export async function ignoresLetterCase(
  folder: string,
  random: () => string = () => randomBytes(6).toString('hex'),
): Promise<boolean> {
  const existing = await nearestFolder(folder);
  if (existing === undefined) return false;
  const name = tempName('case-probe.json', random());
  const flags = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY;
  // A folder nothing can be created in (read-only, no permission) cannot be probed, and no output
  // will be written to it either: nothing can clash there, and its own error comes with the write.
  const handle = await open(join(existing, name), flags).catch(() => null);
  if (handle === null) return false;
  try {
    const probe = await handle.stat();
    const sameUpperCase = await stat(join(existing, name.toUpperCase())).catch(() => null);
    return sameUpperCase !== null && sameUpperCase.ino === probe.ino && sameUpperCase.dev === probe.dev;
  } finally {
    await handle.close();
    await unlink(join(existing, name));
  }
}

/**
 * `folder`, or the nearest folder above it that exists: past a file in the way, the folder that
 * holds it. Undefined when the walk meets a level it may not look at (EACCES): no output can be
 * written there either.
 */
async function nearestFolder(folder: string): Promise<string | undefined> {
  const found = await nearestExisting(folder).catch(() => undefined);
  if (found === undefined) return undefined;
  return found.stats.isDirectory() ? found.path : dirname(found.path);
}
