import { join, relative, resolve, isAbsolute } from 'node:path';
import { sha256Hex } from '../../sha256.js';
import { OutputPathError } from '../errors.js';

/** Room left in a 255-byte file name for the extension and the temp-file decoration. */
const MAX_SEGMENT_BYTES = 180;

/**
 * The document path of a chain: `<root>/<segments>.<extension>`, its '/'-separated segments as
 * folders. Chain ids come from data (a CSV column, a folder name), so any segment that could leave
 * the folder or hide a file is encoded: every character other than letters, digits, '-', '_', '.',
 * ' ' is percent-encoded, as is a leading '.', and an empty segment becomes '%'. Encoding is
 * one-to-one ('%' itself is encoded), so two chains never share a document; a segment too long for a
 * file name is cut and suffixed with a hash of the whole.
 */
export function chainDocumentPath(root: string, chainId: string, extension: string): string {
  const base = resolve(root);
  const segments = chainId.split('/').map(encodeSegment);
  const path = join(base, ...segments) + extension;
  const inside = relative(base, path);
  // Encoding leaves no '..' segment; checked anyway, so a change above can never write outside.
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside))
    throw new OutputPathError(chainId, 'its document would lie outside the assembly folder');
  return path;
}

function encodeSegment(segment: string): string {
  if (segment === '') return '%';
  let encoded = segment.replace(/[^A-Za-z0-9\-_. ]/gu, (char) =>
    [...Buffer.from(char, 'utf8')]
      .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  );
  if (encoded.startsWith('.')) encoded = `%2E${encoded.slice(1)}`;
  if (Buffer.byteLength(encoded) > MAX_SEGMENT_BYTES) {
    const hash = sha256Hex(segment).slice(0, 16);
    encoded = `${encoded.slice(0, MAX_SEGMENT_BYTES - 17)}~${hash}`;
  }
  return encoded;
}
