import { once } from 'node:events';
import { redact, redactNullable } from '../secrets/redact.js';
import type { FailureRow } from '../store/store.js';

/** Formats failures can be exported in. */
export type FailureExportFormat = 'csv' | 'jsonl';

/** The CSV columns, in order: every field of a failure row (`requestId`, added with the synchronous lanes, last). */
export const FAILURE_CSV_COLUMNS = [
  'at',
  'recordId',
  'jobId',
  'attempt',
  'cause',
  'final',
  'message',
  'promptName',
  'promptVersion',
  'promptHash',
  'raw',
  'requestId',
] as const satisfies ReadonlyArray<keyof FailureRow>;

/**
 * `final` as `true`/`false`, as the JSON says it: csv-stringify's default wrote 1 for true and
 * nothing at all for false.
 */
const CSV_OPTIONS = { cast: { boolean: (value: boolean) => String(value) } };

/** Writes failures as CSV (with a header) or JSON Lines, waiting on backpressure; returns how many. */
export async function writeFailures(
  rows: Iterable<FailureRow>,
  format: FailureExportFormat,
  out: NodeJS.WritableStream,
): Promise<number> {
  // The CSV encoder loads on first use, not with every command that reaches the service.
  const { stringify } = await import('csv-stringify/sync');
  let count = 0;
  if (format === 'csv') await send(out, stringify([[...FAILURE_CSV_COLUMNS]]));
  for (const stored of rows) {
    // The store redacts too; an export is a boundary of its own, so it does not rely on that.
    const row = { ...stored, message: redact(stored.message), raw: redactNullable(stored.raw) };
    await send(
      out,
      format === 'jsonl'
        ? `${JSON.stringify(row)}\n`
        : stringify([FAILURE_CSV_COLUMNS.map((column) => row[column])], CSV_OPTIONS),
    );
    count++;
  }
  return count;
}

async function send(out: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}
