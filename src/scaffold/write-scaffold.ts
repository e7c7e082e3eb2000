import { randomUUID } from 'node:crypto';
import { access, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ScaffoldExistsError } from './errors.js';
import type { ScaffoldFile } from './scaffold-file.js';
import { makeFolder } from '../make-folder.js';
import { writingTo } from '../unwritable-path.js';

/**
 * Writes the files under `folder`, all or none. Every path is checked before the first write, so a
 * refusal (a file exists and `force` is off) leaves the folder exactly as it was. Each file is then
 * written under a temporary name beside its place, and only when all of them are written are they
 * renamed into place: a failure part-way (a read-only subfolder, a file where a folder must be)
 * left a partial scaffold that the next `init` refused as existing files. On a failure the
 * temporary files and the folders made for them are removed, and a path that cannot be written is
 * an UnwritablePathError (exit 2). Returns the paths written.
 */
export async function writeScaffold(
  folder: string,
  files: readonly ScaffoldFile[],
  options: { force?: boolean } = {},
): Promise<string[]> {
  const existing: string[] = [];
  const toWrite: ScaffoldFile[] = [];
  for (const file of files) {
    const exists = await access(join(folder, file.path)).then(
      () => true,
      () => false,
    );
    if (exists && file.keepExisting) continue;
    if (exists && !options.force) existing.push(file.path);
    toWrite.push(file);
  }
  if (existing.length > 0) throw new ScaffoldExistsError(folder, existing);
  const staged = await writingTo(folder, () => stage(folder, toWrite));
  for (const { temp, path } of staged) await rename(temp, path);
  return toWrite.map((file) => file.path);
}

/** Each file written to a temporary name beside its place; on a failure, nothing of it is left. */
async function stage(
  folder: string,
  files: readonly ScaffoldFile[],
): Promise<Array<{ temp: string; path: string }>> {
  const suffix = `.wavebatch-init-${randomUUID()}`;
  const madeFolders: string[] = [];
  const staged: Array<{ temp: string; path: string }> = [];
  try {
    for (const file of files) {
      const path = join(folder, file.path);
      const made = await makeFolder(dirname(path));
      if (made) madeFolders.push(made);
      const temp = `${path}${suffix}`;
      staged.push({ temp, path });
      await writeFile(temp, file.content, { flag: 'wx' });
    }
    return staged;
  } catch (error) {
    await Promise.all(staged.map(({ temp }) => rm(temp, { force: true })));
    // The latest made first: a folder made later may lie inside one made earlier.
    for (const made of madeFolders.reverse()) await rm(made, { recursive: true, force: true });
    throw error;
  }
}
