import { relative } from 'node:path';
import { OutputPathClashError, OutputSinkChangedError, RecordIdCaseClashError } from './errors.js';
import { ignoresLetterCase } from './letter-case.js';
import { FOLDER_NAMED_LIKE_A_FILE, idsFiledAtFoldersOf, outputPath } from './paths.js';
import { OutputStore, type OutputDocument } from './output-store.js';
import type { CommittedOutput, GroupWrite, OutputIndex, OutputRecovery, OutputSink } from './sink.js';

/** Files written at once: each is its own fsync, so overlapping them hides the disk latency. */
const WRITE_CONCURRENCY = 16;
/**
 * Documents per group: the store commits their completions together. A crash before the commit only
 * means the group's files are written again (each replaces itself atomically).
 */
const GROUP_SIZE = 64;

/** Ids looked at per page when looking for paths that clash. */
const CLASH_PAGE = 1000;
/** Groups of ids equal but for letter case named in the error; the rest are counted. */
const CASE_CLASHES_NAMED = 10;

export interface FilesSinkOptions {
  /** Whether the output folder ignores letter case; probed on the folder by default. */
  ignoresLetterCase?: (folder: string) => Promise<boolean>;
}

/**
 * Outputs as one atomic JSON file per record, `<root>/<id>.json`: the filesystem-native layout, and
 * the source of truth for what is done (a file that exists marks its record done at start-up; a
 * deleted one has it run again).
 */
export class FilesSink implements OutputSink {
  readonly kind = 'files' as const;
  readonly groupSize = GROUP_SIZE;
  readonly files: OutputStore;

  constructor(
    root: string,
    private readonly index: OutputIndex,
    private readonly options: FilesSinkOptions = {},
  ) {
    this.files = new OutputStore(root);
  }

  get root(): string {
    return this.files.root;
  }

  async recover(): Promise<OutputRecovery> {
    const previous = await this.index.claimOutputSink('files');
    if (previous !== null) throw new OutputSinkChangedError('files', previous, this.root);
    await this.files.sweepTemp();
    const caseBlind = await (this.options.ignoresLetterCase ?? ignoresLetterCase)(this.root);
    if (caseBlind) await this.refuseCaseBlindClashes();
    else await this.refusePathClashes();
    return this.index.reconcileDone(this.files.listDone());
  }

  /**
   * Stops at the first record whose output file would be another's folder (RECORD_ID_CLASH): the
   * write of the second would fail after its request was paid for. Only ids with a folder named like
   * an output file (rare) are looked at, found by one scan of the id index.
   */
  private async refusePathClashes(): Promise<void> {
    let after = '';
    for (;;) {
      const folderIds = await this.index.idsMatching(FOLDER_NAMED_LIKE_A_FILE, after, CLASH_PAGE);
      for (const folderId of folderIds) {
        const [fileId] = await this.index.knownIds(idsFiledAtFoldersOf(folderId));
        if (fileId !== undefined)
          throw new OutputPathClashError(
            fileId,
            folderId,
            relative(this.root, outputPath(this.root, fileId)),
          );
      }
      if (folderIds.length < CLASH_PAGE) return;
      after = folderIds[folderIds.length - 1] as string;
    }
  }

  /**
   * On a folder that ignores letter case, ids equal but for case share one output file
   * (RECORD_ID_CASE_CLASH), and `A` is the file that `a.json/b` needs as a folder (RECORD_ID_CLASH):
   * both are found by one scan of the ids compared case-blind, before anything is sent.
   */
  private async refuseCaseBlindClashes(): Promise<void> {
    const scan = await this.index.foldedIdScan(FOLDER_NAMED_LIKE_A_FILE);
    if (scan.shared.length > 0) {
      const named = await this.index.idsFoldedTo(scan.shared.slice(0, CASE_CLASHES_NAMED));
      throw new RecordIdCaseClashError([...named.values()], scan.shared.length, this.root);
    }
    if (scan.matching.length === 0) return;
    // Rare (ids with a folder named like an output file): the ids behind them take one more scan.
    const filedAt = new Map(scan.matching.map((folded) => [folded, idsFiledAtFoldersOf(folded)]));
    const ids = await this.index.idsFoldedTo([...scan.matching, ...[...filedAt.values()].flat()]);
    for (const [folderKey, fileKeys] of filedAt) {
      const fileId = fileKeys.map((key) => ids.get(key)?.[0]).find((id) => id !== undefined);
      const folderId = ids.get(folderKey)?.[0];
      if (fileId !== undefined && folderId !== undefined)
        throw new OutputPathClashError(fileId, folderId, relative(this.root, outputPath(this.root, fileId)));
    }
  }

  async writeGroup(documents: readonly OutputDocument[]): Promise<GroupWrite> {
    let next = 0;
    const worker = async () => {
      while (next < documents.length) {
        const document = documents[next++] as OutputDocument;
        await this.files.write(document.id, document);
      }
    };
    await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, documents.length) }, worker));
    return { locations: documents.map(() => null), commit: null };
  }

  async read(id: string): Promise<OutputDocument | null> {
    return this.files.read(id);
  }

  async *readMany(
    wanted: readonly CommittedOutput[],
  ): AsyncIterable<CommittedOutput & { document: OutputDocument | null }> {
    for (const { id, location } of wanted) yield { id, location, document: await this.files.read(id) };
  }

  async *readOutputs(wanted: readonly CommittedOutput[]): AsyncIterable<{ id: string; output: unknown }> {
    for await (const { id, document } of this.readMany(wanted))
      if (document) yield { id, output: document.output };
  }

  documents(): AsyncIterable<OutputDocument> {
    return this.files.documents();
  }

  /** Nothing to take back: a file counts by its store row, and the retry's write replaces it. */
  async discardGroup(): Promise<void> {}

  async checkpoint(): Promise<void> {}

  async close(): Promise<void> {}
}
