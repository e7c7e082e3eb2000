import { lstat, opendir, readlink, realpath, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, relative, sep } from 'node:path';
import type { DirectorySourceConfig } from '../config/index.js';
import { SourceError } from './errors.js';
import { refuseMismatchedLevels } from './directory-levels.js';
import { folderSelection, type FolderSelection } from './folder-selection.js';
import { mimeTypeOf } from './media-types.js';
import type { RecordVars, WorkloadRecord } from './record.js';
import { validateRecordId } from './record-id.js';
import { compareCodeUnits } from '../code-unit-order.js';

/** Without `levels` nothing bounds the depth; a real dataset is never this deep, a symlink loop is. */
const MAX_DEPTH = 64;

interface Walk {
  config: DirectorySourceConfig;
  selection: FolderSelection;
  extensions: Set<string>;
  /** The dataset folder after symbolic links: links must resolve inside it unless follow_symlinks. */
  realRoot: string;
}

interface Page {
  name: string;
  number: number;
}

/** A symbolic link whose target cannot be reached: neither a page nor a folder, yet meant as one. */
interface BrokenLink {
  name: string;
  path: string;
  /** Why its target cannot be read: the `stat` error. */
  cause: unknown;
}

/**
 * Streams a folder tree: each leaf folder is a chain (at depth `levels.length`, or, without levels,
 * every folder directly holding page files), its files are pages ordered by page number.
 * Folders are read one at a time, sorted, so the order is deterministic.
 */
export async function* directoryRecords(config: DirectorySourceConfig): AsyncGenerator<WorkloadRecord> {
  const root = await stat(config.path).catch(() => undefined);
  if (!root?.isDirectory())
    throw new SourceError('SOURCE_NOT_FOUND', `source folder ${config.path} does not exist (source.path)`, {
      file: config.path,
    });
  const walk: Walk = {
    config,
    selection: await folderSelection(config),
    extensions: new Set(config.extensions.map((extension) => extension.toLowerCase())),
    realRoot: await realpath(config.path),
  };
  let found = 0;
  for await (const record of walkFolder(walk, config.path, [])) {
    found += 1;
    yield record;
  }
  if (found === 0 && config.levels !== undefined)
    await refuseMismatchedLevels(config.path, config.levels, walk.extensions);
}

async function* walkFolder(walk: Walk, folder: string, segments: string[]): AsyncGenerator<WorkloadRecord> {
  if (segments.length > MAX_DEPTH)
    throw new SourceError(
      'SOURCE_TOO_DEEP',
      `${folder} is more than ${MAX_DEPTH} folders deep: is there a symbolic-link loop?`,
      { file: folder },
    );
  const levels = walk.config.levels;
  const { folders, files, broken, notFiles } = await listFolder(walk, folder);
  // A link leading nowhere is refused wherever a page or folder of that name would have been read:
  // skipping it would finish a chain without the page, or the run without the chains, and say nothing.
  const brokenPages = broken.filter((link) => isPageName(walk, link.name));
  const atLeafDepth = levels !== undefined && segments.length === levels.length;
  const holdsPages = files.length > 0 || brokenPages.length > 0 || notFiles.length > 0;
  if ((atLeafDepth || (levels === undefined && holdsPages)) && walk.selection.takes(segments)) {
    if (brokenPages[0]) await refuseBrokenLink(brokenPages[0]);
    if (notFiles[0]) refuseNotFile(join(folder, notFiles[0]));
    yield* leafRecords(walk, folder, segments, files);
  }
  if (atLeafDepth) return;
  for (const link of broken)
    if (walk.selection.enters([...segments, link.name])) await refuseBrokenLink(link);
  for (const name of folders) {
    const child = [...segments, name];
    if (walk.selection.enters(child)) yield* walkFolder(walk, join(folder, name), child);
  }
}

function* leafRecords(
  walk: Walk,
  folder: string,
  segments: string[],
  files: string[],
): Generator<WorkloadRecord> {
  const leaf = segments.join('/');
  const levelVars: RecordVars = {};
  walk.config.levels?.forEach((level, index) => (levelVars[level] = segments[index] ?? null));
  for (const page of orderPages(folder, files)) {
    const stem = basename(page.name, extname(page.name));
    const id = validateRecordId(leaf ? `${leaf}/${stem}` : stem, join(folder, page.name));
    yield {
      id,
      chainId: leaf || '.',
      position: page.number,
      vars: { ...levelVars, page: page.number, file: leaf ? `${leaf}/${page.name}` : page.name },
      media: [{ path: join(folder, page.name), mimeType: mimeTypeOf(page.name) }],
      origin: join(folder, page.name),
    };
  }
}

/** Pages by the last integer in their names (`page_012.png` is 12); a missing or repeated number is an error. */
function orderPages(folder: string, files: string[]): Page[] {
  const pages = files.map((name): Page => {
    const digits = /(\d+)(?!.*\d)/.exec(basename(name, extname(name)))?.[1];
    if (digits === undefined) {
      throw new SourceError(
        'SOURCE_PAGE_NUMBER_MISSING',
        `${join(folder, name)} has no page number in its name (pages are ordered by the last number in the file name)`,
        {
          file: join(folder, name),
        },
      );
    }
    return { name, number: Number(digits) };
  });
  pages.sort((a, b) => a.number - b.number || compareCodeUnits(a.name, b.name));
  for (let index = 1; index < pages.length; index++) {
    const [before, page] = [pages[index - 1] as Page, pages[index] as Page];
    if (before.number === page.number) {
      throw new SourceError(
        'SOURCE_DUPLICATE_PAGE',
        `${join(folder, before.name)} and ${join(folder, page.name)} both have page number ${page.number}: rename or remove one`,
        { file: join(folder, page.name) },
      );
    }
  }
  return pages;
}

/** Whether a file of this name is a page (its extension is one of `extensions`). */
function isPageName(walk: Walk, name: string): boolean {
  return walk.extensions.has(extname(name).toLowerCase());
}

/**
 * Visible sub-folders and page files of one folder, each sorted, and the symbolic links among them
 * that lead nowhere. Symbolic links are followed when they resolve inside the dataset folder; one
 * leading outside it stops the walk unless the config says `follow_symlinks: true` (the dataset is
 * data: a link to /etc/passwd must not reach the model).
 */
async function listFolder(
  walk: Walk,
  folder: string,
): Promise<{ folders: string[]; files: string[]; broken: BrokenLink[]; notFiles: string[] }> {
  const folders: string[] = [];
  const files: string[] = [];
  const broken: BrokenLink[] = [];
  // Pages that are FIFOs, sockets or devices (themselves or through a link): were skipped unseen.
  const notFiles: string[] = [];
  for await (const entry of await opendir(folder)) {
    if (entry.name.startsWith('.')) continue;
    let isDirectory = entry.isDirectory();
    let isFile = entry.isFile();
    const isPage = isPageName(walk, entry.name);
    if (entry.isSymbolicLink()) {
      const link = join(folder, entry.name);
      const target = await stat(link).catch((cause: unknown) => {
        broken.push({ name: entry.name, path: link, cause });
        return undefined;
      });
      isDirectory = target?.isDirectory() ?? false;
      isFile = target?.isFile() ?? false;
      if ((isDirectory || (isFile && isPage)) && !walk.config.follow_symlinks)
        await refuseOutsideLink(walk, link);
    }
    if ((isDirectory || isPage) && entry.name.includes('\uFFFD'))
      await refuseUndecodableName(folder, entry.name);
    if (isDirectory) folders.push(entry.name);
    else if (isFile && isPage) files.push(entry.name);
    else if (isPage && !broken.some((link) => link.name === entry.name)) notFiles.push(entry.name);
  }
  return {
    folders: folders.sort(compareCodeUnits),
    files: files.sort(compareCodeUnits),
    broken: broken.sort((a, b) => compareCodeUnits(a.name, b.name)),
    notFiles: notFiles.sort(compareCodeUnits),
  };
}

/**
 * Throws SOURCE_PAGE_NOT_FILE: a page named like one that is a FIFO, a socket or a device was left
 * out without a word (its chain ended early); read, a FIFO would block and /dev/zero never end.
 */
function refuseNotFile(path: string): never {
  throw new SourceError(
    'SOURCE_PAGE_NOT_FILE',
    `${path} is not a regular file (a named pipe, a socket or a device, or a link to one): ` +
      'the page it stands for cannot be read. Replace it with the file, or remove it',
    { file: path },
  );
}

/**
 * Throws SOURCE_INVALID_UTF8 when `name` (read with U+FFFD for bytes that are not UTF-8) is not the
 * entry's real name: the folder or page cannot be opened by it, and opendir's bare ENOENT (exit 1)
 * was all the user saw. A name truly holding U+FFFD opens, and is left to the id check.
 */
async function refuseUndecodableName(folder: string, name: string): Promise<void> {
  if (
    await lstat(join(folder, name)).then(
      () => true,
      () => false,
    )
  )
    return;
  throw new SourceError(
    'SOURCE_INVALID_UTF8',
    `${folder} holds an entry whose name is not valid UTF-8 (read as ${JSON.stringify(name)}), so the page or ` +
      'folder cannot be opened by it. Rename it in UTF-8 (e.g. convmv -f latin1 -t utf-8 --notest)',
    { file: folder },
  );
}

/** Throws SOURCE_LINK_BROKEN naming the link, where it points and why that cannot be read. */
async function refuseBrokenLink(link: BrokenLink): Promise<never> {
  const target = await readlink(link.path).catch(() => undefined);
  const code = (link.cause as { code?: unknown }).code;
  const why =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? 'which does not exist'
      : code === 'ELOOP'
        ? 'which is a loop of links'
        : `which cannot be read (${typeof code === 'string' ? code : String(link.cause)})`;
  throw new SourceError(
    'SOURCE_LINK_BROKEN',
    `${link.path} is a symbolic link to ${target ?? 'an unreadable target'}, ${why}: ` +
      'the page or folder it stands for would be left out. Point the link at the file or folder, or remove it',
    { file: link.path },
  );
}

async function refuseOutsideLink(walk: Walk, link: string): Promise<void> {
  const target = await realpath(link);
  const rest = relative(walk.realRoot, target);
  if (rest === '' || (rest.split(sep)[0] !== '..' && !isAbsolute(rest))) return;
  throw new SourceError(
    'SOURCE_LINK_OUTSIDE',
    `${link} is a symbolic link to ${target}, outside the dataset folder ${walk.realRoot}: ` +
      'move the file into the dataset, or set source.follow_symlinks: true to follow such links',
    { file: link },
  );
}
