import type Database from 'better-sqlite3';
import type { ShardCommit } from '../../outputs/index.js';
import type { FailureInput, FailureOutcome, RecordSuccess } from '../store.js';
import type { InferenceEvent } from '../event-log.js';
import { writeTransaction } from './database.js';
import { insertEvents } from './event-log.js';
import { CLEAR_LOCATION, commitShard } from './output-index.js';

/**
 * Marks in-flight records done at their output location, bills their job (a synchronous request has
 * none), unblocks successors and commits the shard length their lines end at; returns how many applied.
 */
export function completeRecords(
  db: Database.Database,
  successes: readonly RecordSuccess[],
  commit: ShardCommit | null,
  at: string,
): number {
  const settled = `UPDATE records SET status = 'done', redo = 0, expiries = 0, job_id = NULL, request_id = NULL,
         claimed_at = NULL, input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,
         output_shard = ?, output_offset = ?, output_length = ?, updated_at = ?`;
  const finishInJob = db.prepare(`${settled} WHERE id = ? AND status = 'in_flight' AND job_id = ?`);
  const finishInRequest = db.prepare(`${settled} WHERE id = ? AND status = 'in_flight' AND request_id = ?`);
  const finishReady = db.prepare(`${settled} WHERE id = ? AND status = 'ready'`);
  const bill = db.prepare(
    'UPDATE jobs SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ? WHERE id = ?',
  );
  // Successors are unblocked in one statement for the whole group, after the completions. `+status`
  // keeps SQLite off the status index: through it the update would visit every blocked record.
  const unblock = db.prepare(
    `UPDATE records SET status = 'ready', updated_at = ?
       WHERE predecessor_id IN (SELECT value FROM json_each(?)) AND +status = 'blocked'`,
  );
  return writeTransaction(db, () => {
    const completed: string[] = [];
    const events: InferenceEvent[] = [];
    // Billed once per job of the group, not once per record.
    const billed = new Map<string, { input: number; output: number }>();
    for (const success of successes) {
      // Only the record's current flight counts, so a replayed result (after a crash) changes nothing.
      const location = success.location ?? null;
      const requestId = success.requestId ?? null;
      const flight = requestId ?? success.jobId;
      if (flight === null && !success.ready) continue;
      const values = [
        success.inputTokens,
        success.outputTokens,
        location?.shard ?? null,
        location?.offset ?? null,
        location?.length ?? null,
        at,
        success.recordId,
      ];
      const changed = (
        flight === null
          ? finishReady.run(...values)
          : (requestId === null ? finishInJob : finishInRequest).run(...values, flight)
      ).changes;
      if (changed === 0) continue;
      if (requestId === null && success.jobId !== null) {
        const job = billed.get(success.jobId) ?? { input: 0, output: 0 };
        job.input += success.inputTokens;
        job.output += success.outputTokens;
        billed.set(success.jobId, job);
      }
      // Logged only with the completion it describes, so a replayed result is logged once. An output
      // the sink keeps at a location (a JSONL line) is referred to there, not stored a second time.
      if (success.event)
        events.push(
          location && success.event.output !== undefined
            ? { ...success.event, outputLocation: location }
            : success.event,
        );
      completed.push(success.recordId);
    }
    insertEvents(db, events);
    if (completed.length > 0) unblock.run(at, JSON.stringify(completed));
    for (const [jobId, tokens] of billed) bill.run(tokens.input, tokens.output, jobId);
    // The lines up to here are committed with the completions that refer to them, atomically.
    if (commit) commitShard(db, commit);
    return completed.length;
  })();
}

/** Counts a failed attempt, sends the record back to ready or to dead, and logs the failure. */
export function failRecord(
  db: Database.Database,
  failure: FailureInput,
  maxRetries: number,
  retryable: boolean,
  at: string,
): FailureOutcome {
  return writeTransaction(db, (): FailureOutcome => {
    // A failure applies to the record's current flight only (or, with no job or request, to a
    // ready record that could not be sent), so replaying a processed result after a crash changes nothing.
    const requestId = failure.requestId ?? null;
    const row = (
      requestId !== null
        ? db
            .prepare(
              `SELECT attempts, expiries FROM records WHERE id = ? AND status = 'in_flight' AND request_id = ?`,
            )
            .get(failure.recordId, requestId)
        : failure.jobId === null
          ? db
              .prepare(`SELECT attempts, expiries FROM records WHERE id = ? AND status = 'ready'`)
              .get(failure.recordId)
          : db
              .prepare(
                `SELECT attempts, expiries FROM records WHERE id = ? AND status = 'in_flight' AND job_id = ?`,
              )
              .get(failure.recordId, failure.jobId)
    ) as { attempts: number; expiries: number } | undefined;
    if (!row) return 'stale';
    // An expired job counts an expiry, not an attempt: its records' retries are kept for their answers.
    const attempts = failure.expiry ? row.attempts : row.attempts + 1;
    const expiries = failure.expiry ? row.expiries + 1 : row.expiries;
    const dead = !retryable || (failure.expiry ? expiries : attempts) > maxRetries;
    db.prepare(
      `UPDATE records SET status = ?, attempts = ?, expiries = ?, job_id = NULL, request_id = NULL,
           claimed_at = NULL, updated_at = ? WHERE id = ?`,
    ).run(dead ? 'dead' : 'ready', attempts, expiries, at, failure.recordId);
    insertFailure(db, failure, dead, at);
    billFailedRow(db, failure);
    const outcome = dead ? 'dead' : 'retry';
    if (failure.event)
      insertEvents(db, [
        failure.event.kind === 'attempt' ? { ...failure.event, type: outcome } : failure.event,
      ]);
    return outcome;
  })();
}

/**
 * Files a billed try whose request goes on (sent again) as a failure that is not final, with its
 * event, in one transaction: the log had the try and the failure log not, so `failures` and
 * `status` counted fewer failures than the report's failure analysis of the same run.
 */
export function logFailedTry(
  db: Database.Database,
  failure: FailureInput & { event: InferenceEvent },
  at: string,
): void {
  writeTransaction(db, () => {
    insertFailure(db, failure, false, at);
    insertEvents(db, [failure.event]);
  })();
}

/**
 * Adds a failed batch row's billed tokens (its event's) to its job, as a completion's are: Google
 * bills an answer that failed validation (invalid JSON, MAX_TOKENS, a safety block) like any other,
 * and the job's tokens left them out, so `jobs` showed less than its job cost.
 */
function billFailedRow(db: Database.Database, failure: FailureInput): void {
  const event = failure.event;
  if (failure.jobId === null || (failure.requestId ?? null) !== null || event?.kind !== 'attempt') return;
  if (event.inputTokens === 0 && event.outputTokens === 0) return;
  db.prepare(
    'UPDATE jobs SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ? WHERE id = ?',
  ).run(event.inputTokens, event.outputTokens, failure.jobId);
}

function insertFailure(db: Database.Database, failure: FailureInput, final: boolean, at: string): void {
  db.prepare(
    `INSERT INTO failures (record_id, job_id, request_id, attempt, cause, message, raw, prompt_name, prompt_version, prompt_hash, final, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    failure.recordId,
    failure.jobId,
    failure.requestId ?? null,
    failure.attempt,
    failure.cause,
    failure.message,
    failure.raw,
    failure.promptName,
    failure.promptVersion,
    failure.promptHash,
    final ? 1 : 0,
    at,
  );
}

/** Returns a job's in-flight records to ready, optionally counting the attempt; returns how many. */
export function releaseJobRecords(
  db: Database.Database,
  jobId: string,
  countAttempt: boolean,
  at: string,
): number {
  return db
    .prepare(
      `UPDATE records SET status = 'ready', job_id = NULL, attempts = attempts + ?, updated_at = ?
         WHERE job_id = ? AND status = 'in_flight'`,
    )
    .run(countAttempt ? 1 : 0, at, jobId).changes;
}

/**
 * In-flight records whose job is missing or not active any more. A synchronous claim has no job, so
 * it is stranded too: only the lease holder releases, and its own requests are never mid-flight then.
 */
const STRANDED = `status = 'in_flight' AND (job_id IS NULL OR job_id NOT IN (
  SELECT id FROM jobs WHERE state IN ('intent', 'pending', 'running', 'succeeded')))`;

/** How many in-flight records have no active job. */
export function countStrandedRecords(db: Database.Database): number {
  return (db.prepare(`SELECT COUNT(*) AS n FROM records WHERE ${STRANDED}`).get() as { n: number }).n;
}

/** Returns in-flight records whose job is missing or finished without success to ready; returns how many. */
export function releaseStrandedRecords(db: Database.Database, at: string): number {
  return db
    .prepare(
      `UPDATE records SET status = 'ready', job_id = NULL, request_id = NULL, claimed_at = NULL, updated_at = ?
         WHERE ${STRANDED}`,
    )
    .run(at).changes;
}

/** Counts a failed attempt for every record still in flight in an intent, then deletes the intent. */
export function failJobIntent(
  db: Database.Database,
  jobId: string,
  failures: readonly FailureInput[],
  maxRetries: number,
  at: string,
): Array<{ recordId: string; outcome: FailureOutcome }> {
  // Nested transactions are savepoints: all failures and the deletion commit together, so a crash
  // never leaves an intent whose records were already sent back to the queue. A failure whose record
  // is no longer in flight in this intent is 'stale' and changes nothing.
  return writeTransaction(db, () => {
    const outcomes = failures.map((failure) => ({
      recordId: failure.recordId,
      outcome: failRecord(db, { ...failure, jobId }, maxRetries, true, at),
    }));
    db.prepare(`DELETE FROM jobs WHERE id = ? AND state = 'intent'`).run(jobId);
    return outcomes;
  })();
}

/** Reopens a done record whose output is gone; its ready successors wait for it again. */
export function reopenRecord(db: Database.Database, recordId: string, at: string): boolean {
  return writeTransaction(db, () => {
    const reopened = db
      .prepare(
        `UPDATE records SET status = 'ready', ${CLEAR_LOCATION}, updated_at = ? WHERE id = ? AND status = 'done'`,
      )
      .run(at, recordId).changes;
    if (reopened === 0) return false;
    db.prepare(
      `UPDATE records SET status = 'blocked', updated_at = ? WHERE predecessor_id = ? AND status = 'ready'`,
    ).run(at, recordId);
    return true;
  })();
}
