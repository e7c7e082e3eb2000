import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  exportOutputs,
  OutputCorruptError,
  OutputPathError,
  OutputStore,
  type OutputDocument,
} from '../../src/outputs/index.js';
import { outputDocument as documentFor } from '../fixtures/output-document.js';

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of iterable) ids.push(id);
  return ids.sort();
}

/** Every file under a folder, hidden ones included. */
function allFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('OutputStore', () => {
  let dir: string;
  let root: string;
  let store: OutputStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wb-outputs-'));
    root = join(dir, 'out');
    store = new OutputStore(root);
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes atomically: the document round-trips, nested ids become folders, no temp file is left', async () => {
    const id = 'MA/harvard/1901/page_001';
    await store.write(id, documentFor(id));
    expect(store.pathFor(id)).toBe(join(root, 'MA', 'harvard', '1901', 'page_001.json'));
    expect(await store.read(id)).toEqual(documentFor(id));
    expect(JSON.parse(readFileSync(store.pathFor(id), 'utf8'))).toEqual(documentFor(id));
    expect(allFiles(root)).toEqual([store.pathFor(id)]);
  });

  it('writes again after its output folder was deleted behind its back', async () => {
    const id = 'MA/harvard/1901/page_001';
    await store.write(id, documentFor(id));
    rmSync(join(root, 'MA'), { recursive: true });
    await store.write(id, documentFor(id, { again: true }));
    expect(await store.read(id)).toEqual(documentFor(id, { again: true }));
  });

  it('overwrites an existing output, keeping a single file', async () => {
    await store.write('a', documentFor('a', { n: 1 }, 1));
    await store.write('a', documentFor('a', { n: 2 }, 2));
    expect(await store.read('a')).toEqual(documentFor('a', { n: 2 }, 2));
    expect(allFiles(root)).toEqual([join(root, 'a.json')]);
  });

  it('stores text and null outputs', async () => {
    await store.write('text', documentFor('text', 'plain answer'));
    await store.write('nothing', { ...documentFor('nothing'), output: undefined });
    expect((await store.read('text'))?.output).toBe('plain answer');
    expect((await store.read('nothing'))?.output).toBeNull();
  });

  it('returns null for a missing output, also when the root does not exist', async () => {
    expect(await store.read('nope')).toBeNull();
    expect(await store.read('deep/nope')).toBeNull();
    expect(existsSync(root)).toBe(false);
  });

  it('reports a corrupt file by path', async () => {
    mkdirSync(join(root, 'b'), { recursive: true });
    writeFileSync(join(root, 'b', 'p1.json'), '{"id": "b/p1", "output": {"cours');
    writeFileSync(join(root, 'b', 'p2.json'), '[1, 2]');
    writeFileSync(join(root, 'b', 'p3.json'), '{"id": "b/p3", "meta": {}}');
    for (const id of ['b/p1', 'b/p2', 'b/p3']) {
      const error = await store.read(id).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(OutputCorruptError);
      expect((error as OutputCorruptError).code).toBe('OUTPUT_CORRUPT');
      expect((error as OutputCorruptError).message).toContain(join(root, 'b', `${id.slice(2)}.json`));
    }
  });

  it('refuses ids that would escape the root or hide their file', () => {
    for (const id of [
      '../x',
      'a/../../x',
      '/etc/passwd',
      'a//b',
      'a/',
      '',
      '.',
      'a/./b',
      '.hidden',
      'a/.b',
      'a\\..\\b',
      'nul\0',
      'x'.repeat(201),
    ]) {
      let caught: unknown;
      try {
        store.pathFor(id);
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(id)).toBeInstanceOf(OutputPathError);
      expect((caught as OutputPathError).code).toBe('RECORD_ID_INVALID');
    }
    expect(store.pathFor('a..b/c')).toBe(join(root, 'a..b', 'c.json'));
  });

  it('rejects a bad id on write and read without touching the disk', async () => {
    await expect(store.write('../escape', documentFor('../escape'))).rejects.toBeInstanceOf(OutputPathError);
    await expect(store.read('../escape')).rejects.toBeInstanceOf(OutputPathError);
    expect(existsSync(join(dir, 'escape.json'))).toBe(false);
  });

  it('lists done ids, skipping temp files, hidden files and folders and non-output files', async () => {
    for (const id of ['a/p1', 'a/p2', 'b/c/p1', 'top']) await store.write(id, documentFor(id));
    writeFileSync(join(root, 'a', '.p3.json.1f2e3d.tmp'), '{"partial');
    writeFileSync(join(root, '.DS_Store'), '');
    writeFileSync(join(root, 'a', 'notes.txt'), 'hello');
    mkdirSync(join(root, '.git'));
    writeFileSync(join(root, '.git', 'x.json'), '{}');
    expect(await collect(store.listDone())).toEqual(['a/p1', 'a/p2', 'b/c/p1', 'top']);
  });

  it('lists nothing when the root does not exist yet', async () => {
    expect(await collect(store.listDone())).toEqual([]);
    expect(await store.sweepTemp()).toBe(0);
  });

  it('streams a large listing', async () => {
    for (let folder = 0; folder < 10; folder++) {
      mkdirSync(join(root, `f${folder}`), { recursive: true });
      for (let page = 0; page < 200; page++) writeFileSync(join(root, `f${folder}`, `p${page}.json`), '{}');
    }
    const ids = await collect(store.listDone());
    expect(ids).toHaveLength(2000);
    expect(ids.every((id) => /^f\d\/p\d+$/.test(id))).toBe(true);
  });

  it('sweeps the temp files a crash left behind, and the record counts as not done', async () => {
    await store.write('a/p1', documentFor('a/p1'));
    // A process killed between creating its temp file and the rename leaves exactly this behind.
    writeFileSync(join(root, 'a', '.p2.json.9c1b2a.tmp'), '{"id": "a/p2", "output": {"carry');
    mkdirSync(join(root, 'b'));
    writeFileSync(join(root, 'b', '.p1.json.0a0b0c.tmp'), '');
    expect(await collect(store.listDone())).toEqual(['a/p1']);
    expect(await store.read('a/p2')).toBeNull();
    expect(await store.sweepTemp()).toBe(2);
    expect(allFiles(root)).toEqual([join(root, 'a', 'p1.json')]);
    expect(await store.sweepTemp()).toBe(0);
  });

  it('cleans up its temp file when the rename fails', async () => {
    // A folder where the output file should go makes the rename fail after the temp file is written.
    mkdirSync(join(root, 'a', 'p1.json', 'inner'), { recursive: true });
    await expect(store.write('a/p1', documentFor('a/p1'))).rejects.toThrow();
    expect(allFiles(root)).toEqual([]);
  });

  it('uses recognisable temp names from the injected random source', async () => {
    const seen: string[] = [];
    const probe = new OutputStore(root, {
      random: () => {
        // Called once per write, before the temp file is created.
        seen.push('called');
        return 'feedface';
      },
    });
    await probe.write('x/y', documentFor('x/y'));
    expect(seen).toEqual(['called']);
    writeFileSync(join(root, 'x', '.y.json.feedface.tmp'), 'left over');
    expect(await probe.sweepTemp()).toBe(1);
  });
});

describe('exportOutputs', () => {
  // The CSV header is the format's contract, spelt out as a user's tool reads it: names and order.
  const CSV_HEADER =
    'id,output,prompt_name,prompt_version,prompt_hash,model,job,attempt,input_tokens,output_tokens,completed_at';
  let dir: string;
  let store: OutputStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-export-'));
    store = new OutputStore(join(dir, 'out'));
    await store.write(
      'b/p1',
      documentFor('b/p1', { courses: ['Latin, "advanced"'], carry_over: 'line\nbreak' }),
    );
    await store.write('a/p1', {
      ...documentFor('a/p1', 'plain text'),
      meta: { ...documentFor('a/p1').meta, contextFrom: 'a/p0' },
    });
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports JSONL: one document per line', async () => {
    const path = join(dir, 'export.jsonl');
    const out = createWriteStream(path);
    expect(await exportOutputs(store, 'jsonl', out)).toBe(2);
    out.end();
    await finished(out);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    const documents = lines
      .map((line) => JSON.parse(line) as OutputDocument)
      .sort((x, y) => x.id.localeCompare(y.id));
    expect(documents).toEqual([await store.read('a/p1'), await store.read('b/p1')]);
  });

  it('exports CSV with the output as a JSON cell, quoting commas, quotes and newlines', async () => {
    const path = join(dir, 'export.csv');
    const out = createWriteStream(path);
    expect(await exportOutputs(store, 'csv', out)).toBe(2);
    out.end();
    await finished(out);
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')[0]).toBe(CSV_HEADER);
    const rows = parse(text, { columns: true }) as Array<Record<string, string>>;
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(JSON.parse(byId.get('b/p1')?.output ?? '')).toEqual({
      courses: ['Latin, "advanced"'],
      carry_over: 'line\nbreak',
    });
    // Every cell of a row, so a column added, dropped or filled from the wrong field fails here.
    expect(byId.get('a/p1')).toEqual({
      id: 'a/p1',
      output: '"plain text"',
      prompt_name: 'page',
      prompt_version: 'v1',
      prompt_hash: 'a'.repeat(64),
      model: 'gemini-2.5-flash',
      job: 'batches/123',
      attempt: '1',
      input_tokens: '120',
      output_tokens: '45',
      completed_at: '2026-11-25T10:00:00.000Z',
    });
  });

  it('waits for a slow consumer instead of buffering everything', async () => {
    for (let index = 0; index < 40; index++)
      await store.write(`many/p${index}`, documentFor(`many/p${index}`));
    let maxBuffered = 0;
    let received = 0;
    const slow = new Writable({
      highWaterMark: 256,
      write(chunk: Buffer, _encoding, callback) {
        // Everything queued behind this chunk: it would grow to all documents if backpressure were ignored.
        maxBuffered = Math.max(maxBuffered, slow.writableLength);
        received += chunk.length;
        setTimeout(callback, 10);
      },
    });
    const count = await exportOutputs(store, 'jsonl', slow);
    expect(count).toBe(42);
    const documentBytes = JSON.stringify(await store.read('many/p0')).length + 1;
    expect(maxBuffered).toBeLessThan(2 * documentBytes);
    slow.end();
    await finished(slow);
    expect(received).toBeGreaterThan(42 * (documentBytes - 20));
  });

  it("writes a stream buffer's worth of documents at a time, not one write per document", async () => {
    for (let index = 0; index < 40; index++)
      await store.write(`many/p${index}`, documentFor(`many/p${index}`));
    const chunks: string[] = [];
    const counting = new Writable({
      highWaterMark: 4096,
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
    expect(await exportOutputs(store, 'jsonl', counting)).toBe(42);
    const text = chunks.join('');
    expect(text.split('\n').filter(Boolean)).toHaveLength(42);
    // Each write but the last fills the buffer; none is larger than it by more than a document.
    const documentBytes = JSON.stringify(await store.read('many/p0')).length + 1;
    expect(chunks.length).toBeLessThanOrEqual(Math.ceil(text.length / 4096) + 1);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.length).toBeGreaterThanOrEqual(4096);
    for (const chunk of chunks) expect(chunk.length).toBeLessThan(4096 + 2 * documentBytes);
  });

  it('exports nothing (and a CSV header only) from an empty store', async () => {
    const empty = new OutputStore(join(dir, 'none'));
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
    expect(await exportOutputs(empty, 'csv', sink)).toBe(0);
    expect(chunks.join('')).toBe(`${CSV_HEADER}\n`);
  });
});
