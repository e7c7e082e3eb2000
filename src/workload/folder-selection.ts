import { readFile } from 'node:fs/promises';
import type { DirectorySourceConfig, LevelRange } from '../config/index.js';
import { SourceError } from './errors.js';

/** Which folders of a directory source are walked into and which leaves are taken. */
export interface FolderSelection {
  /** May the walk enter this folder (segments below the root)? Prunes whole subtrees. */
  enters(segments: readonly string[]): boolean;
  /** Is this folder, holding pages, taken as a chain? */
  takes(segments: readonly string[]): boolean;
}

/** Builds the selection from the level filters and the allow list (read once, it is small). */
export async function folderSelection(config: DirectorySourceConfig): Promise<FolderSelection> {
  const levels = config.levels;
  const filters = Object.entries(config.filters ?? {}).map(([level, filter]) => ({
    depth: levels?.indexOf(level) ?? -1,
    filter,
  }));
  const allowed = config.allow_list ? await readAllowList(config.allow_list, levels?.length) : undefined;
  const passesFilters = (segments: readonly string[]) =>
    filters.every(({ depth, filter }) => {
      const name = segments[depth];
      return depth < 0 || name === undefined || matches(filter, name);
    });
  return {
    enters: (segments) =>
      passesFilters(segments) &&
      (!allowed || allowed.prefixes.has(segments.join('/')) || allowed.leaves.has(segments.join('/'))),
    takes: (segments) => passesFilters(segments) && (!allowed || allowed.leaves.has(segments.join('/'))),
  };
}

function matches(filter: Array<string | number> | LevelRange, name: string): boolean {
  if (Array.isArray(filter)) return filter.some((value) => String(value) === name);
  const value = Number(name);
  if (name.trim() === '' || !Number.isFinite(value)) return false;
  return (
    (filter.min === undefined || value >= filter.min) && (filter.max === undefined || value <= filter.max)
  );
}

/** Leaf paths, one a line (`MA/harvard/1901`); blank lines and `#` comments ignored. */
async function readAllowList(
  path: string,
  depth: number | undefined,
): Promise<{ leaves: Set<string>; prefixes: Set<string> }> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT')
      throw new SourceError(
        'SOURCE_ALLOW_LIST_MISSING',
        `allow list ${path} does not exist (source.allow_list)`,
        { file: path },
      );
    throw error;
  });
  const leaves = new Set<string>();
  const prefixes = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const entry = line.replace(/^\.\//, '').replace(/^\/+|\/+$/g, '');
    const segments = entry.split('/');
    if (depth !== undefined && segments.length !== depth) {
      throw new SourceError(
        'SOURCE_ALLOW_LIST_INVALID',
        `${path} line ${index + 1}: "${entry}" has ${segments.length} folder level(s); source.levels names ${depth}`,
        { file: path, line: index + 1 },
      );
    }
    leaves.add(entry);
    for (let end = 0; end < segments.length; end++) prefixes.add(segments.slice(0, end).join('/'));
  });
  return { leaves, prefixes };
}
