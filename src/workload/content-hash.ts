import { createHash } from 'node:crypto';
import { sha256Hex } from '../sha256.js';
import { openMediaFile } from '../media/media-file.js';
import type { FileDigestCache, FileDigestRow } from '../store/store.js';
import type { WorkloadRecord } from './record.js';
import { compareCodeUnits } from '../code-unit-order.js';

/** Digests saved per store transaction. */
const SAVE_GROUP = 256;

/**
 * The content hash of a record: sha256 of its variables and the bytes of its media files, the
 * same whatever the file names or the order of the variables. An output records the hash of the
 * record it was made from, so a changed input is told apart from an unchanged one.
 */
export class RecordContentHasher {
  /** Digests learnt but not saved yet: saved a group per transaction (each commit is an fsync). */
  private pending: FileDigestRow[] = [];

  /** `mediaRoot`: the folder media files must resolve inside when read (see mediaRootOf). */
  constructor(
    private readonly cache?: FileDigestCache,
    private readonly mediaRoot?: string,
  ) {}

  /** The record's content hash (its media files hashed, or taken from the cache while unchanged). */
  async hash(record: Pick<WorkloadRecord, 'vars' | 'media'>): Promise<string> {
    const media = [];
    for (const file of record.media) media.push([file.mimeType, await this.fileDigest(file.path)]);
    const vars = Object.entries(record.vars).sort(([a], [b]) => compareCodeUnits(a, b));
    return sha256Hex(JSON.stringify({ vars, media }));
  }

  /** sha256 hex of a file; remembered by size and modification time, so an unchanged file is read once. */
  async fileDigest(path: string): Promise<string> {
    // Opened as a media file: a FIFO or a device in its place is refused, not read for ever.
    const { handle, ...facts } = await openMediaFile(path, this.mediaRoot);
    let sha256: string;
    try {
      const known =
        this.pending.find((row) => row.path === path) ?? (await this.cache?.getFileDigest(path)) ?? null;
      if (known && known.sizeBytes === facts.size && known.mtimeMs === facts.mtimeMs) return known.sha256;
      const hash = createHash('sha256');
      for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
      sha256 = hash.digest('hex');
    } finally {
      await handle.close();
    }
    if (this.cache) {
      this.pending.push({ path, sizeBytes: facts.size, mtimeMs: facts.mtimeMs, sha256 });
      if (this.pending.length >= SAVE_GROUP) await this.flush();
    }
    return sha256;
  }

  /** Saves the digests learnt so far (a lost one only costs hashing that file again). */
  async flush(): Promise<void> {
    if (!this.cache || this.pending.length === 0) return;
    const group = this.pending;
    this.pending = [];
    await this.cache.saveFileDigests(group);
  }
}
