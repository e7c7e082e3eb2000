import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { JobMember, JobRow, JobState, NewJob } from '../store.js';
import { writeTransaction } from './database.js';
import { toJobRow, type JobDbRow } from './rows.js';
import { RECORD_ROW } from './row-placement.js';

/** Records the job as an intent and claims its ready members; throws STORE_CONFLICT if one is not ready. */
export function createJobIntent(db: Database.Database, job: NewJob, at: string): void {
  writeTransaction(db, () => {
    const estimated = job.members.reduce((sum, member) => sum + member.estimatedTokens, 0);
    const audio = Math.round(job.members.reduce((sum, member) => sum + (member.audioTokens ?? 0), 0));
    db.prepare(
      `INSERT INTO jobs (id, model, state, kind, request_count, requests, estimated_tokens, estimated_audio_tokens, created_at, updated_at)
           VALUES (?, ?, 'intent', ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      job.id,
      job.model,
      job.kind,
      job.members.length,
      job.requests ?? job.members.length,
      estimated,
      audio,
      at,
      at,
    );
    const member = db.prepare(
      `INSERT INTO job_records (job_id, record_id, attempt, prompt_hash, estimated_tokens, audio_tokens, request, context_digest, source_hash, record_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ${RECORD_ROW})`,
    );
    for (const m of job.members)
      member.run(
        job.id,
        m.recordId,
        m.attempt,
        m.promptHash,
        m.estimatedTokens,
        m.audioTokens ?? 0,
        m.request ?? null,
        m.contextDigest ?? null,
        m.sourceHash ?? null,
        m.recordId,
      );
    // One statement claims them all, by the rows the memberships point at (`+status` keeps SQLite
    // off the status index, through which it would visit every ready record).
    const claimed = db
      .prepare(
        `UPDATE records SET status = 'in_flight', job_id = ?, lane = 'batch', updated_at = ?
           WHERE +status = 'ready' AND rowid IN (SELECT record_key FROM job_records WHERE job_id = ?)`,
      )
      .run(job.id, at, job.id).changes;
    if (claimed !== job.members.length) {
      // Some member was not ready (or is unknown): name the first, and the transaction rolls back.
      const inJob = db.prepare('SELECT job_id AS jobId FROM records WHERE id = ?');
      const refused = job.members.find(
        (m) => (inJob.get(m.recordId) as { jobId: string | null } | undefined)?.jobId !== job.id,
      );
      throw new StoreError(
        'STORE_CONFLICT',
        `Record ${refused?.recordId ?? '?'} is not ready; it cannot join job ${job.id}.`,
      );
    }
  })();
}

/** Returns an unsent job's records to ready and deletes the job if it is still an intent. */
export function abandonJobIntent(db: Database.Database, jobId: string, at: string): void {
  writeTransaction(db, () => {
    db.prepare(
      `UPDATE records SET status = 'ready', job_id = NULL, updated_at = ? WHERE job_id = ? AND status = 'in_flight'`,
    ).run(at, jobId);
    db.prepare(`DELETE FROM jobs WHERE id = ? AND state = 'intent'`).run(jobId);
  })();
}

/** Stores the remote name (and input file, when given) and moves the job to pending. */
export function markJobSubmitted(
  db: Database.Database,
  jobId: string,
  remoteName: string,
  inputFile: string | null,
  at: string,
): void {
  db.prepare(
    `UPDATE jobs SET remote_name = ?, input_file = COALESCE(?, input_file), state = 'pending', updated_at = ? WHERE id = ?`,
  ).run(remoteName, inputFile, at, jobId);
}

/** Sets the job's state, keeping its previous error when `error` is null. */
export function updateJobState(
  db: Database.Database,
  jobId: string,
  state: JobState,
  error: string | null,
  at: string,
): void {
  db.prepare('UPDATE jobs SET state = ?, error = COALESCE(?, error), updated_at = ? WHERE id = ?').run(
    state,
    error,
    at,
    jobId,
  );
}

/** The job with this id, or null. */
export function getJob(db: Database.Database, jobId: string): JobRow | null {
  const row = db.prepare('SELECT * FROM jobs WHERE id = ?').get(jobId) as JobDbRow | undefined;
  return row ? toJobRow(row) : null;
}

/** Jobs in creation order, optionally only those in the given states. */
export function listJobs(db: Database.Database, states?: readonly JobState[]): JobRow[] {
  const rows = states
    ? (db
        .prepare(
          `SELECT * FROM jobs WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY created_at, id`,
        )
        .all(...states) as JobDbRow[])
    : (db.prepare('SELECT * FROM jobs ORDER BY created_at, id').all() as JobDbRow[]);
  return rows.map(toJobRow);
}

/** The records a job was built from, ordered by record id. */
export function jobMembers(db: Database.Database, jobId: string): JobMember[] {
  const rows = db
    .prepare(
      `SELECT record_id AS recordId, attempt, prompt_hash AS promptHash, estimated_tokens AS estimatedTokens,
              audio_tokens AS audioTokens, request, context_digest AS contextDigest, source_hash AS sourceHash
         FROM job_records WHERE job_id = ? ORDER BY record_id`,
    )
    .all(jobId) as Array<JobMember & { request: number | null }>;
  // A job made before its requests were kept (migration 26) has none: the member says nothing.
  return rows.map(({ request, ...member }) => (request === null ? member : { ...member, request }));
}
