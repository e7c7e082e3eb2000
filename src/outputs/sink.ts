import type { OutputDocument } from './output-store.js';

/** How outputs are kept: one JSON file per record, or append-only JSON Lines shards with a manifest. */
export type OutputSinkKind = 'files' | 'jsonl';

/** Where a record's line lies in a JSONL shard; the state store keeps it, so no shard is searched. */
export interface OutputLocation {
  /** Shard number: `part-<shard>.jsonl`. */
  shard: number;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** Bytes of the line without its newline. */
  length: number;
}

/** A shard's committed length, stored with the completions whose lines end there. */
export interface ShardCommit {
  shard: number;
  bytes: number;
}

/** What writing a group of documents produced. */
export interface GroupWrite {
  /** Each document's location, in the order given; null for a sink that addresses outputs by id. */
  locations: Array<OutputLocation | null>;
  /** The shard length to commit in the same store transaction as these completions; null if none. */
  commit: ShardCommit | null;
}

/** What start-up found and repaired in the outputs. */
export interface OutputRecovery {
  /** Records marked done because their output was found (files written before a crash, adopted shards). */
  markedDone: number;
  /** Done records sent back to the queue because their output is gone. */
  reopened: number;
}

/** What `OutputIndex.foldedIdScan` found: folded ids (A–Z lower-cased), in folded order. */
export interface FoldedIdScan {
  /** Folded ids that more than one id has. */
  shared: string[];
  /** Folded ids matching the folder pattern asked for. */
  matching: string[];
}

/** A record whose output is committed, for exports: its id and, in a JSONL sink, where its line is. */
export interface CommittedOutput {
  id: string;
  location: OutputLocation | null;
}

/**
 * The state store's side of the outputs: done-state and, for JSONL shards, each line's location and
 * each shard's committed length. A JSONL line counts only up to its shard's committed length, so a
 * crash after a shard write and before the store commit leaves no done record without its line.
 */
export interface OutputIndex {
  /** Marks exactly these ids done (their output files exist) and every other done record pending. */
  reconcileDone(doneIds: AsyncIterable<string>): Promise<OutputRecovery>;
  /** Record ids matching an SQLite GLOB pattern and sorting after `after`, in id order, at most `limit`. */
  idsMatching(glob: string, after: string, limit: number): Promise<string[]>;
  /** Which of `ids` are ids of records. */
  knownIds(ids: readonly string[]): Promise<string[]>;
  /**
   * One scan of the ids as a file system that ignores letter case sees them (A–Z lower-cased): the
   * folded ids more than one id shares, and the folded ids matching `folderGlob`.
   */
  foldedIdScan(folderGlob: string): Promise<FoldedIdScan>;
  /** The ids that fold (A–Z lower-cased) to each of `folded`, in id order; folded ids no id has are left out. */
  idsFoldedTo(folded: readonly string[]): Promise<Map<string, string[]>>;
  /** Every shard's committed length, by shard number. */
  committedShards(): Promise<ShardCommit[]>;
  /**
   * A shard was cut short or lost and only its first `size` bytes remain: reopens the done records
   * whose line does not fit in them, and commits the end of the last line that does.
   */
  cutShard(shard: number, size: number): Promise<{ reopened: number; bytes: number }>;
  /**
   * Adopts outputs found in shards the store does not know (after a reset, or with a new store):
   * records not in flight are marked done at their (last) location; the shards become committed.
   */
  adoptShardOutputs(
    found: AsyncIterable<CommittedOutput & { location: OutputLocation }>,
    shards: readonly ShardCommit[],
  ): Promise<OutputRecovery>;
  /**
   * Records `kind` as the sink that holds the done records. When records are done in another kind of
   * sink, nothing changes and that kind is returned (switching would send them all again).
   */
  claimOutputSink(kind: OutputSinkKind): Promise<OutputSinkKind | null>;
  /** Done records with a location in `shard` after `afterOffset`, in offset order, at most `limit`. */
  shardOutputs(shard: number, afterOffset: number, limit: number): Promise<CommittedOutput[]>;
}

/**
 * Where validated outputs go. A record is done once its output is durable in the sink AND the store
 * says so: the runner writes a group, then commits the group's completions (with `commit`) in one
 * store transaction.
 */
export interface OutputSink {
  readonly kind: OutputSinkKind;
  /** The output folder. */
  readonly root: string;
  /** Documents made durable together: one fsync (JSONL) or a bounded set of concurrent ones (files). */
  readonly groupSize: number;
  /**
   * Repairs what a crash left (temp files, an uncommitted shard tail) and aligns the store's
   * done-state with the outputs; run before any write, while no other process writes.
   */
  recover(): Promise<OutputRecovery>;
  /** Makes the documents durable; returns their locations and the commit the store records with them. */
  writeGroup(documents: readonly OutputDocument[]): Promise<GroupWrite>;
  /**
   * The store did not commit `written`, the last group written (it failed, or was busy): its records
   * are not done, and what it wrote must not count when a later group is committed.
   */
  discardGroup(written: GroupWrite): Promise<void>;
  /** The document of a done record; null when it has none. */
  read(id: string, location: OutputLocation | null): Promise<OutputDocument | null>;
  /**
   * The documents of many done records, in the order the sink reads them best (JSONL: by shard and
   * offset, nearby lines in one read), each with the location it was asked at (the same record may be
   * asked at several); null for one that has none. A damaged one throws, as `read`.
   */
  readMany(
    wanted: readonly CommittedOutput[],
  ): AsyncIterable<CommittedOutput & { document: OutputDocument | null }>;
  /**
   * The outputs alone of many done records, as `readMany` reads them (what a successor's context is
   * taken from); a record without a document is left out, and a line not its record's throws, as
   * `read`. A sink may leave the rest of a document unread: JSONL parses only the output of a line it
   * wrote, not its metadata (most of the line), which made a round's context reads a third cheaper.
   */
  readOutputs(wanted: readonly CommittedOutput[]): AsyncIterable<{ id: string; output: unknown }>;
  /** Every committed document, streamed (files: in folder order; JSONL: in shard order). */
  documents(): AsyncIterable<OutputDocument>;
  /** Brings outside-facing metadata (the JSONL manifest) up to date with the store. */
  checkpoint(): Promise<void>;
  /** Writes the last checkpoint and releases open files. */
  close(): Promise<void>;
}
