import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { WorkloadRecord } from '../../workload/record.js';
import { StoreError } from '../errors.js';
import type {
  FailureInput,
  MediaFileRow,
  FailureOutcome,
  FailureRow,
  JobMember,
  JobRow,
  JobState,
  NewJob,
  RecordCounts,
  RecordSuccess,
  StoredRecord,
  SyncSummary,
  WorkloadStore,
} from '../store.js';
import { SqliteMediaFiles } from './media-files.js';
import { MIGRATIONS } from './migrations.js';
import {
  toFailureRow,
  toJobRow,
  toStoredRecord,
  type FailureDbRow,
  type JobDbRow,
  type RecordDbRow,
} from './rows.js';

const SYNC_BATCH = 1000;

export interface SqliteStoreOptions {
  /** Path of the database file; created with its folder when missing. */
  path: string;
  /** Injected clock for timestamps. */
  now?: () => Date;
}

/** The embedded default store: one SQLite file in WAL mode, no server needed. */
export class SqliteStore implements WorkloadStore {
  private readonly db: Database.Database;
  private readonly now: () => Date;
  private readonly mediaFiles: SqliteMediaFiles;

  constructor(options: SqliteStoreOptions) {
    this.now = options.now ?? (() => new Date());
    try {
      mkdirSync(dirname(options.path), { recursive: true });
      this.db = new Database(options.path);
    } catch (error) {
      throw new StoreError(
        'STORE_OPEN',
        `Cannot open the state store at ${options.path}: ${String(error)}. Check that the data_dir is writable.`,
        { cause: error },
      );
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate(options.path);
    this.mediaFiles = new SqliteMediaFiles(this.db);
  }

  private migrate(path: string): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new StoreError(
        'STORE_SCHEMA',
        `The state store at ${path} was written by a newer wavebatch (schema ${version}); upgrade wavebatch.`,
      );
    }
    for (let index = version; index < MIGRATIONS.length; index++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[index] ?? '');
        this.db.pragma(`user_version = ${index + 1}`);
      })();
    }
  }

  private stamp(): string {
    return this.now().toISOString();
  }

  async syncRecords(records: AsyncIterable<WorkloadRecord>): Promise<SyncSummary> {
    const upsert = this.db.prepare(
      `INSERT INTO records (id, chain_id, position, vars_json, media_json, updated_at)
       VALUES (@id, @chainId, @position, @vars, @media, @at)
       ON CONFLICT (id) DO UPDATE SET chain_id = excluded.chain_id, position = excluded.position,
         vars_json = excluded.vars_json, media_json = excluded.media_json`,
    );
    const writeBatch = this.db.transaction((batch: WorkloadRecord[]) => {
      let inserted = 0;
      const at = this.stamp();
      for (const record of batch) {
        const before = this.db.prepare('SELECT 1 FROM records WHERE id = ?').get(record.id);
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

  async linkChains(): Promise<void> {
    this.db.exec(`
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

  async reconcileDone(doneIds: AsyncIterable<string>): Promise<{ markedDone: number; reopened: number }> {
    // The output files are the truth: collect them in a temp table, then align record states.
    this.db.exec('CREATE TEMP TABLE IF NOT EXISTS output_ids (id TEXT PRIMARY KEY); DELETE FROM output_ids;');
    const insert = this.db.prepare('INSERT OR IGNORE INTO output_ids (id) VALUES (?)');
    const insertBatch = this.db.transaction((ids: string[]) => {
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
    const at = this.stamp();
    return this.db.transaction(() => {
      const markedDone = this.db
        .prepare(
          `UPDATE records SET status = 'done', job_id = NULL, updated_at = ?
           WHERE status <> 'done' AND status <> 'in_flight' AND id IN (SELECT id FROM output_ids)`,
        )
        .run(at).changes;
      const reopened = this.db
        .prepare(
          `UPDATE records SET status = 'blocked', updated_at = ?
           WHERE status = 'done' AND id NOT IN (SELECT id FROM output_ids)`,
        )
        .run(at).changes;
      this.db.exec('DELETE FROM output_ids');
      return { markedDone, reopened };
    })();
  }

  async refreshReadiness(): Promise<void> {
    const at = this.stamp();
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE records SET status = 'ready', updated_at = ?
           WHERE status = 'blocked' AND (predecessor_id IS NULL
             OR predecessor_id IN (SELECT id FROM records WHERE status = 'done'))`,
        )
        .run(at);
      this.db
        .prepare(
          `UPDATE records SET status = 'blocked', updated_at = ?
           WHERE status = 'ready' AND predecessor_id IS NOT NULL
             AND predecessor_id NOT IN (SELECT id FROM records WHERE status = 'done')`,
        )
        .run(at);
    })();
  }

  async getRecord(id: string): Promise<StoredRecord | null> {
    const row = this.db.prepare('SELECT * FROM records WHERE id = ?').get(id) as RecordDbRow | undefined;
    return row ? toStoredRecord(row) : null;
  }

  async listReady(limit: number): Promise<StoredRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM records WHERE status = 'ready'
         ORDER BY remaining DESC, chain_id, position LIMIT ?`,
      )
      .all(limit) as RecordDbRow[];
    return rows.map(toStoredRecord);
  }

  async counts(): Promise<RecordCounts> {
    const rows = this.db.prepare('SELECT status, COUNT(*) AS n FROM records GROUP BY status').all() as Array<{
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

  async createJobIntent(job: NewJob): Promise<void> {
    const at = this.stamp();
    this.db.transaction(() => {
      const estimated = job.members.reduce((sum, member) => sum + member.estimatedTokens, 0);
      this.db
        .prepare(
          `INSERT INTO jobs (id, model, state, kind, request_count, estimated_tokens, created_at, updated_at)
           VALUES (?, ?, 'intent', ?, ?, ?, ?, ?)`,
        )
        .run(job.id, job.model, job.kind, job.members.length, estimated, at, at);
      const member = this.db.prepare(
        `INSERT INTO job_records (job_id, record_id, attempt, prompt_hash, estimated_tokens) VALUES (?, ?, ?, ?, ?)`,
      );
      const claim = this.db.prepare(
        `UPDATE records SET status = 'in_flight', job_id = ?, updated_at = ? WHERE id = ? AND status = 'ready'`,
      );
      for (const m of job.members) {
        member.run(job.id, m.recordId, m.attempt, m.promptHash, m.estimatedTokens);
        if (claim.run(job.id, at, m.recordId).changes !== 1) {
          throw new StoreError(
            'STORE_CONFLICT',
            `Record ${m.recordId} is not ready; it cannot join job ${job.id}.`,
          );
        }
      }
    })();
  }

  async abandonJobIntent(jobId: string): Promise<void> {
    const at = this.stamp();
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE records SET status = 'ready', job_id = NULL, updated_at = ? WHERE job_id = ? AND status = 'in_flight'`,
        )
        .run(at, jobId);
      this.db.prepare(`DELETE FROM jobs WHERE id = ? AND state = 'intent'`).run(jobId);
    })();
  }

  async markJobSubmitted(jobId: string, remoteName: string, inputFile: string | null): Promise<void> {
    this.db
      .prepare(
        `UPDATE jobs SET remote_name = ?, input_file = COALESCE(?, input_file), state = 'pending', updated_at = ? WHERE id = ?`,
      )
      .run(remoteName, inputFile, this.stamp(), jobId);
  }

  async setJobInputFile(jobId: string, inputFile: string): Promise<void> {
    this.db
      .prepare('UPDATE jobs SET input_file = ?, updated_at = ? WHERE id = ?')
      .run(inputFile, this.stamp(), jobId);
  }

  async updateJobState(jobId: string, state: JobState, error: string | null = null): Promise<void> {
    this.db
      .prepare('UPDATE jobs SET state = ?, error = COALESCE(?, error), updated_at = ? WHERE id = ?')
      .run(state, error, this.stamp(), jobId);
  }

  async getJob(jobId: string): Promise<JobRow | null> {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(jobId) as JobDbRow | undefined;
    return row ? toJobRow(row) : null;
  }

  async listJobs(states?: readonly JobState[]): Promise<JobRow[]> {
    const rows = states
      ? (this.db
          .prepare(
            `SELECT * FROM jobs WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY created_at, id`,
          )
          .all(...states) as JobDbRow[])
      : (this.db.prepare('SELECT * FROM jobs ORDER BY created_at, id').all() as JobDbRow[]);
    return rows.map(toJobRow);
  }

  async jobMembers(jobId: string): Promise<JobMember[]> {
    const rows = this.db
      .prepare(
        `SELECT record_id AS recordId, attempt, prompt_hash AS promptHash, estimated_tokens AS estimatedTokens
         FROM job_records WHERE job_id = ? ORDER BY record_id`,
      )
      .all(jobId) as JobMember[];
    return rows;
  }

  async completeRecord(success: RecordSuccess): Promise<boolean> {
    return (await this.completeRecords([success])) === 1;
  }

  async completeRecords(successes: readonly RecordSuccess[]): Promise<number> {
    if (successes.length === 0) return 0;
    const at = this.stamp();
    const finish = this.db.prepare(
      `UPDATE records SET status = 'done', job_id = NULL, input_tokens = input_tokens + ?,
         output_tokens = output_tokens + ?, updated_at = ?
       WHERE id = ? AND status = 'in_flight' AND job_id = ?`,
    );
    const bill = this.db.prepare(
      'UPDATE jobs SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ? WHERE id = ?',
    );
    const unblock = this.db.prepare(
      `UPDATE records SET status = 'ready', updated_at = ? WHERE predecessor_id = ? AND status = 'blocked'`,
    );
    return this.db.transaction(() => {
      let completed = 0;
      for (const success of successes) {
        // Only the record's current flight counts, so a replayed result (after a crash) changes nothing.
        const changed = finish.run(
          success.inputTokens,
          success.outputTokens,
          at,
          success.recordId,
          success.jobId,
        ).changes;
        if (changed === 0) continue;
        bill.run(success.inputTokens, success.outputTokens, success.jobId);
        unblock.run(at, success.recordId);
        completed++;
      }
      return completed;
    })();
  }

  async failRecord(failure: FailureInput, maxRetries: number, retryable: boolean): Promise<FailureOutcome> {
    const at = this.stamp();
    return this.db.transaction((): FailureOutcome => {
      // A failure applies to the record's current flight only (or, with no job, to a ready record
      // that could not be sent), so replaying a processed result after a crash changes nothing.
      const row = (
        failure.jobId === null
          ? this.db
              .prepare(`SELECT attempts FROM records WHERE id = ? AND status = 'ready'`)
              .get(failure.recordId)
          : this.db
              .prepare(`SELECT attempts FROM records WHERE id = ? AND status = 'in_flight' AND job_id = ?`)
              .get(failure.recordId, failure.jobId)
      ) as { attempts: number } | undefined;
      if (!row) return 'stale';
      const attempts = row.attempts + 1;
      const dead = !retryable || attempts > maxRetries;
      this.db
        .prepare(`UPDATE records SET status = ?, attempts = ?, job_id = NULL, updated_at = ? WHERE id = ?`)
        .run(dead ? 'dead' : 'ready', attempts, at, failure.recordId);
      this.insertFailure(failure, dead, at);
      return dead ? 'dead' : 'retry';
    })();
  }

  private insertFailure(failure: FailureInput, final: boolean, at: string): void {
    this.db
      .prepare(
        `INSERT INTO failures (record_id, job_id, attempt, cause, message, raw, prompt_name, prompt_version, prompt_hash, final, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        failure.recordId,
        failure.jobId,
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

  async releaseJobRecords(jobId: string, countAttempt: boolean): Promise<number> {
    const at = this.stamp();
    return this.db
      .prepare(
        `UPDATE records SET status = 'ready', job_id = NULL, attempts = attempts + ?, updated_at = ?
         WHERE job_id = ? AND status = 'in_flight'`,
      )
      .run(countAttempt ? 1 : 0, at, jobId).changes;
  }

  async releaseStrandedRecords(): Promise<number> {
    return this.db
      .prepare(
        `UPDATE records SET status = 'ready', job_id = NULL, updated_at = ?
         WHERE status = 'in_flight' AND job_id NOT IN (
           SELECT id FROM jobs WHERE state IN ('intent', 'pending', 'running', 'succeeded'))`,
      )
      .run(this.stamp()).changes;
  }

  async listFailures(options: { deadOnly?: boolean; limit?: number } = {}): Promise<FailureRow[]> {
    const where = options.deadOnly
      ? `WHERE final = 1 AND record_id IN (SELECT id FROM records WHERE status = 'dead')`
      : '';
    const rows = this.db
      .prepare(`SELECT * FROM failures ${where} ORDER BY id LIMIT ?`)
      .all(options.limit ?? -1) as FailureDbRow[];
    return rows.map(toFailureRow);
  }

  async failureCauses(): Promise<Array<{ cause: string; count: number }>> {
    return this.db
      .prepare('SELECT cause, COUNT(*) AS count FROM failures GROUP BY cause ORDER BY count DESC, cause')
      .all() as Array<{ cause: string; count: number }>;
  }

  async requeueDead(ids?: string[]): Promise<number> {
    const at = this.stamp();
    return this.db.transaction(() => {
      if (!ids) {
        return this.db
          .prepare(
            `UPDATE records SET status = 'blocked', attempts = 0, updated_at = ? WHERE status = 'dead'`,
          )
          .run(at).changes;
      }
      const update = this.db.prepare(
        `UPDATE records SET status = 'blocked', attempts = 0, updated_at = ? WHERE status = 'dead' AND id = ?`,
      );
      return ids.reduce((sum, id) => sum + update.run(at, id).changes, 0);
    })();
  }

  async clearFailures(): Promise<number> {
    return this.db.transaction(() => {
      const cleared = this.db.prepare('DELETE FROM failures').run().changes;
      this.db.prepare('UPDATE records SET attempts = 0 WHERE attempts <> 0').run();
      return cleared;
    })();
  }

  async reset(): Promise<void> {
    this.db.exec(
      'DELETE FROM job_records; DELETE FROM jobs; DELETE FROM failures; DELETE FROM records; DELETE FROM runs; DELETE FROM media_files;',
    );
  }

  async getMediaFile(sha256: string, mimeType: string): Promise<MediaFileRow | null> {
    return this.mediaFiles.get(sha256, mimeType);
  }

  async saveMediaFile(row: MediaFileRow): Promise<void> {
    this.mediaFiles.save(row);
  }

  async forgetMediaFile(sha256: string, mimeType: string): Promise<void> {
    this.mediaFiles.forget(sha256, mimeType);
  }

  async startRun(mode: string): Promise<number> {
    return Number(
      this.db.prepare('INSERT INTO runs (mode, started_at) VALUES (?, ?)').run(mode, this.stamp())
        .lastInsertRowid,
    );
  }

  async finishRun(runId: number, summary: unknown): Promise<void> {
    this.db
      .prepare('UPDATE runs SET finished_at = ?, summary_json = ? WHERE id = ?')
      .run(this.stamp(), JSON.stringify(summary), runId);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
