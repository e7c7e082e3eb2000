import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { MediaInputError } from './media-input-error.js';

/**
 * Every read of a record's media file goes through here. A source names paths, and a path can name
 * something that is not a file: a FIFO (`mkfifo page_2.txt`) blocks the read until a writer comes,
 * so the run hung for ever, deaf even to Ctrl-C; `/dev/zero` or `/dev/urandom` never end. The file is
 * opened without blocking (O_NONBLOCK: opening a FIFO returns at once) and what was opened is checked
 * with fstat, so nothing swapped in between the check and the read can slip past it.
 */

/** An opened media file, known to be a regular file, and its size when opened. */
export interface OpenMediaFile {
  handle: FileHandle;
  size: number;
  mtimeMs: number;
}

/** Opens `path` for reading; throws INPUT_MEDIA_MISSING, or INPUT_MEDIA_NOT_FILE for anything but a regular file. */
export async function openMediaFile(path: string): Promise<OpenMediaFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw notAFile(path, 'a folder');
    throw new MediaInputError(
      'INPUT_MEDIA_MISSING',
      path,
      `Media file ${path} cannot be read; check that it exists.`,
    );
  }
  try {
    const facts = await handle.stat();
    if (!facts.isFile()) throw notAFile(path, kindOf(facts));
    return { handle, size: facts.size, mtimeMs: facts.mtimeMs };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The whole file, read from one opened regular file (the caller has checked its size). */
export async function readMediaFile(path: string): Promise<Buffer> {
  const { handle } = await openMediaFile(path);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** The file's bytes in chunks, streamed from one opened regular file. */
export async function* mediaFileChunks(path: string): AsyncGenerator<Buffer> {
  const { handle } = await openMediaFile(path);
  // The stream closes the handle when it ends, fails or is abandoned.
  yield* handle.createReadStream() as AsyncIterable<Buffer>;
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
