import { once } from 'node:events';
import type { OutputSink } from '../outputs/index.js';
import type { StoredRecord } from '../store/store.js';

/** One chain: its records in position order. */
export interface ChainRecords {
  chainId: string;
  records: StoredRecord[];
}

/** The columns of a per-chain CSV, fixed by the config before the first row is written. */
export interface ChainColumns {
  /** Variables every record of a chain shares, e.g. a directory source's level names. */
  levels: string[];
  /** Top-level fields of the response schema; empty when it names none (one `outputs` column instead). */
  fields: string[];
}

/**
 * Writes one CSV row per chain: its id, level values, counts, and per output field the chain's
 * values merged in page order (arrays concatenated, anything else listed), as JSON. A long catalog
 * becomes one row with all its courses. One chain's outputs are in memory at a time.
 */
export async function writeChainCsv(
  chains: AsyncIterable<ChainRecords>,
  outputs: Pick<OutputSink, 'read'>,
  columns: ChainColumns,
  out: NodeJS.WritableStream,
): Promise<number> {
  // The CSV encoder loads on first use, not with every command that reaches the service.
  const { stringify } = await import('csv-stringify/sync');
  const valueColumns = columns.fields.length > 0 ? columns.fields : ['outputs'];
  await send(
    out,
    stringify([['chain', ...columns.levels, 'records', 'done', 'dead', 'complete', ...valueColumns]]),
  );
  let count = 0;
  for await (const chain of chains) {
    const documents = [];
    for (const record of chain.records) {
      documents.push(
        record.status === 'done'
          ? ((await outputs.read(record.id, record.output ?? null))?.output ?? null)
          : null,
      );
    }
    await send(out, stringify([chainRow(chain, documents, columns)]));
    count++;
  }
  return count;
}

/** Pure: the CSV cells of one chain from its records and their outputs (null where there is none). */
export function chainRow(chain: ChainRecords, outputs: readonly unknown[], columns: ChainColumns): string[] {
  const first = chain.records[0];
  const done = chain.records.filter((record) => record.status === 'done').length;
  const dead = chain.records.filter((record) => record.status === 'dead').length;
  const levels = columns.levels.map((level) => {
    const value = first?.vars[level];
    return value === undefined || value === null ? '' : String(value);
  });
  const present = outputs.filter((output) => output !== null);
  const values =
    columns.fields.length === 0
      ? [JSON.stringify(outputs)]
      : columns.fields.map((field) => JSON.stringify(merged(present, field)));
  return [
    chain.chainId,
    ...levels,
    String(chain.records.length),
    String(done),
    String(dead),
    String(done === chain.records.length),
    ...values,
  ];
}

/** A field across a chain's outputs: arrays concatenated, other values listed in order. */
function merged(outputs: readonly unknown[], field: string): unknown[] {
  const values = outputs
    .map((output) =>
      output !== null && typeof output === 'object' ? (output as Record<string, unknown>)[field] : undefined,
    )
    .filter((value) => value !== undefined);
  return values.every(Array.isArray) ? values.flat() : values;
}

async function send(out: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}
