import { access, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ScaffoldExistsError } from './errors.js';
import type { ScaffoldFile } from './scaffold-file.js';
import { makeFolder } from '../make-folder.js';
import { writingTo } from '../unwritable-path.js';

/**
 * Writes the files under `folder`. Every path is checked before the first write, so a refusal
 * (a file exists and `force` is off) leaves the folder exactly as it was. Returns the paths written.
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
  // A folder the user named that cannot be made or written is input (exit 2), as an export's -o is.
  await writingTo(folder, async () => {
    for (const file of toWrite) {
      const path = join(folder, file.path);
      await makeFolder(dirname(path));
      await writeFile(path, file.content);
    }
  });
  return toWrite.map((file) => file.path);
}
