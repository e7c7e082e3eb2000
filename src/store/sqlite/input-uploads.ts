import type Database from 'better-sqlite3';
import { ACTIVE_JOB_STATES, type UnusedInputFile } from '../store.js';
import { writeTransaction } from './database.js';

/**
 * Records the name a job's JSONL input is about to be uploaded under, as the job's input file and
 * as an upload to delete once no active job uses it, in one transaction: a crash at any instant of
 * the upload that follows leaves a name the sweep finds.
 */
export function recordInputUpload(db: Database.Database, jobId: string, name: string, at: string): void {
  writeTransaction(db, () => {
    db.prepare('INSERT OR IGNORE INTO input_uploads (name, job_id, recorded_at) VALUES (?, ?, ?)').run(
      name,
      jobId,
      at,
    );
    db.prepare('UPDATE jobs SET input_file = ?, updated_at = ? WHERE id = ?').run(name, at, jobId);
  })();
}

/**
 * Recorded uploads that no active job (an intent, or a job pending, running or succeeded and not yet
 * processed) names as its input: refused, split, abandoned, ended, or replaced by a newer upload;
 * those whose last delete failed only once their next try is due (`at` or before).
 */
export function unusedInputUploads(db: Database.Database, limit: number, at: string): UnusedInputFile[] {
  const rows = db
    .prepare(
      `SELECT name, delete_failures FROM input_uploads u
        WHERE (next_delete_at IS NULL OR next_delete_at <= ?)
          AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.input_file = u.name
                            AND j.state IN (${ACTIVE_JOB_STATES.map(() => '?').join(', ')}))
        ORDER BY recorded_at, name LIMIT ?`,
    )
    .all(at, ...ACTIVE_JOB_STATES, limit) as Array<{ name: string; delete_failures: number }>;
  return rows.map((row) => ({ name: row.name, deleteFailures: row.delete_failures }));
}

/** Notes a failed delete of an upload: how many in a row, and not to try again before `notBefore`. */
export function deferInputUpload(
  db: Database.Database,
  name: string,
  failures: number,
  notBefore: string,
): void {
  db.prepare('UPDATE input_uploads SET delete_failures = ?, next_delete_at = ? WHERE name = ?').run(
    failures,
    notBefore,
    name,
  );
}

/** Forgets an upload once it is deleted (or found gone). */
export function forgetInputUpload(db: Database.Database, name: string): void {
  db.prepare('DELETE FROM input_uploads WHERE name = ?').run(name);
}
