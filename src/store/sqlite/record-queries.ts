import type Database from 'better-sqlite3';
import type { JobRecord, JobState, RecordAttempt, RecordFilter, StoredRecord } from '../store.js';
import { RECORD_SELECT, toStoredRecord, type RecordDbRow } from './rows.js';
import { RECORD_ROW } from './row-placement.js';

/** Records in id or chain order matching every condition of the filter (read-only: for status, export, the API). */
export function listRecords(db: Database.Database, filter: RecordFilter): StoredRecord[] {
  const conditions: string[] = [];
  const values: Array<string | number> = [];
  if (filter.status !== undefined) {
    conditions.push(walksInOrder(db, filter) ? '+r.status = ?' : 'r.status = ?');
    values.push(filter.status);
  }
  if (filter.chainId !== undefined) {
    conditions.push('r.chain_id = ?');
    values.push(filter.chainId);
  }
  if (filter.jobId !== undefined) {
    conditions.push('r.job_id = ?');
    values.push(filter.jobId);
  }
  if (filter.afterId !== undefined) {
    conditions.push('r.id > ?');
    values.push(filter.afterId);
  }
  if (filter.afterChain !== undefined) {
    // A row value, so the chain index is entered at the key: the same test spelt with OR made
    // SQLite scan the index from its start for every page (60 ms a page halfway through a million).
    conditions.push('(r.chain_id, r.position) > (?, ?)');
    values.push(filter.afterChain.chainId, filter.afterChain.position);
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const order = filter.order === 'chain' ? 'r.chain_id, r.position' : 'r.id';
  const rows = db
    .prepare(`${RECORD_SELECT} ${where} ORDER BY ${order} LIMIT ?`)
    .all(...values, filter.limit ?? -1) as RecordDbRow[];
  return rows.map(toStoredRecord);
}

/** Records of one status above which a page of them is found by walking the listing's order. */
export const MANY_WITH_STATUS = 2_000;

/**
 * Whether a page of records of one status is better found by walking the listing's order (id, or
 * chain and position) and testing the status on the way than through the status index. Through the
 * index SQLite sorts every record of the status for each page: with a million done records a page
 * took 0.2 s, and `status --stale`, which pages through them, seven minutes. Walking costs a pass
 * over the table in all, whatever the pages; for a rare status (a few dead letters) the index is far
 * cheaper, so it is kept below MANY_WITH_STATUS records (counted up to there, in under a millisecond).
 */
function walksInOrder(db: Database.Database, filter: RecordFilter): boolean {
  if (filter.status === undefined || filter.limit === undefined) return false;
  if (filter.chainId !== undefined || filter.jobId !== undefined) return false;
  const counted = db
    .prepare('SELECT COUNT(*) FROM (SELECT 1 FROM records WHERE status = ? LIMIT ?)')
    .pluck()
    .get(filter.status, MANY_WITH_STATUS) as number;
  return counted >= MANY_WITH_STATUS;
}

/** See WorkloadStore.recordsInJob: through the job index, no predecessor join, nothing parsed. */
export function recordsInJob(db: Database.Database, jobId: string): JobRecord[] {
  return db
    .prepare(
      `SELECT id, chain_id AS chainId, position, predecessor_id AS predecessorId, status, job_id AS jobId,
              expiries
         FROM records WHERE job_id = ?`,
    )
    .all(jobId) as JobRecord[];
}

/** The jobs a record was a member of, oldest first, with the attempt it carried in each. */
export function recordAttempts(db: Database.Database, recordId: string): RecordAttempt[] {
  return db
    .prepare(
      `SELECT j.id AS jobId, j.remote_name AS remoteName, m.attempt AS attempt, m.prompt_hash AS promptHash,
              j.state AS jobState, j.created_at AS createdAt, j.updated_at AS updatedAt
         FROM job_records m JOIN jobs j ON j.id = m.job_id
        WHERE m.record_key = ${RECORD_ROW} ORDER BY j.created_at, j.id`,
    )
    .all(recordId) as Array<RecordAttempt & { jobState: JobState }>;
}
