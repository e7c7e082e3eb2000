import { randomBytes } from 'node:crypto';
import { open, opendir, readFile, unlink } from 'node:fs/promises';
import { makeFolder, NotAFolderError } from '../make-folder.js';
import { basename, dirname, join, resolve } from 'node:path';
import { syncFolder, writeAtomically } from './durable-files.js';
import { OutputCorruptError, OutputPathNotFolderError } from './errors.js';
import { idFromSegments, isTempName, outputPath, tempName } from './paths.js';

/** What produced an output: prompt version and hash, model, source content, job, attempt, billed usage. */
export interface OutputMeta {
  /** `hash`: of the rendered prompt; `template`: of the template sources of that version. */
  prompt: { name: string; version: string; hash: string; template?: string };
  model: string;
  /** The content hash of the record it was made from (its variables and media bytes). */
  source?: { hash: string };
  /** The batch job (`batches/…`) or, from a synchronous lane, the request it came in. */
  job: string;
  /** The synchronous lane it came from (flex, standard, priority); absent for batch. */
  lane?: string;
  attempt: number;
  usage: { inputTokens: number; outputTokens: number };
  completedAt: string;
  /** The record whose output was this record's context. */
  contextFrom?: string;
}

/** One output file: the validated model output of a record and how it was made. */
export interface OutputDocument {
  id: string;
  output: unknown;
  meta: OutputMeta;
}

export interface OutputStoreOptions {
  /** Suffix source for temp names (injected so tests can predict them); hex by default. */
  random?: () => string;
}

/**
 * The filesystem source of truth for results: a record is done when `<root>/<id>.json` exists. Writes
 * are atomic (temp file, fsync, rename, fsync of the folder), so a crash never leaves a half file
 * under an output name.
 */
export class OutputStore {
  readonly root: string;
  private readonly random: () => string;
  /** Folders already created by this store: skips a recursive mkdir per write (a hot path). */
  private readonly knownFolders = new Set<string>();

  constructor(root: string, options: OutputStoreOptions = {}) {
    this.root = resolve(root);
    this.random = options.random ?? (() => randomBytes(6).toString('hex'));
  }

  /** `<root>/<id>.json`; throws OutputPathError (RECORD_ID_INVALID) for ids that would escape the root. */
  pathFor(id: string): string {
    return outputPath(this.root, id);
  }

  /** Writes a document atomically, replacing any previous output of the id. */
  async write(id: string, document: OutputDocument): Promise<void> {
    const path = this.pathFor(id);
    const folder = dirname(path);
    await this.ensureFolder(folder).catch((error: unknown) => {
      throw NotAFolderError.isInstance(error)
        ? new OutputPathNotFolderError(error.path, path, { cause: error })
        : error;
    });
    const temp = join(folder, tempName(basename(path), this.random()));
    const body = `${JSON.stringify({ ...document, output: document.output ?? null }, null, 2)}\n`;
    await writeAtomically(path, temp, body, () => this.openTemp(temp, folder));
  }

  /** The document of an id, or null when it has none; OutputCorruptError when the file cannot be parsed. */
  async read(id: string): Promise<OutputDocument | null> {
    const path = this.pathFor(id);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      if (code === 'EISDIR')
        throw new OutputCorruptError(path, 'it is a folder, not a file', { cause: error });
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new OutputCorruptError(path, `not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new OutputCorruptError(path, 'not a JSON object');
    const document = value as Partial<OutputDocument>;
    if (!('output' in document)) throw new OutputCorruptError(path, 'no "output" field');
    if (document.meta === null || typeof document.meta !== 'object')
      throw new OutputCorruptError(path, 'no "meta" object');
    return document as OutputDocument;
  }

  /** Streams the id of every output file; temp and hidden files are skipped; nothing when the root is missing. */
  async *listDone(): AsyncIterable<string> {
    for await (const { segments, isTemp } of walk(this.root, [])) {
      if (isTemp) continue;
      const id = idFromSegments(segments);
      if (id !== null) yield id;
    }
  }

  /** Every output document, streamed in folder order. */
  async *documents(): AsyncIterable<OutputDocument> {
    for await (const id of this.listDone()) {
      const document = await this.read(id);
      // Deleted between the listing and the read: it is no longer an output.
      if (document !== null) yield document;
    }
  }

  /** Removes temp files left by a crash mid-write; returns how many. Run it only while no write is under way. */
  async sweepTemp(): Promise<number> {
    let removed = 0;
    for await (const { path, isTemp } of walk(this.root, [])) {
      if (!isTemp) continue;
      try {
        await unlink(path);
        removed++;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return removed;
  }

  /** Opens a new temp file; a folder removed behind the store's back is created again once. */
  private async openTemp(temp: string, folder: string) {
    try {
      return await open(temp, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.knownFolders.clear();
      await this.ensureFolder(folder);
      return open(temp, 'wx');
    }
  }

  /** Creates the folder and makes each new folder's entry durable in its parent. */
  private async ensureFolder(folder: string): Promise<void> {
    if (this.knownFolders.has(folder)) return;
    // Bounded: a workload with millions of folders must not grow this without limit.
    if (this.knownFolders.size >= 10_000) this.knownFolders.clear();
    const first = await makeFolder(folder);
    this.knownFolders.add(folder);
    if (first === undefined) return;
    // mkdir returns the top-most folder it created: fsync from its parent down to `folder`.
    const chain: string[] = [];
    for (let current = folder; current.length >= first.length; current = dirname(current))
      chain.unshift(current);
    await syncFolder(dirname(first));
    for (const created of chain.slice(0, -1)) await syncFolder(created);
  }
}

interface WalkEntry {
  path: string;
  segments: string[];
  isTemp: boolean;
}

/** Files under `folder`, depth first, streamed; hidden folders are not entered (temp files are hidden files). */
async function* walk(folder: string, segments: string[]): AsyncGenerator<WalkEntry> {
  let dir;
  try {
    dir = await opendir(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw error;
  }
  for await (const entry of dir) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.')) yield* walk(path, [...segments, entry.name]);
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      if (isTempName(entry.name)) yield { path, segments: [...segments, entry.name], isTemp: true };
      else if (!entry.name.startsWith('.'))
        yield { path, segments: [...segments, entry.name], isTemp: false };
    }
  }
}
