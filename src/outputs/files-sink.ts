import { relative } from 'node:path';
import { OutputPathClashError, OutputSinkChangedError } from './errors.js';
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
    await this.refusePathClashes();
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

  documents(): AsyncIterable<OutputDocument> {
    return this.files.documents();
  }

  async checkpoint(): Promise<void> {}

  async close(): Promise<void> {}
}
