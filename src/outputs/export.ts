import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { OutputStore, type OutputDocument } from './output-store.js';
import type { OutputSink } from './sink.js';
import { makeFolder } from '../make-folder.js';

/**
 * Export formats: one JSON document per line, a flat CSV with the output as a JSON cell, or a
 * Parquet file with the CSV's columns (binary).
 */
export type ExportFormat = 'jsonl' | 'csv' | 'parquet';

/** Characters sent to the export at a time when its stream does not say its buffer's size. */
const DEFAULT_BUFFER_BYTES = 65_536;

const CSV_COLUMNS = [
  'id',
  'output',
  'prompt_name',
  'prompt_version',
  'prompt_hash',
  'model',
  'job',
  'attempt',
  'input_tokens',
  'output_tokens',
  'completed_at',
] as const;

/**
 * Streams every output document of a sink to `out`, a buffer's worth at a time with backpressure
 * (files in directory order, JSONL shards in shard order; Parquet a row group at a time). Returns how many were written; a corrupt
 * file or line stops the export with OUTPUT_CORRUPT.
 */
export async function exportOutputs(
  sink: Pick<OutputSink, 'documents'>,
  format: ExportFormat,
  out: NodeJS.WritableStream,
): Promise<number> {
  // The Parquet writer and the CSV encoder load here, for the format asked for: at the top, every
  // command that reaches the store (`status`, `run`) paid their start-up for an export it never made.
  if (format === 'parquet') return (await import('./export-parquet.js')).exportOutputsParquet(sink, out);
  const { stringify } = await import('csv-stringify/sync');
  let count = 0;
  if (format === 'csv') await send(out, stringify([[...CSV_COLUMNS]]));
  // Documents are sent a stream buffer's worth at a time: a write per document was a million writes
  // per million documents. A slow consumer still holds back the export after each send.
  const bufferBytes = (out as Partial<Writable>).writableHighWaterMark ?? DEFAULT_BUFFER_BYTES;
  let text = '';
  const flush = async (): Promise<void> => {
    if (text === '') return;
    const chunk = text;
    text = '';
    await send(out, chunk);
  };
  for await (const document of sink.documents()) {
    text += format === 'jsonl' ? `${JSON.stringify(document)}\n` : stringify([csvRow(document)]);
    count++;
    if (text.length >= bufferBytes) await flush();
  }
  await flush();
  return count;
}

/**
 * Writes each record's bare output (without wavebatch's metadata) as `<folder>/<id>.json`, the
 * layout of the output folder itself; returns how many. The folder must not be the output folder.
 */
export async function exportOutputFiles(
  sink: Pick<OutputSink, 'documents'>,
  folder: string,
): Promise<number> {
  const target = new OutputStore(folder);
  let count = 0;
  for await (const document of sink.documents()) {
    const path = target.pathFor(document.id);
    await makeFolder(dirname(path));
    await writeFile(path, `${JSON.stringify(document.output, null, 2)}\n`);
    count++;
  }
  return count;
}

function csvRow(document: OutputDocument): Array<string | number> {
  const meta = document.meta;
  return [
    document.id,
    JSON.stringify(document.output),
    meta.prompt?.name ?? '',
    meta.prompt?.version ?? '',
    meta.prompt?.hash ?? '',
    meta.model ?? '',
    meta.job ?? '',
    meta.attempt ?? '',
    meta.usage?.inputTokens ?? '',
    meta.usage?.outputTokens ?? '',
    meta.completedAt ?? '',
  ];
}

/** Writes a chunk and waits for 'drain' when the stream asks for it, so a large export never piles up in memory. */
async function send(out: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}
