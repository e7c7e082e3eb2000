import { capText } from './capped-text.js';
import { nonBlankLines } from '../jsonl/lines.js';

/** One line of a batch results file: a key with a response or an error, or a line that could not be read. */
export interface ResultLine {
  lineNumber: number;
  key?: string;
  response?: unknown;
  error?: unknown;
  malformed: boolean;
  /** The line as read, capped at MAX_RAW_LINE_BYTES. */
  raw: string;
}

/** Cap on the raw text kept per line (it is stored with failures; a broken 50 MB line must not be). */
export const MAX_RAW_LINE_BYTES = 64 * 1024;

/** Recovers the key of a line whose JSON is broken, so its record can be failed by name. */
const LEADING_KEY = /^\s*\{\s*"key"\s*:\s*"((?:[^"\\]|\\.){1,2048})"/;

/**
 * Streams a batch results JSONL file line by line (never whole in memory). Blank lines are skipped;
 * lines that are not a JSON object with a `response` or an `error` come back as `malformed`.
 */
export async function* readResultLines(path: string): AsyncIterable<ResultLine> {
  // The API's bytes, not the user's: a damaged line is judged (malformed) by its JSON, not refused.
  for await (const { text, lineNumber } of nonBlankLines(path, { utf8: 'replace' }))
    yield parseResultLine(text, lineNumber);
}

/** Parses one non-blank line of a results file. */
export function parseResultLine(text: string, lineNumber: number): ResultLine {
  const raw = capText(text, MAX_RAW_LINE_BYTES);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return malformed(text, raw, lineNumber);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return malformed(text, raw, lineNumber);
  const record = value as Record<string, unknown>;
  // Built by assignment, not spread: this runs once per result of a million-record job.
  const line: ResultLine = { lineNumber, malformed: false, raw };
  const key = record.key;
  if (typeof key === 'string') line.key = key;
  else if (typeof key === 'number') line.key = String(key);
  const { response, error } = record;
  const hasResponse = response !== undefined && response !== null;
  const hasError = error !== undefined && error !== null;
  if (!hasResponse && !hasError) line.malformed = true;
  if (hasResponse) line.response = response;
  if (hasError) line.error = error;
  return line;
}

function malformed(text: string, raw: string, lineNumber: number): ResultLine {
  const match = LEADING_KEY.exec(text);
  let key: string | undefined;
  if (match) {
    try {
      key = JSON.parse(`"${match[1]}"`) as string;
    } catch {
      key = undefined;
    }
  }
  return { lineNumber, ...(key === undefined ? {} : { key }), malformed: true, raw };
}
