import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { jsonErrorPosition } from '../config/index.js';
import { SourceError } from './errors.js';
import { nonBlankLines } from '../jsonl/lines.js';

/** One row of a data file and where it is (1-based line, or item index for a JSON array). */
export interface TableRow {
  fields: Record<string, unknown>;
  file: string;
  /** `data.jsonl:12`, `data.json[3]` */
  where: string;
  line?: number;
}

/** Throws SOURCE_NOT_FOUND unless `path` is a file. */
export async function requireFile(path: string): Promise<void> {
  const found = await stat(path).catch(() => undefined);
  if (!found?.isFile())
    throw new SourceError('SOURCE_NOT_FOUND', `source file ${path} does not exist (source.path)`, {
      file: path,
    });
}

/** JSON Lines, one line at a time; blank lines are skipped. */
export async function* jsonlRows(path: string): AsyncGenerator<TableRow> {
  await requireFile(path);
  for await (const { text, lineNumber: line } of nonBlankLines(path)) {
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
}

/** A top-level JSON array, read whole (large inputs belong in JSON Lines, which streams). */
export async function* jsonArrayRows(path: string): AsyncGenerator<TableRow> {
  await requireFile(path);
  const text = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
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

/** CSV with a header row, streamed; every value is a string. */
export async function* csvRows(path: string): AsyncGenerator<TableRow> {
  await requireFile(path);
  const parser = createReadStream(path).pipe(
    parse({ columns: true, bom: true, skip_empty_lines: true, info: true }),
  );
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      yield { fields: record, file: path, where: `${path}:${info.lines}`, line: info.lines };
    }
  } catch (error) {
    if (error instanceof SourceError) throw error;
    const line = (error as { lines?: unknown }).lines;
    const at = typeof line === 'number' ? ` line ${line}` : '';
    throw new SourceError('SOURCE_INVALID_CSV', `${path}${at}: ${(error as Error).message}`, {
      file: path,
      ...(typeof line === 'number' ? { line } : {}),
    });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kind(value: unknown): string {
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
}
