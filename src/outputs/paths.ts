import { join, relative, resolve, sep } from 'node:path';
import { OutputPathError } from './errors.js';

/** Output files are `<root>/<id>.json`; an id's '/' separated segments become folders. */
export const OUTPUT_SUFFIX = '.json';

/** Room left in a 255-byte file name for the suffix and the temp-file decoration. */
const MAX_SEGMENT_BYTES = 200;
const MAX_ID_LENGTH = 1024;

/** Temp files are hidden and end in `.tmp`, so listings skip them and a sweep can find them: `.<name>.json.<random>.tmp`. */
const TEMP_FILE = /^\..+\.json\.[A-Za-z0-9]+\.tmp$/;

/** The segments of a valid id, or an OutputPathError saying why it cannot name a file. */
export function idSegments(id: string): string[] {
  if (typeof id !== 'string' || id.length === 0) throw new OutputPathError(String(id), 'it is empty');
  if (id.length > MAX_ID_LENGTH)
    throw new OutputPathError(id, `it is longer than ${MAX_ID_LENGTH} characters`);
  if (id.includes('\0')) throw new OutputPathError(id, 'it contains a NUL character');
  if (id.includes('\\')) throw new OutputPathError(id, "it contains '\\' (use '/' between folders)");
  const segments = id.split('/');
  for (const segment of segments) {
    if (segment === '')
      throw new OutputPathError(id, "it has an empty segment (a leading, trailing or doubled '/')");
    if (segment === '.' || segment === '..')
      throw new OutputPathError(id, `its segment ${JSON.stringify(segment)} would leave the output folder`);
    // Hidden names are reserved for temp files; an output stored under one would never count as done.
    if (segment.startsWith('.'))
      throw new OutputPathError(id, `its segment ${JSON.stringify(segment)} starts with '.'`);
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES)
      throw new OutputPathError(id, `a segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  return segments;
}

/** The output path of an id, guaranteed to be inside `root`. */
export function outputPath(root: string, id: string): string {
  const path = join(resolve(root), ...idSegments(id)) + OUTPUT_SUFFIX;
  const inside = relative(resolve(root), path);
  if (inside.startsWith('..') || inside.startsWith(sep))
    throw new OutputPathError(id, 'it resolves outside the output folder');
  return path;
}

/**
 * The ids whose output files would stand where `id`'s output needs a folder: `a.json/b` needs the
 * folder `a.json`, and `a.json` is id `a`'s file. Both cannot exist on one disk.
 */
export function idsFiledAtFoldersOf(id: string): string[] {
  const segments = id.split('/');
  const filedThere: string[] = [];
  for (let index = 0; index < segments.length - 1; index++) {
    const segment = segments[index] as string;
    if (segment.length > OUTPUT_SUFFIX.length && segment.endsWith(OUTPUT_SUFFIX))
      filedThere.push([...segments.slice(0, index), segment.slice(0, -OUTPUT_SUFFIX.length)].join('/'));
  }
  return filedThere;
}

/** A GLOB (SQLite's, case-sensitive) matching the ids `idsFiledAtFoldersOf` may find a clash for. */
export const FOLDER_NAMED_LIKE_A_FILE = `*${OUTPUT_SUFFIX}/*`;

/** The hidden temp name a write goes through before its rename. */
export function tempName(fileName: string, random: string): string {
  return `.${fileName}.${random}.tmp`;
}

/** True for names made by `tempName`. */
export function isTempName(fileName: string): boolean {
  return TEMP_FILE.test(fileName);
}

/** The id of an output file, from its path segments under the root; null when the file is not an output. */
export function idFromSegments(segments: string[]): string | null {
  const last = segments[segments.length - 1];
  if (last === undefined || !last.endsWith(OUTPUT_SUFFIX) || last.length === OUTPUT_SUFFIX.length)
    return null;
  const id = [...segments.slice(0, -1), last.slice(0, -OUTPUT_SUFFIX.length)].join('/');
  try {
    idSegments(id);
    return id;
  } catch {
    return null;
  }
}
