import type Database from 'better-sqlite3';
import type { WorkloadRecord } from '../../workload/record.js';
import type { SyncSummary } from '../store.js';
import { SourceError } from '../../workload/errors.js';
import { writeTransaction } from './database.js';
import { CLEAR_LOCATION } from './output-index.js';
import { isRowidTaken, RowPlacement } from './row-placement.js';

/** Rows written per transaction while streaming records or output ids into the store. */
const SYNC_BATCH = 1000;

/**
 * Upserts the workload's records in batches; `stamp` is read once per batch for `updated_at`.
 * Ids and (chain, position) pairs must be unique in one sync: the temp table `sync_seen` holds
 * where each was seen (on disk, never in memory), so a repeat is refused naming both places
 * instead of silently replacing the first record. Batches before the repeat stay written: the
 * next sync rewrites them from the corrected source.
 */
export async function syncRecords(
  db: Database.Database,
  records: AsyncIterable<WorkloadRecord>,
  stamp: () => string,
): Promise<SyncSummary> {
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS sync_ids (id TEXT PRIMARY KEY, origin TEXT NOT NULL) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS sync_positions (
      chain_id TEXT NOT NULL, position NUMERIC NOT NULL, origin TEXT NOT NULL,
      PRIMARY KEY (chain_id, position)) WITHOUT ROWID;
    DELETE FROM sync_ids; DELETE FROM sync_positions;
  `);
  const claimId = db.prepare('INSERT INTO sync_ids (id, origin) VALUES (?, ?) ON CONFLICT DO NOTHING');
  const firstOfId = db.prepare('SELECT origin FROM sync_ids WHERE id = ?').pluck();
  const claimPosition = db.prepare(
    'INSERT INTO sync_positions (chain_id, position, origin) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const firstAtPosition = db
    .prepare('SELECT origin FROM sync_positions WHERE chain_id = ? AND position = ?')
    .pluck();
  // The row, then its inputs beside it (see migration 16): written only when they changed, so a
  // sync of an edited source rewrites the inputs of the records it edited, not of every record.
  const upsert = db
    .prepare(
      `INSERT INTO records (rowid, id, chain_id, position, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET chain_id = excluded.chain_id, position = excluded.position
         RETURNING rowid`,
    )
    .pluck();
  const upsertInputs = db.prepare(
    `INSERT INTO record_inputs (record_key, vars_json, media_json) VALUES (?, ?, ?)
       ON CONFLICT (record_key) DO UPDATE SET vars_json = excluded.vars_json, media_json = excluded.media_json
         WHERE vars_json IS NOT excluded.vars_json OR media_json IS NOT excluded.media_json`,
  );
  // The first sync of a store (no record yet) only inserts: every id is new (a repeat is refused by
  // the checks above before it is written), so the upsert's conflict handling and RETURNING are
  // skipped. Inputs replace a leftover row of the same key, should one exist.
  const insertNew = db.prepare(
    'INSERT INTO records (rowid, id, chain_id, position, updated_at) VALUES (?, ?, ?, ?, ?)',
  );
  const insertInputs = db.prepare(
    'INSERT OR REPLACE INTO record_inputs (record_key, vars_json, media_json) VALUES (?, ?, ?)',
  );
  const placement = new RowPlacement(db);
  let seen = 0;
  // New records counted by the table's size, not by a lookup per record.
  const countRecords = db.prepare('SELECT COUNT(*) FROM records').pluck();
  const before = Number(countRecords.get());
  const fresh = before === 0;
  const write = (rowid: number | null, values: unknown[]): number | bigint =>
    fresh
      ? insertNew.run(rowid, ...values).lastInsertRowid
      : (upsert.get(rowid, ...values) as number | bigint);
  const writeBatch = writeTransaction(db, (batch: WorkloadRecord[]) => {
    const at = stamp();
    for (const record of batch) {
      seen++;
      const origin = record.origin ?? `record ${seen} of the source`;
      if (claimId.run(record.id, origin).changes === 0)
        throw duplicateId(record, String(firstOfId.get(record.id)), origin);
      if (claimPosition.run(record.chainId, record.position, origin).changes === 0)
        throw duplicatePosition(record, String(firstAtPosition.get(record.chainId, record.position)), origin);
      // Bound by position: cheaper than by name, once per record of the source.
      const rowid = placement.rowidFor(record.chainId, record.position);
      const values = [record.id, record.chainId, record.position, at];
      let key: number | bigint;
      try {
        key = write(rowid, values);
      } catch (error) {
        // The place is another row's (see RowPlacement): SQLite picks one instead.
        if (rowid === null || !isRowidTaken(error)) throw error;
        key = write(null, values);
      }
      (fresh ? insertInputs : upsertInputs).run(
        key,
        JSON.stringify(record.vars),
        JSON.stringify(record.media),
      );
    }
    placement.save();
  });
  let batch: WorkloadRecord[] = [];
  try {
    for await (const record of records) {
      batch.push(record);
      if (batch.length >= SYNC_BATCH) {
        writeBatch(batch);
        batch = [];
      }
    }
    if (batch.length > 0) writeBatch(batch);
  } finally {
    db.exec('DELETE FROM sync_ids; DELETE FROM sync_positions;');
  }
  // Records are never deleted by a sync, so the growth is what was new.
  return { seen, inserted: Number(countRecords.get()) - before };
}

function duplicateId(record: WorkloadRecord, first: string, second: string): SourceError {
  return new SourceError(
    'SOURCE_DUPLICATE_ID',
    `${first} and ${second} both have id ${JSON.stringify(record.id)}: ids must be unique (each names ` +
      'one output file); remove or rename one',
  );
}

function duplicatePosition(record: WorkloadRecord, first: string, second: string): SourceError {
  return new SourceError(
    'SOURCE_DUPLICATE_POSITION',
    `${first} and ${second} are both at position ${record.position} of chain ${JSON.stringify(record.chainId)}: ` +
      'positions order a chain, so they must differ within it; fix one',
  );
}

/** Sets each record's predecessor and the number of records left in its chain (itself included). */
export function linkChains(db: Database.Database): void {
  db.exec(`
      WITH ordered AS (
        SELECT id,
          LAG(id) OVER chain AS predecessor,
          COUNT(*) OVER (PARTITION BY chain_id) - ROW_NUMBER() OVER chain + 1 AS remaining
        FROM records WINDOW chain AS (PARTITION BY chain_id ORDER BY position, id)
      )
      UPDATE records SET predecessor_id = ordered.predecessor, remaining = ordered.remaining
      FROM ordered WHERE ordered.id = records.id
        AND (records.predecessor_id IS NOT ordered.predecessor OR records.remaining <> ordered.remaining)
    `);
}

/** Fills the temp table `output_ids` with the ids found in the output files. */
export async function collectOutputIds(db: Database.Database, doneIds: AsyncIterable<string>): Promise<void> {
  // The output files are the truth: collect them in a temp table, then align record states.
  db.exec('CREATE TEMP TABLE IF NOT EXISTS output_ids (id TEXT PRIMARY KEY); DELETE FROM output_ids;');
  const insert = db.prepare('INSERT OR IGNORE INTO output_ids (id) VALUES (?)');
  const insertBatch = writeTransaction(db, (ids: string[]) => {
    for (const id of ids) insert.run(id);
  });
  let batch: string[] = [];
  for await (const id of doneIds) {
    batch.push(id);
    if (batch.length >= SYNC_BATCH) {
      insertBatch(batch);
      batch = [];
    }
  }
  insertBatch(batch);
}

/** Marks records with output as done and reopens done records without it, then empties `output_ids`. */
export function alignDoneWithOutputIds(
  db: Database.Database,
  at: string,
): { markedDone: number; reopened: number } {
  return writeTransaction(db, () => {
    const markedDone = db
      .prepare(
        `UPDATE records SET status = 'done', job_id = NULL, ${CLEAR_LOCATION}, updated_at = ?
           WHERE status <> 'done' AND status <> 'in_flight' AND redo = 0 AND id IN (SELECT id FROM output_ids)`,
      )
      .run(at).changes;
    const reopened = db
      .prepare(
        `UPDATE records SET status = 'blocked', ${CLEAR_LOCATION}, updated_at = ?
           WHERE status = 'done' AND id NOT IN (SELECT id FROM output_ids)`,
      )
      .run(at).changes;
    db.exec('DELETE FROM output_ids');
    return { markedDone, reopened };
  })();
}

/** Sends done records back to blocked with the redo mark (readiness follows); returns how many. */
export function markForRedo(db: Database.Database, ids: readonly string[], at: string): number {
  const mark = db.prepare(
    `UPDATE records SET status = 'blocked', redo = 1, updated_at = ? WHERE id = ? AND status = 'done'`,
  );
  return writeTransaction(db, () => ids.reduce((sum, id) => sum + mark.run(at, id).changes, 0))();
}
