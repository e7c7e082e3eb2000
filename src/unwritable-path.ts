import { WavebatchError } from './errors.js';

/**
 * The errors of a path that cannot be written as given: it, or a folder on the way, is missing
 * where it cannot be made, refused, read-only, or a file where a folder must be. Others (a full
 * disk, an I/O error) are failures of the machine, not of the path, and pass through as they are.
 */
const PATH_PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: 'a folder on the way does not exist and cannot be made',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'it is a file, not a folder',
  EISDIR: 'it is a folder',
  // makeFolder's NotAFolderError: its message names the file.
  PATH_NOT_FOLDER: 'a file is in the way',
};

/**
 * A path the user gave a command to write into (`init <dir>`, `fetch --out <dir>`) that cannot be
 * written: input, exit 2, as an export's `-o` is. It said `error [ENOENT]` and exit 1 before, as if
 * the disk had failed and retrying could help.
 */
export class UnwritablePathError extends WavebatchError {
  readonly code = 'INPUT_PATH_UNWRITABLE';
  constructor(
    readonly path: string,
    reason: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot write to ${path}: ${reason} (${detail}).`, options);
  }
}

/** `error` as an UnwritablePathError naming `path`, when it is a problem of the path; else undefined. */
export function asUnwritablePath(path: string, error: unknown): UnwritablePathError | undefined {
  const { code, message } = (error ?? {}) as NodeJS.ErrnoException;
  const reason = code === undefined ? undefined : PATH_PROBLEMS[code];
  if (reason === undefined) return undefined;
  return new UnwritablePathError(path, reason, message, { cause: error });
}

/** Runs `write`, turning a problem of `path` it meets into an UnwritablePathError. */
export async function writingTo<T>(path: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw asUnwritablePath(path, error) ?? error;
  }
}
