import { RecordIdError } from './errors.js';

const MAX_LENGTH = 200;
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Returns `id` when it can name an output file (`<outputs>/<id>.json`) without escaping the output
 * folder or colliding with hidden temp files; otherwise throws RecordIdError naming `where`.
 */
export function validateRecordId(id: string, where: string): string {
  if (typeof id !== 'string')
    throw new RecordIdError(String(id), where, `it is a ${typeof id}, not a string`);
  const reason = problem(id);
  if (reason) throw new RecordIdError(id, where, reason);
  return id;
}

function problem(id: string): string | undefined {
  if (id.length === 0) return 'it is empty';
  if (id.length > MAX_LENGTH) return `it is longer than ${MAX_LENGTH} characters`;
  if (CONTROL.test(id)) return 'it contains a control character';
  if (id.includes('\\')) return "it contains '\\' (use '/' between folders)";
  if (id.startsWith('/')) return 'it is an absolute path';
  for (const segment of id.split('/')) {
    if (segment === '') return "it has an empty segment (a trailing or doubled '/')";
    if (segment === '.' || segment === '..')
      return `its segment ${JSON.stringify(segment)} would leave the output folder`;
    if (segment.startsWith('.')) return `its segment ${JSON.stringify(segment)} starts with '.'`;
    if (!SEGMENT.test(segment))
      return `its segment ${JSON.stringify(segment)} has characters other than letters, digits, '_', '.' and '-'`;
  }
  return undefined;
}
