import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { isBlank } from '../blank-text.js';
import { LineReadError } from './errors.js';
import { invalidUtf8Offset } from './utf8.js';

/** One non-blank line of a text file, with its 1-based line number. */
export interface NumberedLine {
  text: string;
  lineNumber: number;
}

/** Longest line read unless the caller says otherwise: far above Gemini's ~20 MB request limit. */
export const DEFAULT_MAX_LINE_BYTES = 64_000_000;

export interface LineReadOptions {
  /** A longer line stops the read with INPUT_LINE_TOO_LONG, before more of it is buffered. */
  maxLineBytes?: number;
  /**
   * `strict` (default): a line that is not valid UTF-8 stops the read with INPUT_INVALID_UTF8,
   * naming its line and byte offset. `replace`: bad bytes become U+FFFD (for text whose author is
   * not the user, e.g. an API's results, where a bad line is judged by its content instead).
   */
  utf8?: 'strict' | 'replace';
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Streams the non-blank lines of a JSON Lines file (never whole in memory), without a leading BOM.
 * Lines end at LF or CRLF. Memory stays bounded by `maxLineBytes`: a longer line is refused as soon
 * as it passes the limit, so a 600 MB file without a newline costs at most the limit.
 * A consumer that stops early, or throws, leaves no file open.
 */
export async function* nonBlankLines(
  path: string,
  options: LineReadOptions = {},
): AsyncGenerator<NumberedLine> {
  const maxBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const strict = (options.utf8 ?? 'strict') === 'strict';
  const input = createReadStream(path);
  let lineNumber = 1;
  /** File offset of the current line's first byte. */
  let lineStart = 0;
  /** Offset of the current chunk's first byte. */
  let chunkStart = 0;
  let pieces: Buffer[] = [];
  let pending = 0;

  const finish = (tail: Buffer): NumberedLine | undefined => {
    let bytes = pieces.length === 0 ? tail : Buffer.concat([...pieces, tail]);
    pieces = [];
    pending = 0;
    let skipped = 0;
    if (lineNumber === 1 && bytes.subarray(0, 3).equals(BOM)) {
      bytes = bytes.subarray(3);
      skipped = 3;
    }
    if (bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN) bytes = bytes.subarray(0, -1);
    if (strict && !isUtf8(bytes)) {
      const inLine = invalidUtf8Offset(bytes);
      throw new LineReadError('INPUT_INVALID_UTF8', path, lineNumber, lineStart + skipped + inLine);
    }
    const text = bytes.toString('utf8');
    return isBlank(text) ? undefined : { text, lineNumber };
  };

  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let start = 0;
      for (;;) {
        const newline = chunk.indexOf(NEWLINE, start);
        const end = newline < 0 ? chunk.length : newline;
        // Checked before the bytes are kept: an endless line is refused at the limit, not at the end.
        if (pending + (end - start) > maxBytes)
          throw new LineReadError('INPUT_LINE_TOO_LONG', path, lineNumber, lineStart, maxBytes);
        if (newline < 0) {
          if (end > start) {
            pieces.push(chunk.subarray(start));
            pending += end - start;
          }
          break;
        }
        const line = finish(chunk.subarray(start, end));
        if (line) yield line;
        lineNumber++;
        lineStart = chunkStart + newline + 1;
        start = newline + 1;
      }
      chunkStart += chunk.length;
    }
    if (pending > 0) {
      const line = finish(Buffer.alloc(0));
      if (line) yield line;
    }
  } finally {
    input.destroy();
  }
}
