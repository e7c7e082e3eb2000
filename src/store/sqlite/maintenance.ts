import type Database from 'better-sqlite3';
import type { FailureFilter, FailureRow } from '../store.js';
import { writeTransaction } from './database.js';
import { toFailureRow, type FailureDbRow } from './rows.js';

/**
 * Logged failures in order: optionally only one record's, or only the failure that last
 * dead-lettered each record still dead. A record requeued and dead again has a final failure per
 * death; the earlier ones stay in the history but are not why it is dead now.
 */
export function listFailures(db: Database.Database, filter: FailureFilter): FailureRow[] {
  const conditions: string[] = [];
  const values: Array<string | number> = [];
  if (filter.deadOnly)
    conditions.push(
      `id IN (SELECT MAX(id) FROM failures WHERE final = 1 GROUP BY record_id)
       AND record_id IN (SELECT id FROM records WHERE status = 'dead')`,
    );
  if (filter.recordId !== undefined) {
    conditions.push('record_id = ?');
    values.push(filter.recordId);
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const rows = db
    .prepare(`SELECT * FROM failures ${where} ORDER BY id LIMIT ?`)
    .all(...values, filter.limit ?? -1) as FailureDbRow[];
  return rows.map(toFailureRow);
}

/** How many failures were logged per cause, most frequent first. */
export function failureCauses(db: Database.Database): Array<{ cause: string; count: number }> {
  return db
    .prepare('SELECT cause, COUNT(*) AS count FROM failures GROUP BY cause ORDER BY count DESC, cause')
    .all() as Array<{ cause: string; count: number }>;
}

/**
 * Ready when its predecessor is done (or it has none), blocked otherwise: a requeued record takes its
 * place at once, since a start-up over an unchanged source does not refresh readiness.
 */
const REQUEUED_STATUS = `CASE WHEN predecessor_id IS NULL OR EXISTS (
    SELECT 1 FROM records p WHERE p.id = records.predecessor_id AND p.status = 'done')
  THEN 'ready' ELSE 'blocked' END`;

/** Sends dead records (all, or those with the given ids) back to the queue with no attempts; returns how many. */
export function requeueDead(db: Database.Database, ids: string[] | undefined, at: string): number {
  return writeTransaction(db, () => {
    if (!ids) {
      return db
        .prepare(
          `UPDATE records SET status = ${REQUEUED_STATUS}, attempts = 0, expiries = 0, updated_at = ? WHERE status = 'dead'`,
        )
        .run(at).changes;
    }
    const update = db.prepare(
      `UPDATE records SET status = ${REQUEUED_STATUS}, attempts = 0, expiries = 0, updated_at = ? WHERE status = 'dead' AND id = ?`,
    );
    return ids.reduce((sum, id) => sum + update.run(at, id).changes, 0);
  })();
}

/**
 * Deletes the failure log and zeroes every record's attempts; returns how many failures were deleted.
 * The failure that dead-lettered a record still dead is kept: without it `failures --dead` said "no
 * dead letters" while status, the run's summary and its exit code 3 counted one, its reason lost.
 */
export function clearFailures(db: Database.Database): number {
  return writeTransaction(db, () => {
    const cleared = db
      .prepare(
        `DELETE FROM failures WHERE id NOT IN (
           SELECT MAX(id) FROM failures
           WHERE final = 1 AND record_id IN (SELECT id FROM records WHERE status = 'dead')
           GROUP BY record_id)`,
      )
      .run().changes;
    db.prepare('UPDATE records SET attempts = 0, expiries = 0 WHERE attempts <> 0 OR expiries <> 0').run();
    return cleared;
  })();
}

/** Empties every table, keeping the schema. */
export function resetTables(db: Database.Database): void {
  db.exec(
    'DELETE FROM job_records; DELETE FROM jobs; DELETE FROM failures; DELETE FROM records; DELETE FROM record_inputs; DELETE FROM runs; DELETE FROM media_files; DELETE FROM events; DELETE FROM attempt_totals; DELETE FROM run_usage; DELETE FROM run_attempts; DELETE FROM run_jobs; DELETE FROM texts; DELETE FROM output_shards; DELETE FROM output_sink; DELETE FROM file_digests; DELETE FROM assembly_states; DELETE FROM export_watermarks; ' +
      "DELETE FROM store_meta WHERE key = 'source_fingerprint';",
  );
}

/** SQLite's quick check and the foreign-key check, as one line per problem (empty when sound). */
export function checkIntegrity(db: Database.Database): string[] {
  const problems = (db.pragma('quick_check') as Array<{ quick_check: string }>)
    .map((row) => row.quick_check)
    .filter((line) => line !== 'ok');
  for (const row of db.pragma('foreign_key_check') as Array<{ table: string; rowid: number; parent: string }>)
    problems.push(`${row.table} row ${row.rowid} refers to a missing ${row.parent} row`);
  return problems;
}
