import type Database from 'better-sqlite3';
import type { Lane } from '../../lanes/lane.js';
import type {
  AttemptGroup,
  CauseCount,
  EventFilter,
  InferenceEvent,
  JobAttempts,
  RunRow,
  RunTotals,
  RunUsage,
  StoredEvent,
  StoredText,
} from '../event-log.js';
import type {
  AssemblyState,
  AssemblyStateFilter,
  CommittedOutput,
  FoldedIdScan,
  OutputLocation,
  OutputRecovery,
  OutputSinkKind,
  ShardCommit,
} from '../../outputs/index.js';
import type { WorkloadRecord } from '../../workload/record.js';
import type {
  ChainCounts,
  ClaimedRecord,
  FailureFilter,
  FailureInput,
  FileDigestRow,
  MediaFileRow,
  FailureOutcome,
  FailureRow,
  JobMember,
  JobRecord,
  JobRow,
  JobState,
  LeaseClaim,
  LeaseHolder,
  LeaseOutcome,
  NewJob,
  RecordAttempt,
  RecordCounts,
  RecordFilter,
  ReadyClaim,
  RecordSuccess,
  StoredRecord,
  SyncOptions,
  SyncSummary,
  CompletedUsage,
  UnusedInputFile,
  WorkloadStore,
} from '../store.js';
import { redact, redactNullable } from '../../secrets/redact.js';
import * as assembly from './assembly-states.js';
import * as watermarks from './export-watermarks.js';
import * as claims from './claims.js';
import * as completions from './completions.js';
import { durably, openDatabase } from './database.js';
import * as eventLog from './event-log.js';
import * as fileDigests from './file-digests.js';
import * as inputUploads from './input-uploads.js';
import * as jobs from './jobs.js';
import * as leases from './leases.js';
import * as maintenance from './maintenance.js';
import * as outputIndex from './output-index.js';
import * as sourceState from './source-state.js';
import { SqliteMediaFiles } from './media-files.js';
import * as progress from './progress.js';
import * as readiness from './readiness.js';
import * as recordQueries from './record-queries.js';
import * as recordSync from './record-sync.js';
import { setRecordScope } from './record-scope.js';
import * as runs from './runs.js';
import * as runTraces from './run-traces.js';
import type { TracedJob, TracedRun } from '../run-traces.js';
import type { WatermarkOf } from '../export-watermarks.js';
import { storeWriteError } from './write-failure.js';

export interface SqliteStoreOptions {
  /** Path of the database file; created with its folder when missing. */
  path: string;
  /** Injected clock for timestamps. */
  now?: () => Date;
  /** How long a write waits for another process's (default BUSY_TIMEOUT_MS, 5 s). */
  busyTimeoutMs?: number;
}

/**
 * The embedded default store: one SQLite file in WAL mode, no server needed. Each concept's SQL
 * lives in its own module (record-sync, readiness, record-queries, progress, claims, jobs, completions,
 * maintenance, media-files, event-log, runs, leases, assembly-states);
 * this class owns the connection and the clock and delegates to them.
 */
export class SqliteStore implements WorkloadStore {
  private readonly db: Database.Database;
  private readonly now: () => Date;
  private readonly mediaFiles: SqliteMediaFiles;
  /** True while listReady and counts are narrowed to a selection (see setRecordScope). */
  private scoped = false;

  constructor(options: SqliteStoreOptions) {
    this.now = options.now ?? (() => new Date());
    this.db = openDatabase(options.path, options.busyTimeoutMs);
    this.mediaFiles = new SqliteMediaFiles(this.db);
  }

  private stamp(): string {
    return this.now().toISOString();
  }

  async storeId(): Promise<string> {
    return leases.storeId(this.db);
  }

  async acquireLease(
    claim: LeaseClaim,
    isAbandoned: (holder: LeaseHolder) => boolean,
  ): Promise<LeaseOutcome> {
    return leases.acquireLease(this.db, claim, isAbandoned);
  }

  async renewLease(owner: string, now: number, ttlMs: number): Promise<boolean> {
    return leases.renewLease(this.db, owner, now, ttlMs);
  }

  async releaseLease(owner: string): Promise<void> {
    leases.releaseLease(this.db, owner);
  }

  async readLease(): Promise<LeaseHolder | null> {
    return leases.readLease(this.db);
  }

  async syncRecords(open: () => AsyncIterable<WorkloadRecord>, options?: SyncOptions): Promise<SyncSummary> {
    return recordSync.syncRecords(this.db, open, () => this.stamp(), options);
  }

  async syncedSourceFingerprint(): Promise<string | null> {
    return sourceState.syncedSourceFingerprint(this.db);
  }

  async saveSourceFingerprint(fingerprint: string | null): Promise<void> {
    sourceState.saveSourceFingerprint(this.db, fingerprint);
  }

  async linkChains(): Promise<void> {
    recordSync.linkChains(this.db);
  }

  async reconcileDone(doneIds: AsyncIterable<string>): Promise<OutputRecovery> {
    await recordSync.collectOutputIds(this.db, doneIds);
    return recordSync.alignDoneWithOutputIds(this.db, this.stamp());
  }

  async idsMatching(glob: string, after: string, limit: number): Promise<string[]> {
    return outputIndex.idsMatching(this.db, glob, after, limit);
  }

  async knownIds(ids: readonly string[]): Promise<string[]> {
    return outputIndex.knownIds(this.db, ids);
  }

  async foldedIdScan(folderGlob: string): Promise<FoldedIdScan> {
    return outputIndex.foldedIdScan(this.db, folderGlob);
  }

  async idsFoldedTo(folded: readonly string[]): Promise<Map<string, string[]>> {
    return outputIndex.idsFoldedTo(this.db, folded);
  }

  async claimOutputSink(kind: OutputSinkKind): Promise<OutputSinkKind | null> {
    return outputIndex.claimOutputSink(this.db, kind);
  }

  async committedShards(): Promise<ShardCommit[]> {
    return outputIndex.committedShards(this.db);
  }

  async cutShard(shard: number, size: number): Promise<{ reopened: number; bytes: number }> {
    return outputIndex.cutShard(this.db, shard, size, this.stamp());
  }

  async adoptShardOutputs(
    found: AsyncIterable<CommittedOutput & { location: OutputLocation }>,
    shards: readonly ShardCommit[],
  ): Promise<OutputRecovery> {
    return outputIndex.adoptShardOutputs(this.db, found, shards, this.stamp());
  }

  async shardOutputs(shard: number, afterOffset: number, limit: number): Promise<CommittedOutput[]> {
    return outputIndex.shardOutputs(this.db, shard, afterOffset, limit);
  }

  async markForRedo(ids: readonly string[]): Promise<number> {
    const marked = recordSync.markForRedo(this.db, ids, this.stamp());
    readiness.refreshReadiness(this.db, this.stamp());
    return marked;
  }

  async getFileDigest(path: string): Promise<FileDigestRow | null> {
    return fileDigests.getFileDigest(this.db, path);
  }

  async saveFileDigests(rows: readonly FileDigestRow[]): Promise<void> {
    fileDigests.saveFileDigests(this.db, rows);
  }

  async refreshReadiness(): Promise<void> {
    readiness.refreshReadiness(this.db, this.stamp());
  }

  async getRecord(id: string): Promise<StoredRecord | null> {
    return readiness.getRecord(this.db, id);
  }

  async listReady(limit: number): Promise<StoredRecord[]> {
    return readiness.listReady(this.db, limit, this.scoped);
  }

  async counts(): Promise<RecordCounts> {
    return readiness.countRecords(this.db, this.scoped);
  }

  async hasOpenRecords(): Promise<boolean> {
    return readiness.hasOpenRecords(this.db, this.scoped);
  }

  async scopeTo(ids: readonly string[] | null): Promise<void> {
    setRecordScope(this.db, ids);
    this.scoped = ids !== null;
  }

  async chainCounts(): Promise<ChainCounts> {
    return progress.chainCounts(this.db);
  }

  async completedUsage(longAbove: number | null, since: string): Promise<CompletedUsage> {
    return progress.completedUsage(this.db, longAbove, since);
  }

  async longestRunnableChain(): Promise<number> {
    return progress.longestRunnableChain(this.db);
  }

  async runnableChainDepths(): Promise<Map<number, number>> {
    return readiness.runnableChainDepths(this.db, this.scoped);
  }

  async listRecords(filter: RecordFilter = {}): Promise<StoredRecord[]> {
    return recordQueries.listRecords(this.db, filter);
  }

  async assemblyStates(filter: AssemblyStateFilter): Promise<AssemblyState[]> {
    return assembly.assemblyStates(this.db, filter);
  }

  async saveAssemblyStates(states: readonly AssemblyState[]): Promise<void> {
    assembly.saveAssemblyStates(this.db, states);
  }

  async exportWatermark(exporter: string, of: WatermarkOf = 'events'): Promise<number> {
    return watermarks.exportWatermark(this.db, exporter, of);
  }

  async tracedRuns(afterRunId: number, throughRunId: number, limit: number): Promise<TracedRun[]> {
    return runTraces.tracedRuns(this.db, afterRunId, throughRunId, limit);
  }

  async tracedJobs(runId: number): Promise<TracedJob[]> {
    return runTraces.tracedJobs(this.db, runId);
  }

  async advanceExportWatermark(exporter: string, eventId: number): Promise<void> {
    watermarks.advanceExportWatermark(this.db, exporter, eventId);
  }

  async recordsInJob(jobId: string): Promise<JobRecord[]> {
    return recordQueries.recordsInJob(this.db, jobId);
  }

  async recordAttempts(recordId: string): Promise<RecordAttempt[]> {
    return recordQueries.recordAttempts(this.db, recordId);
  }

  async claimReady(claim: ReadyClaim): Promise<ClaimedRecord[]> {
    return claims.claimReady(this.db, claim, this.stamp());
  }

  async releaseClaim(recordId: string, requestId: string): Promise<boolean> {
    return claims.releaseClaim(this.db, recordId, requestId, this.stamp());
  }

  // Job-level writes are committed durably (see `durably`): the intent must survive a power loss
  // before the remote create call it announces, or a job would run unknown to the store.
  async createJobIntent(job: NewJob): Promise<void> {
    durably(this.db, () => jobs.createJobIntent(this.db, job, this.stamp()));
  }

  async abandonJobIntent(jobId: string): Promise<void> {
    durably(this.db, () => jobs.abandonJobIntent(this.db, jobId, this.stamp()));
  }

  async failJobIntent(
    jobId: string,
    failures: readonly FailureInput[],
    maxRetries: number,
  ): Promise<Array<{ recordId: string; outcome: FailureOutcome }>> {
    const stored = failures.map((failure) => ({
      ...failure,
      message: redact(failure.message),
      raw: redactNullable(failure.raw),
    }));
    try {
      return durably(this.db, () =>
        completions.failJobIntent(this.db, jobId, stored, maxRetries, this.stamp()),
      );
    } catch (error) {
      const ids = failures.slice(0, 3).map((failure) => failure.recordId);
      const more = failures.length > 3 ? ` and ${failures.length - 3} more` : '';
      throw storeWriteError(
        this.db,
        `file the failures of job ${jobId}'s records (${ids.join(', ')}${more})`,
        error,
      );
    }
  }

  async markJobSubmitted(jobId: string, remoteName: string, inputFile: string | null): Promise<void> {
    durably(this.db, () => jobs.markJobSubmitted(this.db, jobId, remoteName, inputFile, this.stamp()));
  }

  async recordInputUpload(jobId: string, name: string): Promise<void> {
    durably(this.db, () => inputUploads.recordInputUpload(this.db, jobId, name, this.stamp()));
  }

  async unusedInputFiles(limit: number): Promise<UnusedInputFile[]> {
    return inputUploads.unusedInputUploads(this.db, limit, this.stamp());
  }

  async deferInputFile(name: string, failures: number, notBefore: number): Promise<void> {
    inputUploads.deferInputUpload(this.db, name, failures, new Date(notBefore).toISOString());
  }

  async forgetInputFile(name: string): Promise<void> {
    inputUploads.forgetInputUpload(this.db, name);
  }

  async updateJobState(jobId: string, state: JobState, error: string | null = null): Promise<void> {
    durably(this.db, () => jobs.updateJobState(this.db, jobId, state, redactNullable(error), this.stamp()));
  }

  async getJob(jobId: string): Promise<JobRow | null> {
    const job = jobs.getJob(this.db, jobId);
    return job && { ...job, error: redactNullable(job.error) };
  }

  async listJobs(states?: readonly JobState[]): Promise<JobRow[]> {
    // Job errors are the API's words: redacted on the way in, and again on the way out for old rows.
    return jobs.listJobs(this.db, states).map((job) => ({ ...job, error: redactNullable(job.error) }));
  }

  async jobMembers(jobId: string): Promise<JobMember[]> {
    return jobs.jobMembers(this.db, jobId);
  }

  async completeRecords(
    successes: readonly RecordSuccess[],
    commit: ShardCommit | null = null,
  ): Promise<number> {
    if (successes.length === 0 && commit === null) return 0;
    return completions.completeRecords(this.db, successes, commit, this.stamp());
  }

  async failRecord(failure: FailureInput, maxRetries: number, retryable: boolean): Promise<FailureOutcome> {
    // The API's words are stored only redacted: an echoed key must never reach the database file.
    const stored = { ...failure, message: redact(failure.message), raw: redactNullable(failure.raw) };
    try {
      return completions.failRecord(this.db, stored, maxRetries, retryable, this.stamp());
    } catch (error) {
      throw storeWriteError(this.db, `file the failure of ${failure.recordId}`, error);
    }
  }

  async logFailedTry(failure: FailureInput & { event: InferenceEvent }): Promise<void> {
    const stored = { ...failure, message: redact(failure.message), raw: redactNullable(failure.raw) };
    completions.logFailedTry(this.db, stored, this.stamp());
  }

  async releaseJobRecords(jobId: string, countAttempt: boolean): Promise<number> {
    return completions.releaseJobRecords(this.db, jobId, countAttempt, this.stamp());
  }

  async countStrandedRecords(): Promise<number> {
    return completions.countStrandedRecords(this.db);
  }

  async checkIntegrity(): Promise<string[]> {
    return maintenance.checkIntegrity(this.db);
  }

  async reopenRecord(recordId: string): Promise<boolean> {
    return completions.reopenRecord(this.db, recordId, this.stamp());
  }

  async releaseStrandedRecords(): Promise<number> {
    return completions.releaseStrandedRecords(this.db, this.stamp());
  }

  async listFailures(filter: FailureFilter = {}): Promise<FailureRow[]> {
    // Redacted again on the way out, for rows written before redaction existed.
    return maintenance
      .listFailures(this.db, filter)
      .map((row) => ({ ...row, message: redact(row.message), raw: redactNullable(row.raw) }));
  }

  async failureCauses(): Promise<Array<{ cause: string; count: number }>> {
    return maintenance.failureCauses(this.db);
  }

  async requeueDead(ids?: string[]): Promise<number> {
    return maintenance.requeueDead(this.db, ids, this.stamp());
  }

  async clearFailures(): Promise<number> {
    return maintenance.clearFailures(this.db);
  }

  async reset(): Promise<void> {
    maintenance.resetTables(this.db);
  }

  async getMediaFile(sha256: string, mimeType: string): Promise<MediaFileRow | null> {
    return this.mediaFiles.get(sha256, mimeType);
  }

  async saveMediaFile(row: MediaFileRow): Promise<void> {
    this.mediaFiles.save(row);
  }

  async startRun(mode: string, configHash: string | null = null): Promise<number> {
    return runs.startRun(this.db, mode, configHash, this.stamp());
  }

  async finishRun(runId: number, totals: RunTotals): Promise<void> {
    runs.finishRun(this.db, runId, totals, this.stamp());
  }

  async listRuns(limit = 100): Promise<RunRow[]> {
    return runs.listRuns(this.db, limit);
  }

  async firstRunStartedAt(): Promise<string | null> {
    return runs.firstRunStartedAt(this.db);
  }

  async getRun(runId: number): Promise<RunRow | null> {
    return runs.getRun(this.db, runId);
  }

  async appendEvents(events: readonly InferenceEvent[]): Promise<void> {
    eventLog.appendEvents(this.db, events);
  }

  async saveTexts(texts: readonly StoredText[]): Promise<void> {
    eventLog.saveTexts(this.db, texts, this.stamp());
  }

  async getText(hash: string, recordId?: string | null): Promise<StoredText | null> {
    return eventLog.getText(this.db, hash, recordId);
  }

  async listEvents(filter: EventFilter = {}): Promise<StoredEvent[]> {
    return eventLog.listEvents(this.db, filter);
  }

  async keptAnswerRecords(recordIds: readonly string[], cause: string): Promise<string[]> {
    return eventLog.keptAnswerRecords(this.db, recordIds, cause);
  }

  async attemptsAfter(afterId: number, limit: number): Promise<StoredEvent[]> {
    return eventLog.attemptsAfter(this.db, afterId, limit);
  }

  async attemptGroups(runId?: number): Promise<AttemptGroup[]> {
    return eventLog.attemptGroups(this.db, runId);
  }

  async causeCounts(runId?: number): Promise<CauseCount[]> {
    return eventLog.causeCounts(this.db, runId);
  }

  async jobAttempts(runId: number, limit = 10): Promise<JobAttempts[]> {
    return eventLog.jobAttempts(this.db, runId, limit);
  }

  async recentLatencies(lane: Lane, limit: number): Promise<number[]> {
    return eventLog.recentLatencies(this.db, lane, limit);
  }

  async runUsage(runId: number): Promise<RunUsage> {
    return eventLog.runUsage(this.db, runId);
  }

  async pruneEvents(before: string): Promise<{ events: number; texts: number }> {
    return eventLog.pruneEvents(this.db, before);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
