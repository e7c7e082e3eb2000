import { closeSync, openSync, readSync } from 'node:fs';
import { open, readdir, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { makeFolder } from '../make-folder.js';
import { dirname, join, resolve } from 'node:path';
import { replaceFile, syncFolder } from './durable-files.js';
import { ManifestUnwritableError, OutputSinkChangedError, ShardCorruptError } from './errors.js';
import type { OutputDocument } from './output-store.js';
import { MANIFEST_FILE, manifestText, shardFileName, shardNumber } from './shard-manifest.js';
import { completeLinesEnd, shardLines } from './shard-lines.js';
import type {
  CommittedOutput,
  GroupWrite,
  OutputIndex,
  OutputLocation,
  OutputRecovery,
  OutputSink,
  ShardCommit,
} from './sink.js';

/** A shard is closed and a new one started once it holds this many bytes (it may pass it by one group). */
export const DEFAULT_SHARD_BYTES = 256 * 1024 * 1024;
/** Documents per group: one write and one fsync each. */
const GROUP_SIZE = 4096;
/** Locations fetched from the store at a time while exporting. */
const EXPORT_PAGE = 1000;
/**
 * Lines read together: one read covers nearby lines up to this span (an export page's lines are
 * adjacent; a round's predecessors were written by the previous round, in the order its results
 * came), and a gap larger than READ_GAP_BYTES starts a new read, so sparse lines are not read
 * through everything between them. One read of 1 MB costs about what 20 single-line reads do.
 */
const READ_SPAN_BYTES = 1024 * 1024;
const READ_GAP_BYTES = 64 * 1024;

export interface JsonlSinkOptions {
  /** The output folder: shards `part-NNNNNN.jsonl` and `manifest.json`. */
  root: string;
  /** The state store: done-state, each line's location, each shard's committed length. */
  index: OutputIndex;
  shardBytes?: number;
  /**
   * Told once when the manifest cannot be written, and the sink goes on (see `checkpoint`); without
   * it such a failure throws ManifestUnwritableError.
   */
  warn?: (message: string) => void;
}

interface OpenShard {
  shard: number;
  bytes: number;
  handle: FileHandle;
}

/**
 * Outputs as append-only JSON Lines shards with a manifest. A group of documents is one positional
 * write and one fsync; its completions and the shard's new committed length are then stored in one
 * transaction. A crash between the two leaves bytes past the committed length, which start-up
 * truncates: their records are still in flight and their results are applied again, so no line is
 * ever committed twice. The manifest mirrors the store's committed lengths for outside readers.
 */
export class JsonlSink implements OutputSink {
  readonly kind = 'jsonl' as const;
  readonly root: string;
  readonly groupSize = GROUP_SIZE;
  private readonly index: OutputIndex;
  private readonly shardBytes: number;
  private current: OpenShard | null = null;
  /** Read-only descriptors by shard, for context and exports (positional reads of committed bytes). */
  private readonly readers = new Map<number, number>();
  private lastManifest = '';
  private readonly warn: ((message: string) => void) | undefined;
  /** The last manifest write failed and was reported: the next failures in a row are not. */
  private manifestFailing = false;

  constructor(options: JsonlSinkOptions) {
    this.root = resolve(options.root);
    this.index = options.index;
    this.shardBytes = options.shardBytes ?? DEFAULT_SHARD_BYTES;
    this.warn = options.warn;
  }

  async recover(): Promise<OutputRecovery> {
    const previous = await this.index.claimOutputSink('jsonl');
    if (previous !== null) throw new OutputSinkChangedError('jsonl', previous, this.root);
    await makeFolder(this.root);
    const onDisk = await this.shardsOnDisk();
    const committed = await this.index.committedShards();
    const recovery =
      committed.length === 0 && onDisk.length > 0
        ? await this.adopt(onDisk)
        : await this.align(committed, onDisk);
    await this.checkpoint();
    return recovery;
  }

  async writeGroup(documents: readonly OutputDocument[]): Promise<GroupWrite> {
    if (documents.length === 0) return { locations: [], commit: null };
    const shard = await this.shardForWrite();
    const locations: OutputLocation[] = [];
    const lines: string[] = [];
    let offset = shard.bytes;
    for (const document of documents) {
      const line = JSON.stringify({ id: document.id, output: document.output ?? null, meta: document.meta });
      const length = Buffer.byteLength(line);
      locations.push({ shard: shard.shard, offset, length });
      lines.push(line);
      offset += length + 1;
    }
    const body = Buffer.from(`${lines.join('\n')}\n`);
    // Positional: bytes past the committed length (none after recover) are overwritten, never appended to.
    let written = 0;
    while (written < body.length) {
      const { bytesWritten } = await shard.handle.write(
        body,
        written,
        body.length - written,
        shard.bytes + written,
      );
      written += bytesWritten;
    }
    // The one fsync of the group: the store may say "done" only for lines that survive a power loss.
    await shard.handle.datasync();
    shard.bytes = offset;
    return { locations, commit: { shard: shard.shard, bytes: offset } };
  }

  /**
   * The next group goes where the discarded one began, over its bytes, and the shard is cut there.
   * Left in place, its lines fell inside the committed length of the next group the store took, and
   * the retry of its records committed each of them a second time. The cut is best effort: bytes
   * past the committed length never count (readers stop there, start-up cuts them).
   */
  async discardGroup(written: GroupWrite): Promise<void> {
    const first = written.locations[0];
    const current = this.current;
    if (!written.commit || !first || current?.shard !== written.commit.shard) return;
    if (current.bytes !== written.commit.bytes) return;
    current.bytes = first.offset;
    await current.handle.truncate(first.offset).catch(() => undefined);
  }

  async read(id: string, location: OutputLocation | null): Promise<OutputDocument | null> {
    if (location === null) return null;
    const bytes = this.readBytes(location.shard, location.offset, location.length);
    return this.parseLine(id, location, bytes.toString('utf8'));
  }

  async *readMany(
    wanted: readonly CommittedOutput[],
  ): AsyncIterable<CommittedOutput & { document: OutputDocument | null }> {
    const located: Array<{ id: string; location: OutputLocation }> = [];
    for (const { id, location } of wanted) {
      if (location === null) yield { id, location, document: null };
      else located.push({ id, location });
    }
    yield* this.linesAt(sortedByPlace(located), (id, location, text) => ({
      id,
      location,
      document: this.parseLine(id, location, text),
    }));
  }

  async *readOutputs(wanted: readonly CommittedOutput[]): AsyncIterable<{ id: string; output: unknown }> {
    const located: Array<{ id: string; location: OutputLocation }> = [];
    for (const { id, location } of wanted) if (location !== null) located.push({ id, location });
    yield* this.linesAt(sortedByPlace(located), (id, location, text) => ({
      id,
      output: this.parseOutput(id, location, text),
    }));
  }

  async *documents(): AsyncIterable<OutputDocument> {
    for (const { shard } of await this.index.committedShards()) {
      let after = -1;
      for (;;) {
        const page = await this.index.shardOutputs(shard, after, EXPORT_PAGE);
        if (page.length === 0) break;
        yield* this.pageDocuments(page);
        after = (page.at(-1)?.location as OutputLocation).offset;
        if (page.length < EXPORT_PAGE) break;
      }
    }
  }

  /**
   * Writes the manifest when the committed lengths changed. One that cannot be written is reported
   * once (until a write succeeds again) and tried again at the next checkpoint; the run goes on. That
   * loses and duplicates nothing: the state store's committed lengths are what counts (start-up
   * aligns the shards with them, then writes the manifest afresh), and they only grow during a run,
   * so a manifest left behind lists a prefix of each shard's committed lines, fewer but never wrong
   * ones. Stopping would protect nothing and leave the run's records unsent; a failed checkpoint
   * ended the run with a bare fs error (after a batch job was applied, and at every start), and the
   * one a full shard writes threw out of the write of the group that starts the next shard.
   */
  async checkpoint(): Promise<void> {
    const text = manifestText(await this.index.committedShards());
    if (text === this.lastManifest) return;
    const path = join(this.root, MANIFEST_FILE);
    try {
      await replaceFile(path, text);
    } catch (error) {
      const failure = new ManifestUnwritableError(path, { cause: error });
      if (!this.warn) throw failure;
      if (!this.manifestFailing) this.warn(failure.message);
      this.manifestFailing = true;
      return;
    }
    this.manifestFailing = false;
    this.lastManifest = text;
  }

  async close(): Promise<void> {
    try {
      if (this.current) await this.checkpoint();
    } finally {
      await this.current?.handle.close();
      this.current = null;
      for (const fd of this.readers.values()) closeSync(fd);
      this.readers.clear();
    }
  }

  /** Store has committed shards: cut what is past each committed length, reopen what a lost shard held. */
  private async align(committed: ShardCommit[], onDisk: number[]): Promise<OutputRecovery> {
    let reopened = 0;
    const known = new Set(committed.map((commit) => commit.shard));
    for (const commit of committed) {
      const path = this.shardPath(commit.shard);
      const size = (await stat(path).catch(() => null))?.size ?? 0;
      if (size > commit.bytes) {
        // Written and fsynced, but the store never committed it: the records are still in flight.
        await truncate(path, commit.bytes);
      } else if (size < commit.bytes) {
        // Cut short or deleted behind our back: the lines past what is left are gone.
        const { reopened: count, bytes } = await this.index.cutShard(commit.shard, size);
        reopened += count;
        if (size > bytes) await truncate(path, bytes);
      }
    }
    const highest = Math.max(0, ...known);
    for (const shard of onDisk) {
      // Created just before a crash, before its first group committed: it holds nothing committed.
      if (!known.has(shard) && shard > highest) await rm(this.shardPath(shard), { force: true });
    }
    return { markedDone: 0, reopened };
  }

  /** The store knows no shard but shards exist (a reset or a new store): their lines count as done. */
  private async adopt(onDisk: number[]): Promise<OutputRecovery> {
    const shards: ShardCommit[] = [];
    for (const shard of onDisk) {
      const path = this.shardPath(shard);
      const size = (await stat(path)).size;
      const end = await completeLinesEnd(path, size);
      // A torn last line was never committed by anyone: cut it.
      if (end < size) await truncate(path, end);
      shards.push({ shard, bytes: end });
    }
    const found = async function* (sink: JsonlSink) {
      for (const { shard, bytes } of shards) {
        for await (const line of shardLines(sink.shardPath(shard), bytes)) {
          const id = documentId(line.text);
          if (id !== null) yield { id, location: { shard, offset: line.offset, length: line.length } };
        }
      }
    };
    return this.index.adoptShardOutputs(found(this), shards);
  }

  /** The shard the next group goes to: the last one while it has room, else a new one. */
  private async shardForWrite(): Promise<OpenShard> {
    if (this.current && this.current.bytes < this.shardBytes) return this.current;
    let shard = 1;
    let bytes = 0;
    if (this.current) {
      shard = this.current.shard + 1;
      await this.current.handle.close();
      this.current = null;
      // A shard is full: the manifest lists it with its final length.
      await this.checkpoint();
    } else {
      const last = (await this.index.committedShards()).at(-1);
      if (last && last.bytes < this.shardBytes) ({ shard, bytes } = last);
      else if (last) shard = last.shard + 1;
    }
    const path = this.shardPath(shard);
    if (bytes === 0) {
      await makeFolder(dirname(path));
      // 'w': a leftover of an uncommitted shard of this number is emptied.
      const handle = await open(path, 'w');
      // The new entry must be durable before the store refers to lines in it.
      await syncFolder(this.root);
      this.current = { shard, bytes, handle };
    } else {
      this.current = { shard, bytes, handle: await open(path, 'r+') };
    }
    return this.current;
  }

  /** A page of one shard's lines (`shardOutputs`: in offset order, each with its location). */
  private async *pageDocuments(page: CommittedOutput[]): AsyncGenerator<OutputDocument> {
    const located = page.map(({ id, location }) => ({ id, location: location as OutputLocation }));
    yield* this.linesAt(located, (id, location, text) => this.parseLine(id, location, text));
  }

  /** Lines sorted by shard and offset, each read by `parse`, nearby ones read together (READ_SPAN_BYTES). */
  private *linesAt<T>(
    sorted: ReadonlyArray<{ id: string; location: OutputLocation }>,
    parse: (id: string, location: OutputLocation, text: string) => T,
  ): Generator<T> {
    let start = 0;
    while (start < sorted.length) {
      const first = (sorted[start] as { location: OutputLocation }).location;
      let end = start + 1;
      let spanEnd = first.offset + first.length;
      for (; end < sorted.length; end++) {
        const next = (sorted[end] as { location: OutputLocation }).location;
        const nextEnd = next.offset + next.length;
        if (next.shard !== first.shard || next.offset - spanEnd > READ_GAP_BYTES) break;
        if (nextEnd - first.offset > READ_SPAN_BYTES) break;
        spanEnd = Math.max(spanEnd, nextEnd);
      }
      const block = this.readBytes(first.shard, first.offset, spanEnd - first.offset);
      for (let index = start; index < end; index++) {
        const { id, location } = sorted[index] as { id: string; location: OutputLocation };
        const from = location.offset - first.offset;
        yield parse(id, location, block.toString('utf8', from, from + location.length));
      }
      start = end;
    }
  }

  /**
   * The output of the line of `id`, its metadata left unparsed (most of the line: three hashes, the
   * prompt, the job, the usage), when the line is as writeGroup writes it: `{"id":…,"output":…,"meta":…}`.
   * The slice before the last `,"meta":` is then exactly the output: that text cannot occur inside a
   * string, and a cut inside the output would leave a bracket open, which JSON.parse refuses. Any
   * other line is parsed whole, which names what is wrong with it.
   */
  private parseOutput(id: string, location: OutputLocation, text: string): unknown {
    const head = `{"id":${JSON.stringify(id)},"output":`;
    const meta = text.lastIndexOf(',"meta":');
    if (meta > head.length && text.startsWith(head) && text.endsWith('}')) {
      try {
        return JSON.parse(text.slice(head.length, meta));
      } catch {
        // Not the shape writeGroup writes: read whole below.
      }
    }
    return this.parseLine(id, location, text).output;
  }

  private parseLine(id: string, location: OutputLocation, text: string): OutputDocument {
    // The shard's path is made only for an error: once per line it was a tenth of an export's time.
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new ShardCorruptError(
        this.shardPath(location.shard),
        location.offset,
        `the line of ${id} is not valid JSON`,
      );
    }
    const document = value as Partial<OutputDocument> | null;
    if (document === null || typeof document !== 'object' || document.id !== id || !('output' in document))
      throw new ShardCorruptError(
        this.shardPath(location.shard),
        location.offset,
        `expected the output document of ${id}`,
      );
    return document as OutputDocument;
  }

  /** Synchronous positional read: committed bytes are usually in the page cache, and a thread-pool hop costs more. */
  private readBytes(shard: number, offset: number, length: number): Buffer {
    let fd = this.readers.get(shard);
    if (fd === undefined) {
      fd = openSync(this.shardPath(shard), 'r');
      this.readers.set(shard, fd);
    }
    const buffer = Buffer.allocUnsafe(length);
    let read = 0;
    while (read < length) {
      const count = readSync(fd, buffer, read, length - read, offset + read);
      if (count === 0)
        throw new ShardCorruptError(this.shardPath(shard), offset, 'the file ends before the line');
      read += count;
    }
    return buffer;
  }

  private shardPath(shard: number): string {
    return join(this.root, shardFileName(shard));
  }

  private async shardsOnDisk(): Promise<number[]> {
    const numbers = (await readdir(this.root)).map(shardNumber).filter((n): n is number => n !== null);
    return numbers.sort((a, b) => a - b);
  }
}

/** Lines in the order a shard holds them: by shard, then offset. */
function sortedByPlace<T extends { location: OutputLocation }>(located: T[]): T[] {
  return located.sort((a, b) => a.location.shard - b.location.shard || a.location.offset - b.location.offset);
}

/** The id of a shard line's document, or null when the line is not one (not JSON, no string id). */
function documentId(text: string): string | null {
  try {
    const value = JSON.parse(text) as { id?: unknown } | null;
    return typeof value?.id === 'string' ? value.id : null;
  } catch {
    return null;
  }
}
