import { createReadStream } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { pipeline, Transform } from 'node:stream';
import type { Parser } from 'csv-parse';
import { withoutByteOrderMark } from '../byte-order-mark.js';
import { jsonErrorPosition } from '../config/index.js';
import { unclosedQuoteLine } from './csv-quote-start.js';
import { SourceError } from './errors.js';
import { LineReadError } from '../jsonl/errors.js';
import { nonBlankLines } from '../jsonl/lines.js';
import { utf8Fault, Utf8StreamCheck, type Utf8Fault } from '../jsonl/utf8.js';

/** One row of a data file and where it is (1-based line, or item index for a JSON array). */
export interface TableRow {
  fields: Record<string, unknown>;
  file: string;
  /** `data.jsonl:12`, `data.json[3]` */
  where: string;
  line?: number;
}

/** Throws SOURCE_NOT_FOUND unless `path` is a file; returns its stamp, to tell a change by. */
export async function requireFile(path: string): Promise<BigIntStats> {
  const found = await stat(path, { bigint: true }).catch(() => undefined);
  if (!found?.isFile())
    throw new SourceError('SOURCE_NOT_FOUND', `source file ${path} does not exist (source.path)`, {
      file: path,
    });
  return found;
}

/**
 * Throws SOURCE_CHANGED when the file is not the one `before` describes (size, modification time,
 * inode): written to while it was read, its last record may have been read half written (a CSV
 * row `c,12` of `c,123`) and sent as it was, or a replaced file's records mixed with the old one's.
 */
async function requireUnchanged(path: string, before: BigIntStats): Promise<void> {
  const after = await stat(path, { bigint: true }).catch(() => undefined);
  if (after && after.size === before.size && after.mtimeNs === before.mtimeNs && after.ino === before.ino)
    return;
  const now = after ? `${after.size} bytes now` : 'gone now';
  throw new SourceError(
    'SOURCE_CHANGED',
    `${path} changed while it was read (${before.size} bytes when the read began, ${now}): ` +
      'a record read half written would be taken for a whole one. Run again once the file is written ' +
      '(write it elsewhere and rename it into place)',
    { file: path },
  );
}

/** The config key that bounds a record's size, named in every "too large" message. */
const LIMIT_KEY = 'source.max_record_bytes';

/** JSON Lines, one line at a time; blank lines are skipped; a line above `maxBytes` is refused. */
export async function* jsonlRows(path: string, maxBytes: number): AsyncGenerator<TableRow> {
  const before = await requireFile(path);
  for await (const { text, lineNumber: line } of sourceLines(path, maxBytes)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const position = jsonErrorPosition(text);
      const what = position
        ? `unexpected ${position.found} at column ${position.column}`
        : (error as Error).message;
      throw new SourceError('SOURCE_INVALID_JSON', `${path} line ${line}: invalid JSON: ${what}`, {
        file: path,
        line,
      });
    }
    if (!isObject(value))
      throw new SourceError(
        'SOURCE_INVALID_JSON',
        `${path} line ${line}: expected a JSON object, got ${kind(value)}`,
        { file: path, line },
      );
    yield { fields: value, file: path, where: `${path}:${line}`, line };
  }
  await requireUnchanged(path, before);
}

/** The lines of a source file, with the line reader's errors told in source terms. */
async function* sourceLines(
  path: string,
  maxBytes: number,
): AsyncGenerator<{ text: string; lineNumber: number }> {
  try {
    yield* nonBlankLines(path, { maxLineBytes: maxBytes });
  } catch (error) {
    if (!(error instanceof LineReadError)) throw error;
    throw error.code === 'INPUT_LINE_TOO_LONG'
      ? new SourceError(
          'SOURCE_RECORD_TOO_LARGE',
          `${path} line ${error.line}: the record is longer than ${maxBytes} bytes (${LIMIT_KEY}); ` +
            'split it, or raise the limit if the machine has the memory for it',
          { file: path, line: error.line },
        )
      : invalidUtf8(path, { line: error.line, byteOffset: error.byteOffset });
  }
}

function invalidUtf8(path: string, fault: Utf8Fault): SourceError {
  return new SourceError(
    'SOURCE_INVALID_UTF8',
    `${path} line ${fault.line}: byte ${fault.byteOffset} of the file is not valid UTF-8; ` +
      'save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)',
    { file: path, line: fault.line },
  );
}

/** A top-level JSON array, read whole (large inputs belong in JSON Lines, which streams). */
export async function* jsonArrayRows(path: string, maxBytes: number): AsyncGenerator<TableRow> {
  const before = await requireFile(path);
  const size = Number(before.size);
  if (size > maxBytes)
    throw new SourceError(
      'SOURCE_RECORD_TOO_LARGE',
      `${path} is ${size} bytes; a JSON array source is read whole, and ${LIMIT_KEY} is ${maxBytes}: ` +
        'convert it to JSON Lines (type: jsonl), which is read a line at a time',
      { file: path },
    );
  const bytes = await readFile(path);
  await requireUnchanged(path, before);
  const fault = utf8Fault(bytes);
  if (fault) throw invalidUtf8(path, fault);
  const text = withoutByteOrderMark(bytes.toString('utf8'));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const position = jsonErrorPosition(text);
    const where = position ? `${path} line ${position.line}` : path;
    const what = position
      ? `unexpected ${position.found} (column ${position.column})`
      : (error as Error).message.split('\n')[0];
    throw new SourceError('SOURCE_INVALID_JSON', `${where}: invalid JSON: ${what}`, {
      file: path,
      ...(position ? { line: position.line } : {}),
    });
  }
  if (!Array.isArray(value))
    throw new SourceError(
      'SOURCE_INVALID_JSON',
      `${path}: expected a top-level JSON array of objects, got ${kind(value)}`,
      { file: path },
    );
  for (const [index, item] of value.entries()) {
    if (!isObject(item))
      throw new SourceError(
        'SOURCE_INVALID_JSON',
        `${path} item ${index}: expected a JSON object, got ${kind(item)}`,
        { file: path },
      );
    yield { fields: item, file: path, where: `${path}[${index}]` };
  }
}

/** CSV with a header row, streamed; every value is a string; a row above `maxBytes` characters is refused. */
export async function* csvRows(path: string, maxBytes: number): AsyncGenerator<TableRow> {
  const before = await requireFile(path);
  let columns: string[] = [];
  // Loaded for a CSV source only: every command that reads a workload's source paid for it at start.
  const { parse } = await import('csv-parse');
  const csv: Parser = parse({
    columns: (header: string[]) => (columns = distinctColumns(path, header, csv.info.lines)),
    bom: true,
    skip_empty_lines: true,
    info: true,
    max_record_size: maxBytes,
  });
  // pipeline, not pipe: an error of the file or the UTF-8 check must reach (and end) the parser.
  const parser = pipeline(createReadStream(path), utf8Checked(path), nulRefused(path), csv, () => undefined);
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      if (repeatsHeader(record, columns))
        throw new SourceError(
          'SOURCE_INVALID_CSV',
          `${path} line ${info.lines} repeats the header row: were two CSV files joined? ` +
            'Remove the line (read as a record, it would be sent as one)',
          { file: path, line: info.lines },
        );
      yield { fields: record, file: path, where: `${path}:${info.lines}`, line: info.lines };
    }
    await requireUnchanged(path, before);
  } catch (error) {
    if (error instanceof SourceError) throw error;
    const line = (error as { lines?: unknown }).lines;
    if ((error as { code?: unknown }).code === 'CSV_MAX_RECORD_SIZE')
      throw new SourceError(
        'SOURCE_RECORD_TOO_LARGE',
        `${path}${typeof line === 'number' ? ` line ${line}` : ''}: a row is longer than ${maxBytes} characters (${LIMIT_KEY}); ` +
          'check for an unclosed quote, or raise the limit',
        { file: path, ...(typeof line === 'number' ? { line } : {}) },
      );
    if ((error as { code?: unknown }).code === 'CSV_QUOTE_NOT_CLOSED') {
      const opened = await unclosedQuoteLine(path).catch(() => undefined);
      if (opened !== undefined)
        throw new SourceError(
          'SOURCE_INVALID_CSV',
          `${path} line ${opened}: a quoted field opens here and is never closed (the rest of the file became its text); ` +
            'close it with a ", or write a quote inside a quoted field as ""',
          { file: path, line: opened },
        );
    }
    const at = typeof line === 'number' ? ` line ${line}` : '';
    throw new SourceError('SOURCE_INVALID_CSV', `${path}${at}: ${(error as Error).message}`, {
      file: path,
      ...(typeof line === 'number' ? { line } : {}),
    });
  }
}

/**
 * The header's column names, refused when one is given twice: the parser would keep only the later
 * column's value, so `id,text,text` or `id,product,id` would read the wrong field without a word;
 * and when one is blank, whose values no template can name.
 */
function distinctColumns(path: string, header: string[], line: number): string[] {
  const columnOf = new Map<string, number>();
  for (const [index, name] of header.entries()) {
    if (name.trim() === '')
      throw new SourceError(
        'SOURCE_INVALID_CSV',
        `${path} line ${line}: the header's column ${index + 1} has no name; name it, or remove the ` +
          'column (a trailing comma makes one): its values would reach no template variable',
        { file: path, line },
      );
    const earlier = columnOf.get(name);
    if (earlier !== undefined)
      throw new SourceError(
        'SOURCE_INVALID_CSV',
        `${path} line ${line}: the header names column ${JSON.stringify(name)} twice (columns ${earlier} and ${index + 1}); ` +
          'rename one: each column needs its own name',
        { file: path, line },
      );
    columnOf.set(name, index + 1);
  }
  return header;
}

/**
 * Passes bytes through unchanged, failing the stream at the first NUL byte: no text CSV holds one,
 * and a UTF-16 file without a byte-order mark (every other byte a NUL) was read as columns named
 * `i\0d\0`, reported as a row without its id field.
 */
function nulRefused(path: string): Transform {
  let line = 1;
  let offset = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const at = chunk.indexOf(0);
      if (at === -1) {
        for (let index = chunk.indexOf(0x0a); index !== -1; index = chunk.indexOf(0x0a, index + 1)) line++;
        offset += chunk.length;
        return done(null, chunk);
      }
      const before = chunk.subarray(0, at);
      for (let index = before.indexOf(0x0a); index !== -1; index = before.indexOf(0x0a, index + 1)) line++;
      done(
        new SourceError(
          'SOURCE_INVALID_CSV',
          `${path} line ${line}: byte ${offset + at} of the file is a NUL (0x00), which no text CSV holds: ` +
            'is the file UTF-16? Save it as UTF-8',
          { file: path, line },
        ),
      );
    },
  });
}

/** Whether a row holds the header's names, each in its own column (`cat a.csv b.csv` keeps b's header). */
function repeatsHeader(record: Record<string, string>, columns: readonly string[]): boolean {
  return columns.length > 0 && columns.every((name) => record[name] === name);
}

/** Passes bytes through unchanged, failing the stream at the first byte that is not UTF-8. */
function utf8Checked(path: string): Transform {
  const check = new Utf8StreamCheck();
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const fault = check.push(chunk);
      done(fault ? invalidUtf8(path, fault) : null, fault ? undefined : chunk);
    },
    flush(done) {
      const fault = check.end();
      done(fault ? invalidUtf8(path, fault) : null);
    },
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kind(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
