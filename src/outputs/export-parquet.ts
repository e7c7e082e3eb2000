import { once } from 'node:events';
import { ByteWriter, ParquetWriter, type ColumnSource, type SchemaElement } from 'hyparquet-writer';
import type { OutputDocument } from './output-store.js';
import type { OutputSink } from './sink.js';

/**
 * Rows a row group holds at most, and the output text (in UTF-16 units, as JSON) after which a group
 * is written sooner: a group is held in memory column by column until it is encoded, so both bound
 * the export's memory whatever the workload's size or its outputs' length.
 */
export const PARQUET_ROW_GROUP_ROWS = 50_000;
const ROW_GROUP_OUTPUT_CHARS = 32 * 1024 * 1024;

/** The CSV export's columns, typed: text as UTF-8 strings, the output as a JSON column, the time as a timestamp. */
const COLUMNS = [
  { name: 'id', type: 'STRING', required: true, of: (d) => d.id },
  { name: 'output', type: 'JSON', required: false, of: (d) => d.output ?? null },
  { name: 'prompt_name', type: 'STRING', required: false, of: (d) => d.meta.prompt?.name ?? null },
  { name: 'prompt_version', type: 'STRING', required: false, of: (d) => d.meta.prompt?.version ?? null },
  { name: 'prompt_hash', type: 'STRING', required: false, of: (d) => d.meta.prompt?.hash ?? null },
  { name: 'model', type: 'STRING', required: false, of: (d) => d.meta.model ?? null },
  { name: 'job', type: 'STRING', required: false, of: (d) => d.meta.job ?? null },
  { name: 'attempt', type: 'INT32', required: false, of: (d) => d.meta.attempt ?? null },
  { name: 'input_tokens', type: 'INT64', required: false, of: (d) => bigint(d.meta.usage?.inputTokens) },
  { name: 'output_tokens', type: 'INT64', required: false, of: (d) => bigint(d.meta.usage?.outputTokens) },
  { name: 'completed_at', type: 'TIMESTAMP', required: false, of: (d) => timestamp(d.meta.completedAt) },
] as const satisfies ReadonlyArray<{
  name: string;
  type: 'STRING' | 'JSON' | 'INT32' | 'INT64' | 'TIMESTAMP';
  required: boolean;
  of: (document: OutputDocument) => unknown;
}>;

const SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: COLUMNS.length },
  ...COLUMNS.map((column): SchemaElement => {
    const repetition_type = column.required ? 'REQUIRED' : 'OPTIONAL';
    switch (column.type) {
      case 'STRING':
        return { name: column.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type };
      case 'JSON':
        return { name: column.name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type };
      case 'INT32':
        return { name: column.name, type: 'INT32', repetition_type };
      case 'INT64':
        return { name: column.name, type: 'INT64', repetition_type };
      case 'TIMESTAMP':
        return { name: column.name, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type };
    }
  }),
];

/**
 * Streams every output document of a sink to `out` as one Parquet file (the CSV export's columns),
 * a row group at a time: the documents of one group are held, encoded, written with backpressure and
 * dropped before the next are read. Returns how many were written; a corrupt file or line stops the
 * export with OUTPUT_CORRUPT, as the other formats do.
 */
export async function exportOutputsParquet(
  sink: Pick<OutputSink, 'documents'>,
  out: NodeJS.WritableStream,
  { rowGroupRows = PARQUET_ROW_GROUP_ROWS }: { rowGroupRows?: number } = {},
): Promise<number> {
  const bytes = new ByteWriter(1024 * 1024);
  const parquet = new ParquetWriter({ writer: bytes, schema: SCHEMA, createdBy: 'wavebatch' });
  // What the writer encoded so far goes to `out`, and its buffer starts again (its `offset` keeps
  // counting the file's bytes, which the footer's row group offsets are taken from).
  const drain = async (): Promise<void> => {
    if (bytes.index === 0) return;
    const chunk = Buffer.from(bytes.getBytes());
    bytes.index = 0;
    if (!out.write(chunk)) await once(out, 'drain');
  };
  let group: Array<unknown[]> = COLUMNS.map(() => []);
  let rows = 0;
  let outputChars = 0;
  let count = 0;
  const writeGroup = async (): Promise<void> => {
    if (rows === 0) return;
    const columnData: ColumnSource[] = COLUMNS.map((column, index) => ({
      name: column.name,
      data: group[index] as ColumnSource['data'],
    }));
    await parquet.write({ columnData, rowGroupSize: rows });
    group = COLUMNS.map(() => []);
    rows = 0;
    outputChars = 0;
    await drain();
  };
  await drain();
  for await (const document of sink.documents()) {
    COLUMNS.forEach((column, index) => group[index]!.push(column.of(document)));
    rows++;
    count++;
    outputChars += JSON.stringify(document.output ?? null).length;
    if (rows >= rowGroupRows || outputChars >= ROW_GROUP_OUTPUT_CHARS) await writeGroup();
  }
  await writeGroup();
  parquet.finish();
  await drain();
  return count;
}

function bigint(value: number | undefined): bigint | null {
  return value === undefined ? null : BigInt(value);
}

/** The document's completion time; an unreadable one (a hand-edited file) is left empty, not guessed. */
function timestamp(value: string | undefined): Date | null {
  if (value === undefined) return null;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? null : at;
}
