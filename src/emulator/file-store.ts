import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { appendFile, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { timestamp, type EmulatedClock } from './clock.js';
import { keepHead, processingOf, type FileProcessing, type FileState } from './file-processing.js';
import { fileGone, GoogleError, invalidArgument, notFound } from './google-error.js';
import { paginate, type Page } from './paging.js';
import { randomId, type Random } from './seeded-random.js';
import { makeFolder } from '../make-folder.js';

/** A file of the Files API, kept on disk under the storage directory. */
export interface StoredFile {
  name: string;
  displayName: string | undefined;
  mimeType: string;
  sizeBytes: number;
  createTime: number;
  expireTime: number;
  sha256: string;
  path: string;
  source: 'UPLOADED' | 'GENERATED';
  /** Creation order, for stable paging. */
  sequence: number;
  /** Emulated time processing ends; the file reads PROCESSING until then. */
  activeAt: number;
  /** Set when processing ends FAILED (a video whose bytes are no known container), with Google's reason. */
  processingError: string | undefined;
}

interface UploadSession {
  /** The name the upload asked for (`files/x`), else one is drawn at the end. */
  name: string | undefined;
  displayName: string | undefined;
  mimeType: string;
  path: string;
  received: number;
  hash: Hash;
  busy: boolean;
  /** The first bytes, enough to recognise a video container. */
  head: Buffer;
}

/**
 * The Files API's storage: resumable uploads streamed to disk chunk by chunk (a 1 GB upload never
 * sits in memory), expiry on the emulated clock, paging, and files the emulator writes itself.
 */
export class FileStore {
  private readonly files = new Map<string, StoredFile>();
  private readonly sessions = new Map<string, UploadSession>();
  private sequence = 0;

  constructor(
    private readonly dir: string,
    private readonly clock: EmulatedClock,
    private readonly ttlMs: number,
    private readonly random: Random,
    private readonly processing: FileProcessing = { ms: 0, types: 'video' },
  ) {}

  /** Creates the store's directories; call once before use. */
  async init(): Promise<void> {
    await makeFolder(join(this.dir, 'files'));
    await makeFolder(join(this.dir, 'uploads'));
  }

  /**
   * Opens a resumable upload session and returns its id (the `upload_id` of the upload URL). A
   * requested `name` is checked now (its form, and that no live file has it), so a bad one is
   * refused before any byte moves.
   */
  startUpload(meta: {
    name?: string | undefined;
    displayName?: string | undefined;
    mimeType?: string | undefined;
  }): string {
    const name = meta.name === undefined ? undefined : requestedFileName(meta.name);
    if (name !== undefined) this.requireFree(name);
    const id = randomId(this.random, 24);
    this.sessions.set(id, {
      name,
      displayName: meta.displayName,
      mimeType: meta.mimeType || 'application/octet-stream',
      path: join(this.dir, 'uploads', id),
      received: 0,
      hash: createHash('sha256'),
      busy: false,
      head: Buffer.alloc(0),
    });
    return id;
  }

  /** Appends one chunk (streamed) at `offset`; with `finalize` the session becomes a file. */
  async receiveChunk(
    id: string,
    offset: number | undefined,
    body: Readable | null,
    finalize: boolean,
  ): Promise<{ file: StoredFile } | { received: number }> {
    const session = this.sessions.get(id);
    if (!session) throw notFound(`upload session ${id}`);
    if (session.busy)
      throw new GoogleError('FAILED_PRECONDITION', `Upload session ${id} is already receiving a chunk.`);
    if (offset !== undefined && offset !== session.received) {
      throw invalidArgument(
        `Upload offset ${offset} does not match the ${session.received} bytes received so far.`,
      );
    }
    session.busy = true;
    const before = { received: session.received, hash: session.hash.copy(), head: session.head };
    try {
      if (body) {
        const hashing = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            session.hash.update(chunk);
            session.head = keepHead(session.head, chunk);
            session.received += chunk.length;
            done(null, chunk);
          },
        });
        try {
          await pipeline(body, hashing, createWriteStream(session.path, { flags: 'a' }));
        } catch (error) {
          // An interrupted chunk leaves no trace, so the client can resend it at the same offset.
          session.received = before.received;
          session.hash = before.hash;
          session.head = before.head;
          await truncate(session.path, before.received).catch(() => undefined);
          throw error;
        }
      }
      if (!finalize) return { received: session.received };
      this.sessions.delete(id);
      // Another upload may have taken the requested name since this one started.
      if (session.name !== undefined) {
        try {
          this.requireFree(session.name);
        } catch (error) {
          await rm(session.path, { force: true });
          throw error;
        }
      }
      const name = session.name ?? this.newName();
      const path = this.pathOf(name);
      await appendFile(session.path, ''); // an upload without bytes has no session file yet
      await rename(session.path, path);
      const file = this.register(
        name,
        path,
        session.displayName,
        session.mimeType,
        session.received,
        session.hash.digest('hex'),
        'UPLOADED',
      );
      Object.assign(file, processingOf(file, session.head, this.processing));
      return { file };
    } finally {
      session.busy = false;
    }
  }

  /**
   * Writes a file the emulator produces itself (a results file) from a stream of chunks, named
   * `files/batch-<batchId>` as Google names a batch's files (a random id of its own before).
   */
  async writeGenerated(
    displayName: string,
    mimeType: string,
    chunks: AsyncIterable<Buffer>,
    batchId?: string,
  ): Promise<StoredFile> {
    const wanted = batchId === undefined ? undefined : `files/batch-${batchId}`;
    const name = wanted !== undefined && !this.files.has(wanted) ? wanted : this.newName('batch-');
    const path = this.pathOf(name);
    const hash = createHash('sha256');
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.from(chunks), hashing, createWriteStream(path));
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    const { size } = await stat(path);
    return this.register(name, path, displayName, mimeType, size, hash.digest('hex'), 'GENERATED');
  }

  /** The live file, or undefined when it never existed, was deleted or has expired. */
  get(name: string): StoredFile | undefined {
    const file = this.files.get(name);
    if (file && file.expireTime <= this.clock.now()) {
      this.drop(file);
      return undefined;
    }
    return file;
  }

  /** Like get, but a missing file (never uploaded, deleted, expired) is Google's 403 "... or it may not exist". */
  require(name: string): StoredFile {
    const file = this.get(name);
    if (!file) throw fileGone(name);
    return file;
  }

  /** Newest first; the page token is the position after the last file returned. */
  list(pageSize: number, pageToken: string | undefined): Page<StoredFile> {
    this.sweep();
    const all = [...this.files.values()].reverse();
    return paginate(all, (file) => file.sequence, pageSize, pageToken);
  }

  /** Every live file, oldest first. */
  held(): StoredFile[] {
    this.sweep();
    return [...this.files.values()];
  }

  /** Forgets the file and removes it from disk; a missing file is Google's 403. */
  delete(name: string): void {
    this.drop(this.require(name));
  }

  /** Bytes of every live file, uploads and generated ones: what the project's storage quota counts. */
  usedBytes(): number {
    this.sweep();
    let total = 0;
    for (const file of this.files.values()) total += file.sizeBytes;
    return total;
  }

  /** Keeps an upload PROCESSING until it expires, as uploads stuck in Google's processing do. */
  holdProcessing(file: StoredFile): void {
    file.activeAt = file.expireTime;
  }

  /** Streams the file's bytes. */
  open(file: StoredFile): ReadStream {
    return createReadStream(file.path);
  }

  /** Forgets expired files and removes them from disk. */
  sweep(): void {
    for (const name of [...this.files.keys()]) this.get(name);
  }

  /** PROCESSING until the emulated processing time has passed, then ACTIVE or FAILED; `at` defaults to now. */
  stateOf(file: StoredFile, at: number = this.clock.now()): FileState {
    if (at < file.activeAt) return 'PROCESSING';
    return file.processingError === undefined ? 'ACTIVE' : 'FAILED';
  }

  /** The wire JSON of a file, as `files.get` returns it. */
  toJson(file: StoredFile, baseUrl: string): Record<string, unknown> {
    return {
      name: file.name,
      ...(file.displayName !== undefined ? { displayName: file.displayName } : {}),
      mimeType: file.mimeType,
      sizeBytes: String(file.sizeBytes),
      createTime: timestamp(file.createTime),
      updateTime: timestamp(file.createTime),
      expirationTime: timestamp(file.expireTime),
      sha256Hash: Buffer.from(file.sha256).toString('base64'),
      uri: `${baseUrl}/v1beta/${file.name}`,
      // Only files Google generated (batch results) can be downloaded; uploads carry no downloadUri
      // (python-genai files.download: "You can tell which files are downloadable by checking the
      // `source` or `download_uri` property").
      ...(file.source === 'GENERATED'
        ? { downloadUri: `${baseUrl}/download/v1beta/${file.name}:download?alt=media` }
        : {}),
      ...this.stateJson(file),
      source: file.source,
    };
  }

  private stateJson(file: StoredFile): Record<string, unknown> {
    const state = this.stateOf(file);
    if (state !== 'FAILED') return { state };
    return { state, error: { code: 3, message: file.processingError } };
  }

  private register(
    name: string,
    path: string,
    displayName: string | undefined,
    mimeType: string,
    sizeBytes: number,
    sha256: string,
    source: StoredFile['source'],
  ): StoredFile {
    const now = this.clock.now();
    const file: StoredFile = {
      name,
      displayName,
      mimeType,
      sizeBytes,
      createTime: now,
      expireTime: now + this.ttlMs,
      sha256,
      path,
      source,
      sequence: ++this.sequence,
      activeAt: now,
      processingError: undefined,
    };
    this.files.set(name, file);
    return file;
  }

  private drop(file: StoredFile): void {
    this.files.delete(file.name);
    void rm(file.path, { force: true });
  }

  /** Google's 409 when a live file already has `name`. */
  private requireFree(name: string): void {
    if (this.get(name)) throw new GoogleError('ALREADY_EXISTS', `File ${name} already exists.`);
  }

  private newName(prefix = ''): string {
    for (;;) {
      const name = `files/${prefix}${randomId(this.random, 12)}`;
      if (!this.files.has(name)) return name;
    }
  }

  private pathOf(name: string): string {
    return join(this.dir, 'files', name.slice('files/'.length));
  }
}

/**
 * The name an upload asks for (`files/x` or `x`, as SDK 3.x sends `config.name`), checked as the
 * File resource documents it: an id of up to 40 lowercase letters, digits and dashes, neither
 * starting nor ending with a dash; anything else is a 400.
 */
function requestedFileName(requested: string): string {
  const id = requested.startsWith('files/') ? requested.slice('files/'.length) : requested;
  if (!/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/.test(id)) {
    throw invalidArgument(
      `Invalid file name "${requested}": its id may hold up to 40 lowercase letters, digits and dashes (-), and cannot start or end with a dash.`,
    );
  }
  return `files/${id}`;
}
