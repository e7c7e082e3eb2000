import type { WorkloadRecord } from '../workload/record.js';
import type { EventLog, InferenceEvent } from './event-log.js';

/**
 * Where a record stands. `blocked` waits for its predecessor, `ready` can be packed into a job,
 * `in_flight` belongs to exactly one live job, `done` has its output file, `dead` exhausted its retries.
 */
export type RecordStatus = 'blocked' | 'ready' | 'in_flight' | 'done' | 'dead';

/** Local lifecycle of a batch job. `intent` is stored before the remote create call (crash safety). */
export type JobState =
  'intent' | 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'expired' | 'processed';

export const ACTIVE_JOB_STATES: readonly JobState[] = ['intent', 'pending', 'running', 'succeeded'];

export interface StoredRecord extends WorkloadRecord {
  predecessorId: string | null;
  status: RecordStatus;
  attempts: number;
  jobId: string | null;
  /** Records from this one to the end of its chain; the planner prefers long remaining chains. */
  remaining: number;
}

export interface JobRow {
  id: string;
  remoteName: string | null;
  model: string;
  state: JobState;
  kind: 'inline' | 'file';
  inputFile: string | null;
  requestCount: number;
  estimatedTokens: number;
  inputTokens: number;
  outputTokens: number;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface JobMember {
  recordId: string;
  attempt: number;
  promptHash: string;
  estimatedTokens: number;
  /** sha256 of the context the prompt received; null for a chain's first record (or unknown). */
  contextDigest?: string | null;
}

export interface NewJob {
  id: string;
  model: string;
  kind: 'inline' | 'file';
  members: JobMember[];
}

export interface FailureInput {
  recordId: string;
  jobId: string | null;
  attempt: number;
  cause: string;
  message: string;
  raw: string | null;
  promptName: string | null;
  promptVersion: string | null;
  promptHash: string | null;
  /** The failure's event, logged in the same transaction when it applies (an attempt's type becomes the outcome). */
  event?: InferenceEvent;
}

export interface FailureRow extends FailureInput {
  id: number;
  at: string;
  /** True when this failure sent the record to the dead-letter state. */
  final: boolean;
}

export interface RecordCounts {
  blocked: number;
  ready: number;
  in_flight: number;
  done: number;
  dead: number;
  total: number;
}

export interface RecordSuccess {
  recordId: string;
  jobId: string;
  inputTokens: number;
  outputTokens: number;
  /** The attempt's event, logged in the same transaction when the completion applies. */
  event?: InferenceEvent;
}

/**
 * Chains by how far they got. A chain is `done` when every record is; `blocked` when a record of it
 * is dead (everything after it waits); `inProgress` when some record is done or in flight;
 * `notStarted` otherwise.
 */
export interface ChainCounts {
  total: number;
  done: number;
  inProgress: number;
  notStarted: number;
  blocked: number;
  /** Records neither done nor dead in blocked chains: they cannot run until the dead letter is requeued. */
  recordsBehindDeadLetters: number;
}

/** Tokens billed for records that wavebatch completed, summed. */
export interface UsageTotal {
  records: number;
  inputTokens: number;
  outputTokens: number;
}

/** Which records `listRecords` returns; all given conditions apply. */
export interface RecordFilter {
  status?: RecordStatus;
  chainId?: string;
  /** `id` (the default) or `chain`: by chain id, then position within the chain. */
  order?: 'id' | 'chain';
  /** Keyset paging in id order: only records after this id. */
  afterId?: string;
  /** Keyset paging in chain order: only records after this one. */
  afterChain?: { chainId: string; position: number };
  limit?: number;
}

/** One job a record was sent in: the attempt it carried and how the job stands. */
export interface RecordAttempt {
  jobId: string;
  remoteName: string | null;
  attempt: number;
  promptHash: string;
  jobState: JobState;
  createdAt: string;
  updatedAt: string;
}

/** Which failures `listFailures` returns. */
export interface FailureFilter {
  /** Only the final failures of records still dead. */
  deadOnly?: boolean;
  recordId?: string;
  limit?: number;
}

/** Result of applying one failed result to a record. */
export type FailureOutcome = 'retry' | 'dead' | 'stale';

export interface SyncSummary {
  seen: number;
  inserted: number;
}

/** A media file uploaded to the Files API, remembered by its content so it is uploaded once. */
export interface MediaFileRow {
  /** Hex sha256 of the file's bytes. */
  sha256: string;
  mimeType: string;
  sizeBytes: number;
  /** `files/...` */
  remoteName: string;
  /** What fileData parts reference. */
  uri: string;
  /** ISO time the remote copy expires, on the local clock (upload time + the lifetime the API reported). */
  expiresAt: string | null;
  /** ISO time of the upload. */
  uploadedAt: string;
}

/** The media-file cache of the store (the part the media uploader needs). */
export interface MediaFileCache {
  getMediaFile(sha256: string, mimeType: string): Promise<MediaFileRow | null>;
  /** Inserts or replaces the entry of (sha256, mimeType). */
  saveMediaFile(row: MediaFileRow): Promise<void>;
}

/**
 * The state store. Every method is a single transaction, so a crash between two calls leaves a
 * consistent state; the SQLite and (future) Postgres implementations share these semantics.
 */
export interface WorkloadStore extends MediaFileCache, EventLog {
  /** Upserts records streamed from the source, in transactions of a bounded size. */
  syncRecords(records: AsyncIterable<WorkloadRecord>): Promise<SyncSummary>;
  /** Recomputes predecessors and remaining-chain lengths after a sync. */
  linkChains(): Promise<void>;
  /** Marks exactly these ids done (their output files exist) and every other done record pending. */
  reconcileDone(doneIds: AsyncIterable<string>): Promise<{ markedDone: number; reopened: number }>;
  /** Sets blocked/ready from the predecessors' states for records not in flight, done or dead. */
  refreshReadiness(): Promise<void>;

  getRecord(id: string): Promise<StoredRecord | null>;
  /** Ready records, longest remaining chain first. */
  listReady(limit: number): Promise<StoredRecord[]>;
  counts(): Promise<RecordCounts>;
  /** Chains by how far they got. */
  chainCounts(): Promise<ChainCounts>;
  /**
   * Tokens of completed records, in two sums: records whose prompt had at most `longAbove` input
   * tokens, and the others (long-context prices apply per request, so they are priced apart).
   */
  usageTotals(longAbove: number | null): Promise<{ short: UsageTotal; long: UsageTotal }>;
  /** How many records wavebatch completed (billed, not found done on disk) at or after `since` (ISO time). */
  completedSince(since: string): Promise<number>;
  /** The most records left in one chain that can still run (from a ready or in-flight record to its end). */
  longestRunnableChain(): Promise<number>;
  /** Records in id (or chain) order, filtered and paged. */
  listRecords(filter?: RecordFilter): Promise<StoredRecord[]>;
  /** Every job the record was sent in, oldest first. */
  recordAttempts(recordId: string): Promise<RecordAttempt[]>;

  /** Records the intent to create a job and moves its records in flight, atomically. */
  createJobIntent(job: NewJob): Promise<void>;
  /** Drops an intent that was never created remotely and returns its records to `ready`. */
  abandonJobIntent(jobId: string): Promise<void>;
  markJobSubmitted(jobId: string, remoteName: string, inputFile: string | null): Promise<void>;
  setJobInputFile(jobId: string, inputFile: string): Promise<void>;
  updateJobState(jobId: string, state: JobState, error?: string | null): Promise<void>;
  getJob(jobId: string): Promise<JobRow | null>;
  listJobs(states?: readonly JobState[]): Promise<JobRow[]>;
  jobMembers(jobId: string): Promise<JobMember[]>;

  /**
   * Marks records done (their output files are already written) and unblocks their successors, in
   * one transaction (one durable commit for many); returns how many were in flight in their job and
   * are now done (the others are left unchanged).
   */
  completeRecords(successes: readonly RecordSuccess[]): Promise<number>;
  /**
   * Logs a failure; retries the record or dead-letters it once attempts exceed `maxRetries`.
   * With `jobId` set it applies to a record in flight in that job; with null, to a ready record.
   */
  failRecord(failure: FailureInput, maxRetries: number, retryable: boolean): Promise<FailureOutcome>;
  /** Returns a finished job's records that are still in flight to `ready` (FAILED/EXPIRED/CANCELLED). */
  releaseJobRecords(jobId: string, countAttempt: boolean): Promise<number>;

  /** Returns in-flight records whose job is no longer active to `ready` (repairs an interrupted settle). */
  releaseStrandedRecords(): Promise<number>;

  listFailures(filter?: FailureFilter): Promise<FailureRow[]>;
  failureCauses(): Promise<Array<{ cause: string; count: number }>>;
  /** Dead letters back to the queue with a fresh attempt count. */
  requeueDead(ids?: string[]): Promise<number>;
  /** Resets attempt counts and deletes the failure log. */
  clearFailures(): Promise<number>;
  /** Deletes all state (the media-file cache too). */
  reset(): Promise<void>;

  close(): Promise<void>;
}
