import type Database from 'better-sqlite3';
import type { ClaimedRecord, ReadyClaim } from '../store.js';
import { writeTransaction } from './database.js';
import { RECORD_SELECT, toStoredRecord, type RecordDbRow } from './rows.js';

/**
 * Moves up to `claim.limit` ready records in flight, each in its own synchronous request
 * (`<claimId>-<n>`), in one transaction: a record another claim or a job took first is not ready any
 * more and is skipped, so no record is ever in two flights.
 */
export function claimReady(db: Database.Database, claim: ReadyClaim, at: string): ClaimedRecord[] {
  if (claim.limit <= 0) return [];
  return writeTransaction(db, () => {
    const candidates =
      claim.recordIds === undefined
        ? (
            db
              .prepare(
                `SELECT id FROM records WHERE status = 'ready'
                   ORDER BY remaining DESC, chain_id, position LIMIT ?`,
              )
              .all(claim.limit) as Array<{ id: string }>
          ).map((row) => row.id)
        : [...new Set(claim.recordIds)];
    const take = db.prepare(
      `UPDATE records SET status = 'in_flight', job_id = NULL, lane = ?, request_id = ?, claimed_at = ?,
           updated_at = ? WHERE id = ? AND status = 'ready'`,
    );
    const read = db.prepare(`${RECORD_SELECT} WHERE r.id = ?`);
    const claimed: ClaimedRecord[] = [];
    for (const id of candidates) {
      if (claimed.length >= claim.limit) break;
      const requestId = `${claim.claimId}-${claimed.length}`;
      if (take.run(claim.lane, requestId, at, at, id).changes !== 1) continue;
      const row = read.get(id) as RecordDbRow;
      claimed.push({ ...toStoredRecord(row), lane: claim.lane, requestId, claimedAt: at });
    }
    return claimed;
  })();
}

/** Returns a claimed record to ready without counting an attempt; false if the request no longer owns it. */
export function releaseClaim(
  db: Database.Database,
  recordId: string,
  requestId: string,
  at: string,
): boolean {
  return (
    db
      .prepare(
        `UPDATE records SET status = 'ready', request_id = NULL, claimed_at = NULL, updated_at = ?
           WHERE id = ? AND status = 'in_flight' AND request_id = ?`,
      )
      .run(at, recordId, requestId).changes === 1
  );
}
