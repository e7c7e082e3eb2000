import { opendir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { SourceError } from './errors.js';
import { compareCodeUnits } from '../code-unit-order.js';

/** How deep the probe looks for a page: as deep as the walk itself goes. */
const MAX_PROBE_DEPTH = 64;

/**
 * Throws SOURCE_LEVELS_MISMATCH when a directory source whose walk found no record holds page files
 * at another depth than `levels` names: the pages of a tree one level deeper or shallower than its
 * `levels` are never leaf pages, so the workload synced nothing and a run "finished" at once, exit 0.
 * Only called when nothing was found, so it costs nothing on a dataset that yields records; a
 * dataset with no page at all, or with pages at the leaf depth (filters took none), is left be.
 */
export async function refuseMismatchedLevels(
  root: string,
  levels: readonly string[],
  extensions: ReadonlySet<string>,
): Promise<void> {
  // Pages at the leaf depth that filters or the allow list left out are not a mismatch.
  if (await hasPageAt(root, extensions, levels.length)) return;
  const page = await firstPage(root, extensions, []);
  if (!page) return;
  const depth = page.length - 1;
  const deep = (n: number) => `${n} folder${n === 1 ? '' : 's'} deep`;
  const named =
    levels.length === 0
      ? 'no folder level'
      : `${levels.length} folder level${levels.length === 1 ? '' : 's'} (${levels.join(', ')})`;
  throw new SourceError(
    'SOURCE_LEVELS_MISMATCH',
    `source.levels names ${named}, but the dataset ${root} has its pages ${deep(depth)} ` +
      `(${page.join('/')}), none ${deep(levels.length)}, so it holds no record: give source.levels one name ` +
      `per folder above the pages (${depth === 0 ? 'none here: leave levels out' : `${depth} here`})`,
    { file: join(root, ...page) },
  );
}

/** Whether any folder exactly `depth` levels below `folder` holds a page file. */
async function hasPageAt(folder: string, extensions: ReadonlySet<string>, depth: number): Promise<boolean> {
  const { files, folders } = await entries(folder, extensions);
  if (depth === 0) return files.length > 0;
  for (const name of folders) if (await hasPageAt(join(folder, name), extensions, depth - 1)) return true;
  return false;
}

/** The path segments of the first page file in name order (the file's name last), or null. */
async function firstPage(
  folder: string,
  extensions: ReadonlySet<string>,
  segments: string[],
): Promise<string[] | null> {
  if (segments.length > MAX_PROBE_DEPTH) return null;
  const { files, folders } = await entries(folder, extensions);
  const [file] = files;
  if (file !== undefined) return [...segments, file];
  for (const name of folders) {
    const found = await firstPage(join(folder, name), extensions, [...segments, name]);
    if (found) return found;
  }
  return null;
}

/** A folder's visible sub-folders and page files, each in name order (links are not followed). */
async function entries(
  folder: string,
  extensions: ReadonlySet<string>,
): Promise<{ files: string[]; folders: string[] }> {
  const files: string[] = [];
  const folders: string[] = [];
  for await (const entry of await opendir(folder)) {
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) folders.push(entry.name);
    else if (entry.isFile() && extensions.has(extname(entry.name).toLowerCase())) files.push(entry.name);
  }
  return { files: files.sort(compareCodeUnits), folders: folders.sort(compareCodeUnits) };
}
