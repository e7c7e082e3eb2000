import { WavebatchError } from '../errors.js';

/** Why a line of a text file could not be read. */
export type LineReadErrorCode =
  /** The line is longer than the reader's limit. */
  | 'INPUT_LINE_TOO_LONG'
  /** The line holds bytes that are not UTF-8. */
  | 'INPUT_INVALID_UTF8';

/** A line that cannot be read as text: too long, or not UTF-8. The message names the file and line. */
export class LineReadError extends WavebatchError {
  readonly code: LineReadErrorCode;

  constructor(
    code: LineReadErrorCode,
    readonly file: string,
    readonly line: number,
    /** File offset: the first bad byte (INPUT_INVALID_UTF8), or the line's start (INPUT_LINE_TOO_LONG). */
    readonly byteOffset: number,
    readonly maxBytes?: number,
  ) {
    super(
      code === 'INPUT_LINE_TOO_LONG'
        ? `${file} line ${line} (from byte ${byteOffset}) is longer than ${maxBytes} bytes; it was not read further`
        : `${file} line ${line}: byte ${byteOffset} of the file is not valid UTF-8; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)`,
    );
    this.code = code;
  }
}
