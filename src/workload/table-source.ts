import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { TableSourceConfig } from '../config/index.js';
import { SourceError } from './errors.js';
import { mimeTypeOf } from './media-types.js';
import type { MediaInput, RecordVars, WorkloadRecord } from './record.js';
import { validateRecordId } from './record-id.js';
import { csvRows, jsonArrayRows, jsonlRows, type TableRow } from './table-rows.js';
import { nestedDeeperThan } from './json-depth.js';

/** Levels of arrays and objects a field's value may nest: far beyond real data, far within the stack. */
export const MAX_FIELD_NESTING = 512;

/**
 * Streams the records of a JSONL / JSON / CSV source. Without `chain_field` every record is its own
 * chain; with it but without `position_field`, a record's position is its order of appearance in
 * its chain (one counter per chain is the only state kept).
 */
export async function* tableRecords(config: TableSourceConfig): AsyncGenerator<WorkloadRecord> {
  const limit = config.max_record_bytes;
  const rows =
    config.type === 'jsonl'
      ? jsonlRows(config.path, limit)
      : config.type === 'csv'
        ? csvRows(config.path, limit)
        : jsonArrayRows(config.path, limit);
  const seenPerChain = new Map<string, number>();
  const mediaRoot = new MediaRoot(config);
  for await (const row of rows) {
    const id = validateRecordId(key(row, config.id_field, 'source.id_field'), row.where);
    const chainId = config.chain_field ? key(row, config.chain_field, 'source.chain_field') : id;
    let position = 0;
    if (config.position_field) {
      position = numberField(row, config.position_field);
    } else if (config.chain_field) {
      position = seenPerChain.get(chainId) ?? 0;
      seenPerChain.set(chainId, position + 1);
    }
    yield {
      id,
      chainId,
      position,
      vars: vars(row, config),
      media: await media(row, config, id, mediaRoot),
      origin: place(row),
    };
  }
}

/** A string (or integer) field naming something: the id or the chain. */
function key(row: TableRow, field: string, option: string): string {
  const value = row.fields[field];
  if (value === undefined || value === null || value === '') {
    throw new SourceError(
      'SOURCE_FIELD_MISSING',
      value === undefined
        ? `${row.where}: no "${field}" field (${option} names the field to use)`
        : `${row.where}: the "${field}" field is ${value === null ? 'null' : 'empty'} (${option} names the field to use)`,
      fileAndLine(row),
    );
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw new SourceError(
    'SOURCE_FIELD_INVALID',
    `${row.where}: "${field}" must be a string or an integer, got ${JSON.stringify(value)}`,
    fileAndLine(row),
  );
}

function numberField(row: TableRow, field: string): number {
  const value = row.fields[field];
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : Number.NaN;
  if (!Number.isFinite(number)) {
    // JSON.stringify says null for Infinity (1e400 in a JSON line parses to it).
    const what =
      value === undefined ? 'missing' : typeof value === 'number' ? String(value) : JSON.stringify(value);
    throw new SourceError(
      'SOURCE_FIELD_INVALID',
      `${row.where}: position field "${field}" must be a number, got ${what}`,
      fileAndLine(row),
    );
  }
  return number;
}

/** Every field but the id and the media becomes a template variable; objects and lists as JSON text. */
function vars(row: TableRow, config: TableSourceConfig): RecordVars {
  const result: RecordVars = {};
  for (const [name, value] of Object.entries(row.fields)) {
    if (name === config.id_field || name === config.media_field || value === undefined) continue;
    if (value === null || typeof value !== 'object') {
      result[name] = value as string | number | boolean | null;
      continue;
    }
    if (nestedDeeperThan(value, MAX_FIELD_NESTING))
      throw new SourceError(
        'SOURCE_FIELD_INVALID',
        `${place(row)}: field ${JSON.stringify(name)} nests arrays or objects more than ${MAX_FIELD_NESTING} levels deep; ` +
          'flatten it (no prompt needs more)',
        fileAndLine(row),
      );
    result[name] = JSON.stringify(value);
  }
  return result;
}

/**
 * Media paths are relative to the data file's folder; a field may hold one path or a list. Each must
 * stay inside the media root, as written and after symbolic links are resolved: the data file is
 * data, and must not be able to send `/proc/self/environ` or `../secrets` to the model.
 */
async function media(
  row: TableRow,
  config: TableSourceConfig,
  id: string,
  root: MediaRoot,
): Promise<MediaInput[]> {
  if (!config.media_field) return [];
  const value = row.fields[config.media_field];
  if (value === undefined || value === null || value === '') return [];
  const paths = Array.isArray(value) ? value : [value];
  const inputs: MediaInput[] = [];
  for (const path of paths) {
    if (typeof path !== 'string' || path === '') {
      throw new SourceError(
        'SOURCE_FIELD_INVALID',
        `${row.where}: media field "${config.media_field}" must hold a path or a list of paths`,
        fileAndLine(row),
      );
    }
    const absolute = resolve(dirname(config.path), path);
    const escape = await root.escape(absolute);
    if (escape !== undefined) {
      throw new SourceError(
        'SOURCE_MEDIA_OUTSIDE',
        `${place(row)} (record ${JSON.stringify(id)}): media path ${JSON.stringify(path)} leads to ${escape.target}, ` +
          `outside ${escape.root}; media files must stay in ${root.described}` +
          (config.media_root ? '' : ' (set source.media_root to allow another folder)'),
        fileAndLine(row),
      );
    }
    inputs.push({ path: absolute, mimeType: mimeTypeOf(absolute) });
  }
  return inputs;
}

/** The folder media paths are confined to, resolved once. */
class MediaRoot {
  private readonly lexical: string;
  private real: Promise<string> | undefined;
  readonly described: string;

  constructor(config: TableSourceConfig) {
    this.lexical = config.media_root ?? dirname(config.path);
    this.described = config.media_root ? `source.media_root (${this.lexical})` : "the data file's folder";
  }

  /** Where `path` leads when that is outside the root (as written, or after links), else undefined. */
  async escape(path: string): Promise<{ target: string; root: string } | undefined> {
    if (!inside(this.lexical, path)) return { target: path, root: this.lexical };
    this.real ??= realpath(this.lexical);
    const root = await this.real;
    // A missing file cannot be read yet; the request build reports it when it is needed.
    const target = await realpath(path).catch(() => undefined);
    if (target !== undefined && !inside(root, target)) return { target, root };
    return undefined;
  }
}

/** True when `path` is `root` or below it. */
function inside(root: string, path: string): boolean {
  const rest = relative(root, path);
  return rest === '' || (rest.split(sep)[0] !== '..' && !isAbsolute(rest));
}

/** `data.jsonl line 12` (or `data.json[3]` for an array item), as messages name a row. */
function place(row: TableRow): string {
  return row.line === undefined ? row.where : `${row.file} line ${row.line}`;
}

function fileAndLine(row: TableRow): { file: string; line?: number } {
  return row.line === undefined ? { file: row.file } : { file: row.file, line: row.line };
}
