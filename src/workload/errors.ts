import { WavebatchError } from '../errors.js';
export type SourceErrorCode =
  /** The source file or folder does not exist. */
  | 'SOURCE_NOT_FOUND'
  /** A JSONL line or JSON file is not valid JSON, or not an object / array of objects. */
  | 'SOURCE_INVALID_JSON'
  /** A CSV file cannot be parsed. */
  | 'SOURCE_INVALID_CSV'
  /** The allow-list file named by the config does not exist. */
  | 'SOURCE_ALLOW_LIST_MISSING'
  /** An allow-list line does not name a leaf folder. */
  | 'SOURCE_ALLOW_LIST_INVALID'
  /** Two page files of one folder have the same page number. */
  | 'SOURCE_DUPLICATE_PAGE'
  /** A page file's name holds no number to order it by. */
  | 'SOURCE_PAGE_NUMBER_MISSING'
  /** A row lacks the id (or chain / position) field. */
  | 'SOURCE_FIELD_MISSING'
  /** A field has a value of the wrong kind (a non-numeric position, an object id). */
  | 'SOURCE_FIELD_INVALID'
  /** A source function yielded something that is not a record. */
  | 'SOURCE_INVALID_RECORD'
  /** A source function threw (or is not an async generator). */
  | 'SOURCE_FUNCTION_FAILED'
  /** A folder tree deeper than any dataset should be (a symbolic-link loop). */
  | 'SOURCE_TOO_DEEP'
  /** A record (a JSONL line, a CSV row, a whole JSON array file) above source.max_record_bytes. */
  | 'SOURCE_RECORD_TOO_LARGE'
  /** A source file was written to (or replaced) while the sync read it. */
  | 'SOURCE_CHANGED'
  /** A source file holds bytes that are not UTF-8. */
  | 'SOURCE_INVALID_UTF8'
  /** Two records of one source have the same id. */
  | 'SOURCE_DUPLICATE_ID'
  /** Two records of one chain have the same position. */
  | 'SOURCE_DUPLICATE_POSITION'
  /** A symbolic link in a directory source leads outside the dataset folder. */
  | 'SOURCE_LINK_OUTSIDE'
  /** A symbolic link in a directory source, where a page or folder would be read, leads nowhere. */
  | 'SOURCE_LINK_BROKEN'
  /** A directory source found no page at the depth `levels` names, but pages at another depth. */
  | 'SOURCE_LEVELS_MISMATCH'
  /** A page of a directory source is a FIFO, a socket or a device, not a file. */
  | 'SOURCE_PAGE_NOT_FILE'
  /** A media path of a table source leads outside the data file's folder (or source.media_root). */
  | 'SOURCE_MEDIA_OUTSIDE';

/** The workload's input cannot be read as records; the message names the file (and line). */
export class SourceError extends WavebatchError {
  readonly code: SourceErrorCode;
  readonly file?: string;
  readonly line?: number;

  /** `cause`: what the source threw, kept for WAVEBATCH_DEBUG's stack trace. */
  constructor(
    code: SourceErrorCode,
    message: string,
    where: { file?: string; line?: number; cause?: unknown } = {},
  ) {
    // Every path the message names (a folder named with a newline or an ESC) stays on one line, inert.
    super(oneLine(message), where.cause === undefined ? undefined : { cause: where.cause });
    this.code = code;
    if (where.file !== undefined) this.file = where.file;
    if (where.line !== undefined) this.line = where.line;
  }
}

/** A record id that cannot safely name an output file. */
export class RecordIdError extends WavebatchError {
  readonly code = 'RECORD_ID_INVALID';
  readonly id: string;
  /** Where the id came from (`file:line`, a path, or the source function). */
  readonly where: string;

  constructor(id: string, where: string, reason: string) {
    super(`record id ${quote(id)} from ${oneLine(where)} cannot name an output file: ${reason}. ${RULE}`);
    this.id = id;
    this.where = where;
  }
}

const RULE =
  "Ids are 1-200 characters of '/'-separated segments made of letters, digits, '_', '.' and '-', each starting with a letter, digit or '_'.";

/**
 * Text with its control characters written as `\uXXXX`: a folder named `bo\nok` broke the one-line
 * error in two, and an ESC in a name reached the terminal as an escape sequence.
 */
function oneLine(where: string): string {
  return where.replace(
    // eslint-disable-next-line no-control-regex -- control characters are what is replaced
    /[\u0000-\u001f\u007f-\u009f]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** JSON-escaped, so control characters and quotes show; long ids are cut. */
function quote(id: string): string {
  return id.length > 120
    ? `${JSON.stringify(id.slice(0, 100))}... (${id.length} characters)`
    : JSON.stringify(id);
}
