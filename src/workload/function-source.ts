import { isAbsolute, resolve } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { capText } from '../results/capped-text.js';
import { SourceError } from './errors.js';
import type { MediaInput, RecordVars, SourceRecord, WorkloadRecord } from './record.js';
import { validateRecordId } from './record-id.js';

/**
 * Streams a TypeScript config's source function, checking every record it yields (ids especially:
 * they become file paths). Relative media paths resolve against `baseFolder` (the config's folder).
 * A record with a `chainId` but no `position` takes its order of appearance in that chain, as in a
 * table source (one counter per such chain is the only state kept).
 */
export async function* functionRecords(
  records: () => AsyncIterable<SourceRecord>,
  baseFolder: string,
): AsyncGenerator<WorkloadRecord> {
  let index = 0;
  const seenPerChain = new Map<string, number>();
  const nextPosition = (chainId: string) => {
    const position = seenPerChain.get(chainId) ?? 0;
    seenPerChain.set(chainId, position + 1);
    return position;
  };
  const produced = iterate(records, () => index);
  for await (const record of produced) {
    index++;
    yield checkRecord(record as unknown, `the source function (record ${index})`, baseFolder, nextPosition);
    // A generator whose records are ready at once (no I/O) never let the event loop run: Ctrl-C and
    // SIGTERM went unheard, and one that never ends could only be killed (-9).
    if (index % TURN_EVERY === 0) await nextTurn();
  }
}

/** Records yielded between two turns of the event loop. */
const TURN_EVERY = 256;

/** The function's records, whatever it throws told as SOURCE_FUNCTION_FAILED naming where it was. */
async function* iterate(
  records: () => AsyncIterable<SourceRecord>,
  yielded: () => number,
): AsyncGenerator<SourceRecord> {
  try {
    yield* records();
  } catch (error) {
    const after = yielded();
    throw new SourceError(
      'SOURCE_FUNCTION_FAILED',
      `the source function failed ${after === 0 ? 'before its first record' : `after record ${after}`}: ` +
        thrownMessage(error),
      { cause: error },
    );
  }
}

/** The first line of what was thrown (anything can be), cut to 1,000 bytes. */
function thrownMessage(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return capText(text.split('\n')[0] ?? '', 1000);
}

function checkRecord(
  value: unknown,
  where: string,
  baseFolder: string,
  nextPosition: (chainId: string) => number,
): WorkloadRecord {
  const invalid = (what: string) => new SourceError('SOURCE_INVALID_RECORD', `${where}: ${what}`);
  if (typeof value !== 'object' || value === null)
    throw invalid('expected a record object { id, chainId, position, vars, media }');
  const record = value as Partial<Record<keyof WorkloadRecord, unknown>>;
  if (typeof record.id !== 'string') throw invalid('`id` must be a string');
  const id = validateRecordId(record.id, where);
  const chainId = record.chainId ?? id;
  if (typeof chainId !== 'string' || chainId === '') throw invalid('`chainId` must be a non-empty string');
  const position = record.position ?? (record.chainId === undefined ? 0 : nextPosition(chainId));
  if (typeof position !== 'number' || !Number.isFinite(position))
    throw invalid('`position` must be a finite number');
  const vars = record.vars ?? {};
  if (typeof vars !== 'object' || vars === null || Array.isArray(vars))
    throw invalid('`vars` must be an object');
  for (const [name, item] of Object.entries(vars)) {
    if (item !== null && !['string', 'number', 'boolean'].includes(typeof item))
      throw invalid(`vars.${name} must be a string, number, boolean or null`);
  }
  const media = record.media ?? [];
  if (!Array.isArray(media)) throw invalid('`media` must be a list of { path, mimeType }');
  const checkedMedia = media.map((item: unknown): MediaInput => {
    const entry = item as Partial<MediaInput> | null;
    if (typeof entry?.path !== 'string' || typeof entry.mimeType !== 'string')
      throw invalid('each media entry must be { path, mimeType } strings');
    return {
      path: isAbsolute(entry.path) ? entry.path : resolve(baseFolder, entry.path),
      mimeType: entry.mimeType,
    };
  });
  return { id, chainId, position, vars: vars as RecordVars, media: checkedMedia, origin: where };
}
