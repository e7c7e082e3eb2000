import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportOutputsParquet } from '../../src/outputs/export-parquet.js';
import {
  exportOutputs,
  OutputCorruptError,
  OutputStore,
  type OutputDocument,
} from '../../src/outputs/index.js';
import { outputDocument } from '../fixtures/output-document.js';

/** A run's document, completed `attempt` seconds after 10:00 on 6 December (each row's own time). */
function documentFor(id: string, output: unknown, attempt = 1): OutputDocument {
  const document = outputDocument(id, output, attempt);
  return { ...document, meta: { ...document.meta, completedAt: `2026-12-06T10:00:0${attempt % 10}.250Z` } };
}

/** Exports `store` to a Parquet file at `path`; returns the count. */
async function exportTo(store: OutputStore, path: string, rowGroupRows?: number): Promise<number> {
  const out = createWriteStream(path);
  const count =
    rowGroupRows === undefined
      ? await exportOutputs(store, 'parquet', out)
      : await exportOutputsParquet(store, out, { rowGroupRows });
  out.end();
  await finished(out);
  return count;
}

// A Parquet export read back by a separate reader (hyparquet), against the output files on disk.
describe('exportOutputs as Parquet', () => {
  let dir: string;
  let store: OutputStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wb-parquet-'));
    store = new OutputStore(join(dir, 'out'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes the CSV export's columns, typed: the output as JSON, tokens as integers, the time as a timestamp", async () => {
    await store.write(
      'b/p1',
      documentFor('b/p1', { courses: ['Latin, "advanced"'], carry_over: 'line\nbreak' }),
    );
    await store.write('a/p1', documentFor('a/p1', 'plain text', 3));
    const path = join(dir, 'outputs.parquet');
    expect(await exportTo(store, path)).toBe(2);

    const file = await asyncBufferFromFile(path);
    const schema = parquetSchema(await parquetMetadataAsync(file));
    expect(schema.children.map((column) => [column.element.name, column.element.type])).toEqual([
      ['id', 'BYTE_ARRAY'],
      ['output', 'BYTE_ARRAY'],
      ['prompt_name', 'BYTE_ARRAY'],
      ['prompt_version', 'BYTE_ARRAY'],
      ['prompt_hash', 'BYTE_ARRAY'],
      ['model', 'BYTE_ARRAY'],
      ['job', 'BYTE_ARRAY'],
      ['attempt', 'INT32'],
      ['input_tokens', 'INT64'],
      ['output_tokens', 'INT64'],
      ['completed_at', 'INT64'],
    ]);
    expect(schema.children[1]?.element.converted_type).toBe('JSON');
    expect(schema.children[10]?.element.converted_type).toBe('TIMESTAMP_MILLIS');

    const rows = (await parquetReadObjects({ file })).sort((x, y) =>
      String(x.id).localeCompare(String(y.id)),
    );
    expect(rows).toEqual([
      {
        id: 'a/p1',
        output: 'plain text',
        prompt_name: 'page',
        prompt_version: 'v1',
        prompt_hash: 'a'.repeat(64),
        model: 'gemini-2.5-flash',
        job: 'batches/123',
        attempt: 3,
        input_tokens: 120n,
        output_tokens: 45n,
        completed_at: new Date('2026-12-06T10:00:03.250Z'),
      },
      expect.objectContaining({
        id: 'b/p1',
        output: { courses: ['Latin, "advanced"'], carry_over: 'line\nbreak' },
        attempt: 1,
        completed_at: new Date('2026-12-06T10:00:01.250Z'),
      }),
    ]);
  });

  it('streams a row group at a time, each written out before the next is read', async () => {
    for (let page = 0; page < 7; page++)
      await store.write(`book/p${page}`, documentFor(`book/p${page}`, { page }));
    // Each chunk the export writes, and how many documents the sink had handed out by then.
    const chunks: Array<{ bytes: number; documentsRead: number }> = [];
    let documentsRead = 0;
    const counted: Pick<OutputStore, 'documents'> = {
      async *documents() {
        for await (const document of store.documents()) {
          documentsRead++;
          yield document;
        }
      },
    };
    const parts: Buffer[] = [];
    const out = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _encoding, done) {
        chunks.push({ bytes: chunk.length, documentsRead });
        parts.push(chunk);
        setImmediate(done);
      },
    });
    expect(await exportOutputsParquet(counted, out, { rowGroupRows: 3 })).toBe(7);
    out.end();
    await finished(out);
    // The header, then a group after the 3rd and 6th documents, then the last group, then the footer.
    expect(chunks.map((chunk) => chunk.documentsRead)).toEqual([0, 3, 6, 7, 7]);

    const path = join(dir, 'streamed.parquet');
    writeFileSync(path, Buffer.concat(parts));
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file);
    expect(metadata.row_groups.map((group) => Number(group.num_rows))).toEqual([3, 3, 1]);
    const rows = await parquetReadObjects({ file, columns: ['id', 'output'] });
    expect(rows.map((row) => (row.output as { page: number }).page).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('leaves fields a document lacks empty (null), and writes a valid empty file when there are no outputs', async () => {
    const bare = { id: 'x', output: null, meta: { completedAt: 'not a time' } } as unknown as OutputDocument;
    const path = join(dir, 'bare.parquet');
    const out = createWriteStream(path);
    expect(
      await exportOutputsParquet(
        {
          documents: async function* () {
            yield bare;
          },
        },
        out,
      ),
    ).toBe(1);
    out.end();
    await finished(out);
    expect(await parquetReadObjects({ file: await asyncBufferFromFile(path) })).toEqual([
      {
        id: 'x',
        output: null,
        prompt_name: null,
        prompt_version: null,
        prompt_hash: null,
        model: null,
        job: null,
        attempt: null,
        input_tokens: null,
        output_tokens: null,
        completed_at: null,
      },
    ]);

    const empty = join(dir, 'empty.parquet');
    expect(await exportTo(store, empty)).toBe(0);
    const file = await asyncBufferFromFile(empty);
    expect(Number((await parquetMetadataAsync(file)).num_rows)).toBe(0);
    expect(await parquetReadObjects({ file })).toEqual([]);
  });

  it('stops with OUTPUT_CORRUPT at a corrupt output file, as the other formats do', async () => {
    await store.write('a/p1', documentFor('a/p1', 'fine'));
    writeFileSync(store.pathFor('a/p2'), '{ not json');
    await expect(exportTo(store, join(dir, 'broken.parquet'))).rejects.toBeInstanceOf(OutputCorruptError);
  });
});
