import type Database from 'better-sqlite3';
import type {
  CommittedOutput,
  FoldedIdScan,
  OutputLocation,
  OutputRecovery,
  OutputSinkKind,
  ShardCommit,
} from '../../outputs/index.js';
import { writeTransaction } from './database.js';

/** Rows written per transaction while streaming found outputs into the store. */
const ADOPT_BATCH = 1000;

/** Columns that clear a record's JSONL location (any status but done has none). */
export const CLEAR_LOCATION = 'output_shard = NULL, output_offset = NULL, output_length = NULL';

/** Records the sink kind, or returns the other kind that holds done records (see OutputIndex). */
export function claimOutputSink(db: Database.Database, kind: OutputSinkKind): OutputSinkKind | null {
  return writeTransaction(db, (): OutputSinkKind | null => {
    const stored = db.prepare('SELECT kind FROM output_sink WHERE id = 1').pluck().get() as
      OutputSinkKind | undefined;
    // Stores from before sinks existed only ever held output files.
    const previous = stored ?? 'files';
    if (previous !== kind) {
      const anyDone = db.prepare(`SELECT 1 FROM records WHERE status = 'done' LIMIT 1`).get();
      if (anyDone) return previous;
    }
    if (stored !== kind)
      db.prepare(
        'INSERT INTO output_sink (id, kind) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET kind = ?',
      ).run(kind, kind);
    return null;
  })();
}

/** Every shard's committed length, in shard order. */
export function committedShards(db: Database.Database): ShardCommit[] {
  return db.prepare('SELECT shard, bytes FROM output_shards ORDER BY shard').all() as ShardCommit[];
}

/** Stores a shard's committed length (inside the caller's transaction). */
export function commitShard(db: Database.Database, commit: ShardCommit): void {
  db.prepare(
    'INSERT INTO output_shards (shard, bytes) VALUES (?, ?) ON CONFLICT (shard) DO UPDATE SET bytes = excluded.bytes',
  ).run(commit.shard, commit.bytes);
}

/** Reopens the done records whose line does not fit in a shard's first `size` bytes (see OutputIndex). */
export function cutShard(
  db: Database.Database,
  shard: number,
  size: number,
  at: string,
): { reopened: number; bytes: number } {
  return writeTransaction(db, () => {
    const reopened = db
      .prepare(
        `UPDATE records SET status = 'blocked', ${CLEAR_LOCATION}, updated_at = ?
           WHERE output_shard = ? AND output_offset + output_length + 1 > ?`,
      )
      .run(at, shard, size).changes;
    const bytes = Number(
      db
        .prepare(
          'SELECT COALESCE(MAX(output_offset + output_length + 1), 0) FROM records WHERE output_shard = ?',
        )
        .pluck()
        .get(shard),
    );
    commitShard(db, { shard, bytes });
    return { reopened, bytes };
  })();
}

/** Marks records done at the outputs found in unknown shards, and commits the shards (see OutputIndex). */
export async function adoptShardOutputs(
  db: Database.Database,
  found: AsyncIterable<CommittedOutput & { location: OutputLocation }>,
  shards: readonly ShardCommit[],
  at: string,
): Promise<OutputRecovery> {
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS found_outputs (
      id TEXT PRIMARY KEY, shard INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL
    ) WITHOUT ROWID; DELETE FROM found_outputs;`);
  // An id found twice (a line written again after a crash) counts at its last line.
  const insert = db.prepare(
    `INSERT INTO found_outputs (id, shard, offset, length) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET shard = excluded.shard, offset = excluded.offset, length = excluded.length`,
  );
  const insertBatch = writeTransaction(db, (batch: Array<CommittedOutput & { location: OutputLocation }>) => {
    for (const { id, location } of batch) insert.run(id, location.shard, location.offset, location.length);
  });
  let batch: Array<CommittedOutput & { location: OutputLocation }> = [];
  for await (const output of found) {
    batch.push(output);
    if (batch.length >= ADOPT_BATCH) {
      insertBatch(batch);
      batch = [];
    }
  }
  insertBatch(batch);
  return writeTransaction(db, () => {
    // In-flight records keep their flight: their job's results are applied (and located) again.
    const markedDone = db
      .prepare(
        `UPDATE records SET status = 'done', job_id = NULL, output_shard = found.shard,
             output_offset = found.offset, output_length = found.length, updated_at = ?
           FROM found_outputs AS found
           WHERE found.id = records.id AND records.status <> 'in_flight'`,
      )
      .run(at).changes;
    for (const shard of shards) commitShard(db, shard);
    db.exec('DELETE FROM found_outputs');
    return { markedDone, reopened: 0 };
  })();
}

/** Done records located in a shard after an offset, in offset order. */
export function shardOutputs(
  db: Database.Database,
  shard: number,
  afterOffset: number,
  limit: number,
): CommittedOutput[] {
  const rows = db
    .prepare(
      `SELECT id, output_offset AS offset, output_length AS length FROM records
         WHERE output_shard = ? AND output_offset > ? ORDER BY output_offset LIMIT ?`,
    )
    .all(shard, afterOffset, limit) as Array<{ id: string; offset: number; length: number }>;
  return rows.map((row) => ({ id: row.id, location: { shard, offset: row.offset, length: row.length } }));
}

/** Record ids matching a GLOB and sorting after `after`, in id order (a scan of the id index). */
export function idsMatching(db: Database.Database, glob: string, after: string, limit: number): string[] {
  return db
    .prepare('SELECT id FROM records WHERE id > ? AND id GLOB ? ORDER BY id LIMIT ?')
    .pluck()
    .all(after, glob, limit) as string[];
}

/** Which of `ids` are ids of records. */
export function knownIds(db: Database.Database, ids: readonly string[]): string[] {
  const lookup = db.prepare('SELECT 1 FROM records WHERE id = ?').pluck();
  return ids.filter((id) => lookup.get(id) !== undefined);
}

/**
 * The ids as a file system that ignores letter case sees them (A–Z lower-cased by `lower()`), in one
 * scan: the folded ids more than one id shares, and the folded ids matching `folderGlob`. Only the
 * folded ids leave SQLite; the ids behind the few that matter are asked for by `idsFoldedTo`.
 */
export function foldedIdScan(db: Database.Database, folderGlob: string): FoldedIdScan {
  const rows = db
    .prepare(
      `SELECT lower(id) AS folded, count(*) > 1 AS shared, lower(id) GLOB ? AS matching FROM records
         GROUP BY folded HAVING shared OR matching ORDER BY folded`,
    )
    .all(folderGlob) as Array<{ folded: string; shared: number; matching: number }>;
  return {
    shared: rows.filter((row) => row.shared === 1).map((row) => row.folded),
    matching: rows.filter((row) => row.matching === 1).map((row) => row.folded),
  };
}

/** The ids whose `lower()` is one of `folded`, by folded id (a scan of every id: ask only when needed). */
export function idsFoldedTo(db: Database.Database, folded: readonly string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const rows = db
    .prepare(
      `SELECT lower(id) AS folded, id FROM records
         WHERE lower(id) IN (SELECT value FROM json_each(?)) ORDER BY folded, id`,
    )
    .all(JSON.stringify(folded)) as Array<{ folded: string; id: string }>;
  for (const { folded: key, id } of rows) found.set(key, [...(found.get(key) ?? []), id]);
  return found;
}
