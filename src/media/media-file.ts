import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { isInside } from '../path-inside.js';
import { MediaInputError } from './media-input-error.js';

/**
 * Every read of a record's media file goes through here. A source names paths, and a path can name
 * something that is not a file: a FIFO (`mkfifo page_2.txt`) blocks the read until a writer comes,
 * so the run hung for ever, deaf even to Ctrl-C; `/dev/zero` or `/dev/urandom` never end. The file is
 * opened without blocking (O_NONBLOCK: opening a FIFO returns at once) and what was opened is checked
 * with fstat, so nothing swapped in between the check and the read can slip past it.
 *
 * A source's media are confined to a folder (`confinedTo`): the sync checks every path, but a file
 * replaced by a link afterwards (`ln -sf /proc/self/environ page_1.txt`) was read and sent on a later
 * run while the data file was unchanged, as no sync looked at it again. So each read resolves the
 * path's links first and refuses a file that lies outside, then opens the resolved path without
 * following a link, so the last part of it cannot be swapped for a link between the two.
 */

/**
 * Where the kernel shows its own state as files: regular to fstat, yet never data, and
 * `/proc/self/environ` is this process's environment, the API key with it. Refused whatever the
 * confinement (a directory source with `follow_symlinks: true`, a function source).
 */
const KERNEL_FILES = ['/proc', '/sys'];

/** An opened media file, known to be a regular file, and what it was when opened. */
export interface OpenMediaFile extends FileIdentity {
  handle: FileHandle;
}

/** Which file (device and inode) and which version of it (size and modification time). */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/** True when both are the same file, unchanged in size and modification time. */
export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/**
 * Opens `path` for reading; throws INPUT_MEDIA_MISSING, INPUT_MEDIA_OUTSIDE when its links lead out
 * of `confinedTo`, or INPUT_MEDIA_NOT_FILE for anything but a regular file.
 */
export async function openMediaFile(path: string, confinedTo?: string): Promise<OpenMediaFile> {
  const target = await realpath(path).catch(() => {
    throw missing(path);
  });
  if (confinedTo !== undefined) {
    const root = await realpath(confinedTo).catch(() => confinedTo);
    if (!isInside(target, root))
      throw new MediaInputError(
        'INPUT_MEDIA_OUTSIDE',
        path,
        `Media file ${path} leads to ${target}, outside ${root}, the folder this source's media must stay in: ` +
          'it is not read. Was it replaced by a link after the source was synced? Put the file itself there.',
      );
  }
  if (KERNEL_FILES.some((folder) => isInside(target, folder)))
    throw new MediaInputError(
      'INPUT_MEDIA_NOT_FILE',
      path,
      `Media file ${path} leads to ${target}, where the kernel shows its own state (/proc/self/environ ` +
        'holds the API key): it is not read, whatever links are followed; point the record at a file.',
    );
  let handle: FileHandle;
  try {
    handle = await open(target, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw notAFile(path, 'a folder');
    // A Unix socket cannot be opened at all (ENXIO): it exists, and is no file.
    if (code === 'ENXIO') throw notAFile(path, 'a socket');
    throw missing(path);
  }
  try {
    const facts = await handle.stat();
    if (!facts.isFile()) throw notAFile(path, kindOf(facts));
    return { handle, dev: facts.dev, ino: facts.ino, size: facts.size, mtimeMs: facts.mtimeMs };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function missing(path: string): MediaInputError {
  return new MediaInputError(
    'INPUT_MEDIA_MISSING',
    path,
    `Media file ${path} cannot be read; check that it exists.`,
  );
}

function notAFile(path: string, kind: string): MediaInputError {
  return new MediaInputError(
    'INPUT_MEDIA_NOT_FILE',
    path,
    `Media file ${path} is ${kind}, not a regular file: it is not read (a pipe or a device could block ` +
      'or never end); point the record at a file.',
  );
}

function kindOf(facts: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}): string {
  if (facts.isDirectory()) return 'a folder';
  if (facts.isFIFO()) return 'a named pipe (FIFO)';
  if (facts.isCharacterDevice() || facts.isBlockDevice()) return 'a device';
  if (facts.isSocket()) return 'a socket';
  return 'not a regular file';
}
