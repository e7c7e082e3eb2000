import type Database from 'better-sqlite3';
import type { WorkloadRecord } from '../../workload/record.js';
import type { SyncSummary } from '../store.js';

/** Rows written per transaction while streaming records or output ids into the store. */
const SYNC_BATCH = 1000;

/** Upserts the workload's records in batches; `stamp` is read once per batch for `updated_at`. */
export async function syncRecords(
  db: Database.Database,
  records: AsyncIterable<WorkloadRecord>,
  stamp: () => string,
): Promise<SyncSummary> {
  const upsert = db.prepare(
    `INSERT INTO records (id, chain_id, position, vars_json, media_json, updated_at)
       VALUES (@id, @chainId, @position, @vars, @media, @at)
       ON CONFLICT (id) DO UPDATE SET chain_id = excluded.chain_id, position = excluded.position,
         vars_json = excluded.vars_json, media_json = excluded.media_json`,
  );
  const writeBatch = db.transaction((batch: WorkloadRecord[]) => {
    let inserted = 0;
    const at = stamp();
    for (const record of batch) {
      const before = db.prepare('SELECT 1 FROM records WHERE id = ?').get(record.id);
      upsert.run({
        id: record.id,
        chainId: record.chainId,
        position: record.position,
        vars: JSON.stringify(record.vars),
        media: JSON.stringify(record.media),
        at,
      });
      if (!before) inserted++;
    }
    return inserted;
  });
  let seen = 0;
  let inserted = 0;
  let batch: WorkloadRecord[] = [];
  for await (const record of records) {
    batch.push(record);
    seen++;
    if (batch.length >= SYNC_BATCH) {
      inserted += writeBatch(batch);
      batch = [];
    }
  }
  if (batch.length > 0) inserted += writeBatch(batch);
  return { seen, inserted };
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
  const insertBatch = db.transaction((ids: string[]) => {
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
  return db.transaction(() => {
    const markedDone = db
      .prepare(
        `UPDATE records SET status = 'done', job_id = NULL, updated_at = ?
           WHERE status <> 'done' AND status <> 'in_flight' AND id IN (SELECT id FROM output_ids)`,
      )
      .run(at).changes;
    const reopened = db
      .prepare(
        `UPDATE records SET status = 'blocked', updated_at = ?
           WHERE status = 'done' AND id NOT IN (SELECT id FROM output_ids)`,
      )
      .run(at).changes;
    db.exec('DELETE FROM output_ids');
    return { markedDone, reopened };
  })();
}
