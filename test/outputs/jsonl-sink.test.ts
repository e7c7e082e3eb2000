import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  exportOutputs,
  FilesSink,
  JsonlSink,
  ManifestUnwritableError,
  OutputSinkChangedError,
  ShardCorruptError,
  type OutputDocument,
  type ShardManifest,
} from '../../src/outputs/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { WorkloadRecord } from '../../src/workload/record.js';

function documentFor(id: string): OutputDocument {
  return {
    id,
    output: { carry_over: `after ${id}`, courses: ['Latin 101 — “é”'] },
    meta: {
      prompt: { name: 'page', version: 'v1', hash: 'a'.repeat(64) },
      model: 'gemini-2.5-flash',
      job: 'batches/1',
      attempt: 0,
      usage: { inputTokens: 10, outputTokens: 5 },
      completedAt: '2026-01-01T00:00:00.000Z',
    },
  };
}

async function* stream(records: WorkloadRecord[]): AsyncIterable<WorkloadRecord> {
  yield* records;
}

const IDS = Array.from({ length: 10 }, (_, index) => `book${index % 2}/p${index}`);

/** Reads the outputs as an outside reader would: the manifest's shards up to their committed bytes. */
function readByManifest(root: string): OutputDocument[] {
  const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as ShardManifest;
  expect(manifest).toMatchObject({ format: 'wavebatch-jsonl-outputs', version: 1 });
  const documents: OutputDocument[] = [];
  for (const shard of manifest.shards) {
    const text = readFileSync(join(root, shard.file)).subarray(0, shard.bytes).toString('utf8');
    for (const line of text.split('\n').filter((l) => l !== ''))
      documents.push(JSON.parse(line) as OutputDocument);
  }
  return documents;
}

describe('JsonlSink over the SQLite store', () => {
  let dir: string;
  let root: string;
  let store: SqliteStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-jsonl-sink-'));
    root = join(dir, 'out');
    store = new SqliteStore({ path: join(dir, 'state.db') });
    await store.syncRecords(() =>
      stream(IDS.map((id, index) => ({ id, chainId: id, position: index, vars: {}, media: [] }))),
    );
    await store.linkChains();
    await store.refreshReadiness();
    const members = IDS.map((recordId) => ({ recordId, attempt: 0, promptHash: 'h', estimatedTokens: 1 }));
    await store.createJobIntent({ id: 'job1', model: 'm', kind: 'file', members });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes the documents as one group and commits their completions with the shard length. */
  async function complete(sink: JsonlSink, ids: string[]): Promise<void> {
    const written = await sink.writeGroup(ids.map(documentFor));
    const successes = ids.map((recordId, index) => ({
      recordId,
      jobId: 'job1',
      inputTokens: 10,
      outputTokens: 5,
      location: written.locations[index] ?? null,
    }));
    expect(await store.completeRecords(successes, written.commit)).toBe(ids.length);
  }

  it('appends groups to shards, reads each line by its stored location, and lists it in the manifest', async () => {
    const sink = new JsonlSink({ root, index: store, shardBytes: 600 });
    await sink.recover();
    await complete(sink, IDS.slice(0, 3));
    await complete(sink, IDS.slice(3, 6));
    await complete(sink, IDS.slice(6));
    await sink.close();

    // Groups never split: a shard closes once past 600 bytes, so three groups make at least two shards.
    const shards = readdirSync(root).filter((name) => name.endsWith('.jsonl'));
    expect(shards.length).toBeGreaterThanOrEqual(2);
    expect(readByManifest(root)).toEqual(IDS.map(documentFor));

    const reader = new JsonlSink({ root, index: store });
    const [located] = await store.shardOutputs(1, -1, 1);
    expect(located?.id).toBe(IDS[0]);
    expect(await reader.read(IDS[0] as string, located?.location ?? null)).toEqual(
      documentFor(IDS[0] as string),
    );
    const exported: OutputDocument[] = [];
    for await (const document of reader.documents()) exported.push(document);
    expect(exported).toEqual(IDS.map(documentFor));
    await reader.close();
  });

  it('reads many lines together, across shards and in any order asked, each as it reads alone; a damaged one throws', async () => {
    const sink = new JsonlSink({ root, index: store, shardBytes: 600 });
    await sink.recover();
    await complete(sink, IDS.slice(0, 4));
    await complete(sink, IDS.slice(4));
    const located = new Map(
      (await store.listRecords({})).map((record) => [record.id, record.output ?? null] as const),
    );
    expect(new Set([...located.values()].map((location) => location?.shard)).size).toBe(2);
    const wanted = [...IDS].reverse().map((id) => ({ id, location: located.get(id) ?? null }));
    const read: Array<[string, OutputDocument | null]> = [];
    for await (const { id, document } of sink.readMany([...wanted, { id: 'never-done', location: null }]))
      read.push([id, document]);
    // Nothing located first, then by shard and offset: the order the lines were written in.
    expect(read).toEqual([['never-done', null], ...IDS.map((id) => [id, documentFor(id)])]);
    for (const { id, location } of wanted) expect(await sink.read(id, location)).toEqual(documentFor(id));

    // A line changed in place: the document read there is not the one asked for.
    const [first, second] = wanted.slice(-2);
    const swapped = [{ id: first?.id as string, location: second?.location ?? null }];
    await expect(async () => {
      for await (const entry of sink.readMany(swapped)) expect(entry).toBeUndefined();
    }).rejects.toThrow(ShardCorruptError);
    await sink.close();
  });

  it('reads the outputs alone as readMany reads the documents, whatever the output holds; a line in another shape is read whole, a damaged one throws', async () => {
    const sink = new JsonlSink({ root, index: store });
    await sink.recover();
    // Outputs that hold what the metadata starts with, quotes and a null: each must come back as written.
    const outputs: unknown[] = [
      { meta: { a: 1 }, note: ',"meta":{"x":1}}' },
      ',"meta":',
      null,
      [{ meta: null }],
      'plain',
    ];
    const ids = IDS.slice(0, outputs.length);
    const documents = ids.map((id, index) => ({ ...documentFor(id), output: outputs[index] }));
    const written = await sink.writeGroup(documents);
    await store.completeRecords(
      ids.map((recordId, index) => ({
        recordId,
        jobId: 'job1',
        inputTokens: 10,
        outputTokens: 5,
        location: written.locations[index] ?? null,
      })),
      written.commit,
    );
    const wanted = ids.map((id, index) => ({ id, location: written.locations[index] ?? null }));
    const readAll = async (asked: typeof wanted) => {
      const read = new Map<string, unknown>();
      for await (const { id, output } of sink.readOutputs(asked)) read.set(id, output);
      return read;
    };
    const expected = new Map(ids.map((id, index) => [id, outputs[index]]));
    expect(await readAll([...wanted, { id: 'never-done', location: null }])).toEqual(expected);

    // The same lines with their keys in another order (same lengths): read whole, the same outputs.
    const path = join(root, 'part-000001.jsonl');
    const reordered = readFileSync(path, 'utf8')
      .split('\n')
      .map((line) => {
        if (line === '') return line;
        const { id, output, meta } = JSON.parse(line) as OutputDocument;
        return JSON.stringify({ meta, id, output });
      });
    writeFileSync(path, reordered.join('\n'));
    expect(await readAll(wanted)).toEqual(expected);

    // Another record's line at the location asked: not the document asked for.
    const swapped = [{ id: ids[0] as string, location: written.locations[1] ?? null }];
    await expect(readAll(swapped)).rejects.toThrow(ShardCorruptError);
    await sink.close();
  });

  it('a group written but not committed in the store (a crash in between) is cut at start-up', async () => {
    let sink = new JsonlSink({ root, index: store });
    await sink.recover();
    await complete(sink, IDS.slice(0, 4));
    // The next group reaches the disk, then the process dies before the store transaction.
    await sink.writeGroup(IDS.slice(4, 8).map(documentFor));
    const committed = (await store.committedShards())[0]?.bytes;
    expect(statSync(join(root, 'part-000001.jsonl')).size).toBeGreaterThan(committed ?? 0);

    sink = new JsonlSink({ root, index: store });
    expect(await sink.recover()).toEqual({ markedDone: 0, reopened: 0 });
    expect(statSync(join(root, 'part-000001.jsonl')).size).toBe(committed);
    // The records are still in flight: applying their results again writes each line once.
    await complete(sink, IDS.slice(4));
    await sink.close();
    const ids = readByManifest(root).map((document) => document.id);
    expect(ids).toEqual(IDS);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a shard cut short reopens the records whose lines it lost; a torn tail after a crash is ignored', async () => {
    let sink = new JsonlSink({ root, index: store });
    await sink.recover();
    await complete(sink, IDS.slice(0, 5));
    await sink.close();
    const path = join(root, 'part-000001.jsonl');
    const lines = readFileSync(path, 'utf8').split('\n');
    const keep = Buffer.byteLength(`${lines.slice(0, 3).join('\n')}\n`);
    truncateSync(path, keep + 7);

    sink = new JsonlSink({ root, index: store });
    expect(await sink.recover()).toEqual({ markedDone: 0, reopened: 2 });
    expect(statSync(path).size).toBe(keep);
    expect((await store.getRecord(IDS[3] as string))?.status).toBe('blocked');
    expect((await store.getRecord(IDS[2] as string))?.status).toBe('done');
    await sink.close();
    expect(readByManifest(root).map((document) => document.id)).toEqual(IDS.slice(0, 3));
  });

  it('after a reset the shards are adopted: their records count as done, a torn last line does not', async () => {
    let sink = new JsonlSink({ root, index: store });
    await sink.recover();
    await complete(sink, IDS.slice(0, 6));
    await sink.close();
    appendFileSync(join(root, 'part-000001.jsonl'), '{"id":"book0/p8","outp');
    await store.reset();
    await store.syncRecords(() =>
      stream(IDS.map((id, index) => ({ id, chainId: id, position: index, vars: {}, media: [] }))),
    );
    await store.linkChains();

    sink = new JsonlSink({ root, index: store });
    expect(await sink.recover()).toEqual({ markedDone: 6, reopened: 0 });
    expect((await store.counts()).done).toBe(6);
    expect((await store.getRecord('book0/p8'))?.status).not.toBe('done');
    const exported: string[] = [];
    for await (const document of sink.documents()) exported.push(document.id);
    expect(exported).toEqual(IDS.slice(0, 6));
    await sink.close();
  });

  it('exports JSONL from the shards through the same export as the files sink', async () => {
    const sink = new JsonlSink({ root, index: store });
    await sink.recover();
    await complete(sink, IDS.slice(0, 2));
    const chunks: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
    expect(await exportOutputs(sink, 'jsonl', out)).toBe(2);
    expect(
      chunks
        .join('')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual(IDS.slice(0, 2).map(documentFor));
    await sink.close();
  });

  it('refuses to switch sinks while records are done in the other one', async () => {
    const sink = new JsonlSink({ root, index: store });
    await sink.recover();
    await complete(sink, IDS.slice(0, 1));
    await sink.close();
    const files = new FilesSink(join(dir, 'files'), store);
    const refusal = await files.recover().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(OutputSinkChangedError);
    expect((refusal as OutputSinkChangedError).code).toBe('CONFIG_OUTPUT_SINK_CHANGED');
    expect((refusal as Error).message).toMatch(/outputs\.sink back to jsonl/);
    // Nothing changed: the JSONL sink still opens, its record still done.
    expect(await new JsonlSink({ root, index: store }).recover()).toEqual({ markedDone: 0, reopened: 0 });
    expect((await store.getRecord(IDS[0] as string))?.status).toBe('done');
  });

  it('warns once about a manifest it cannot write and writes it at a later checkpoint; without `warn` it throws OUTPUT_MANIFEST_UNWRITABLE', async () => {
    const manifest = join(root, 'manifest.json');
    mkdirSync(manifest, { recursive: true });
    const refusal = await new JsonlSink({ root, index: store }).recover().catch((error: unknown) => error);
    expect(ManifestUnwritableError.isInstance(refusal)).toBe(true);
    expect((refusal as ManifestUnwritableError).code).toBe('OUTPUT_MANIFEST_UNWRITABLE');
    expect((refusal as Error).message).toContain(
      `The JSONL manifest ${manifest} could not be written (EISDIR`,
    );

    const warnings: string[] = [];
    const sink = new JsonlSink({ root, index: store, warn: (message) => warnings.push(message) });
    await sink.recover();
    await complete(sink, IDS.slice(0, 2));
    await sink.checkpoint();
    expect(warnings).toHaveLength(1);
    rmSync(manifest, { recursive: true });
    await sink.checkpoint();
    expect(readByManifest(root).map((document) => document.id)).toEqual(IDS.slice(0, 2));
    await sink.close();
  });
});
