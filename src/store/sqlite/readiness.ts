import type Database from 'better-sqlite3';
import type { RecordCounts, StoredRecord } from '../store.js';
import { writeTransaction } from './database.js';
import { scopeCondition } from './record-scope.js';
import { RECORD_SELECT, toStoredRecord, type RecordDbRow } from './rows.js';

/** Moves blocked records whose predecessor is done to ready, and ready ones whose predecessor is not back. */
export function refreshReadiness(db: Database.Database, at: string): void {
  writeTransaction(db, () => {
    // Correlated lookups by primary key: the cost follows the blocked and ready records, not the
    // done ones (a million done records made the IN (SELECT ...) form take seconds).
    db.prepare(
      `UPDATE records SET status = 'ready', updated_at = ?
           WHERE status = 'blocked' AND (predecessor_id IS NULL OR EXISTS (
             SELECT 1 FROM records p WHERE p.id = records.predecessor_id AND p.status = 'done'))`,
    ).run(at);
    db.prepare(
      `UPDATE records SET status = 'blocked', updated_at = ?
           WHERE status = 'ready' AND predecessor_id IS NOT NULL AND NOT EXISTS (
             SELECT 1 FROM records p WHERE p.id = records.predecessor_id AND p.status = 'done')`,
    ).run(at);
  })();
}

/** The record with this id, or null. */
export function getRecord(db: Database.Database, id: string): StoredRecord | null {
  const row = db.prepare(`${RECORD_SELECT} WHERE r.id = ?`).get(id) as RecordDbRow | undefined;
  return row ? toStoredRecord(row) : null;
}

/** Up to `limit` ready records, longest remaining chains first (within the scope, when `scoped`). */
export function listReady(db: Database.Database, limit: number, scoped = false): StoredRecord[] {
  const rows = db
    .prepare(
      `${RECORD_SELECT} WHERE r.status = 'ready'${scopeCondition(scoped, 'r')}
         ORDER BY r.remaining DESC, r.chain_id, r.position LIMIT ?`,
    )
    .all(limit) as RecordDbRow[];
  return rows.map(toStoredRecord);
}

/** Whether a record is ready or in flight (within the scope, when `scoped`): one probe of the status index. */
export function hasOpenRecords(db: Database.Database, scoped = false): boolean {
  const row = db
    .prepare(
      `SELECT EXISTS (SELECT 1 FROM records r WHERE r.status IN ('ready', 'in_flight')${scopeCondition(scoped, 'r')}) AS open`,
    )
    .get() as { open: number };
  return row.open === 1;
}

/**
 * Chains with records still to run, by records left (within the scope, when `scoped`): a count of
 * the ready and in-flight records by `remaining`, read from the status index alone.
 */
export function runnableChainDepths(db: Database.Database, scoped = false): Map<number, number> {
  const rows = db
    .prepare(
      `SELECT r.remaining AS depth, COUNT(*) AS n FROM records r
         WHERE r.status IN ('ready', 'in_flight')${scopeCondition(scoped, 'r')} GROUP BY r.remaining`,
    )
    .all() as Array<{ depth: number; n: number }>;
  return new Map(rows.map((row) => [row.depth, row.n]));
}

/** How many records are in each status, plus the total (of the scope, when `scoped`). */
export function countRecords(db: Database.Database, scoped = false): RecordCounts {
  const rows = db
    .prepare(
      `SELECT status, COUNT(*) AS n FROM records r WHERE 1${scopeCondition(scoped, 'r')} GROUP BY status`,
    )
    .all() as Array<{
    status: keyof RecordCounts;
    n: number;
  }>;
  const counts: RecordCounts = { blocked: 0, ready: 0, in_flight: 0, done: 0, dead: 0, total: 0 };
  for (const row of rows) {
    counts[row.status] = row.n;
    counts.total += row.n;
  }
  return counts;
}
