import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { makeFolder } from '../make-folder.js';
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
 * Whether `folder` (made if missing) ignores letter case in file names: a probe file is created in
 * it and looked up by its upper-case name. The probe has a temp file's name, so a crash that leaves
 * it behind leaves it to the next start's sweep.
 */
export async function ignoresLetterCase(
  folder: string,
  random: () => string = () => randomBytes(6).toString('hex'),
): Promise<boolean> {
  await makeFolder(folder);
  const name = tempName('case-probe.json', random());
  const handle = await open(join(folder, name), constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
  try {
    const probe = await handle.stat();
    const sameUpperCase = await stat(join(folder, name.toUpperCase())).catch(() => null);
    return sameUpperCase !== null && sameUpperCase.ino === probe.ino && sameUpperCase.dev === probe.dev;
  } finally {
    await handle.close();
    await unlink(join(folder, name));
  }
}
