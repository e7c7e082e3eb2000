import type { Lane, SyncLane } from '../lanes/lane.js';
import type { AssemblyStateStore, OutputIndex, OutputLocation, ShardCommit } from '../outputs/index.js';
import type { WorkloadRecord } from '../workload/record.js';
import type { EventLog, InferenceEvent } from './event-log.js';
import type { ExportWatermarks } from './export-watermarks.js';
import type { RunTraces } from './run-traces.js';

/**
 * Where a record stands. `blocked` waits for its predecessor, `ready` can be sent, `in_flight`
 * belongs to exactly one live batch job or one synchronous request (never both), `done` has its
 * output, `dead` exhausted its retries.
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
  /**
   * The lane of its current flight (`batch` in a job, or the synchronous lane of its request); after
   * a settle, the lane its output came from. Null when it was never sent (or the store predates lanes).
   */
  lane?: Lane | null;
  /** The synchronous request it is in flight in (see `claimReady`); null otherwise. */
  requestId?: string | null;
  /** ISO time its synchronous request claimed it. */
  claimedAt?: string | null;
  /** Records from this one to the end of its chain; the planner prefers long remaining chains. */
  remaining: number;
  /** Where its output line is, when it is done in a JSONL sink. */
  output?: OutputLocation | null;
  /** Where its predecessor's output line is (its context), when that is done in a JSONL sink. */
  predecessorOutput?: OutputLocation | null;
}

/** A record as a job's results are applied to it: who it is, where its chain is, which flight has it. */
export type JobRecord = Pick<
  StoredRecord,
  'id' | 'chainId' | 'position' | 'predecessorId' | 'status' | 'jobId'
> & {
  /** How many of its batch jobs ended EXPIRED since it was last done or requeued. */
  expiries: number;
};

/** A recorded input upload no active job uses: to delete. */
export interface UnusedInputFile {
  name: string;
  /** Deletes of it that failed in a row (0: none failed yet). */
  deleteFailures: number;
}

export interface JobRow {
  id: string;
  remoteName: string | null;
  model: string;
  state: JobState;
  kind: 'inline' | 'file';
  inputFile: string | null;
  /** Requests in the job's input: its groups with `records_per_request`, else one per record. */
  requestCount: number;
  /** Records the job carries. */
  recordCount: number;
  estimatedTokens: number;
  /** The part of `estimatedTokens` that is audio (0 for a job created before it was kept). */
  estimatedAudioTokens: number;
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
  /** The part of `estimatedTokens` that is audio; none when absent. */
  audioTokens?: number;
  /**
   * The request it travels in, by index among its job's requests (with `records_per_request` a
   * group's records share one): absent for a job created before version 26 of the store kept it.
   */
  request?: number;
  /** sha256 of the context the prompt received; null for a chain's first record (or unknown). */
  contextDigest?: string | null;
  /** Content hash of the record (its variables and media bytes) as it was sent. */
  sourceHash?: string | null;
}

export interface NewJob {
  id: string;
  model: string;
  kind: 'inline' | 'file';
  members: JobMember[];
  /** Requests the members travel in (fewer than the members when they are grouped); one each by default. */
  requests?: number;
}

/**
 * A failure applies to one flight of the record: its batch job (`jobId`), its synchronous request
 * (`requestId`), or, with neither, the record while it is ready (it could not be sent at all).
 */
export interface FailureInput {
  recordId: string;
  jobId: string | null;
  /** The synchronous request the attempt was (set instead of `jobId`). */
  requestId?: string | null;
  attempt: number;
  cause: string;
  message: string;
  raw: string | null;
  promptName: string | null;
  promptVersion: string | null;
  promptHash: string | null;
  /** The failure's event, logged in the same transaction when it applies (an attempt's type becomes the outcome). */
  event?: InferenceEvent;
  /**
   * Its batch job ended EXPIRED: counts an expiry instead of an attempt, and the record is
   * dead-lettered once its expiries pass max_retries.
   */
  expiry?: boolean;
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

/** A valid result of one flight: `jobId` for a batch job, or `requestId` for a synchronous request. */
export interface RecordSuccess {
  recordId: string;
  /** The batch job it came from; null for a synchronous request. */
  jobId: string | null;
  /** The synchronous request it came from (see `claimReady`). */
  requestId?: string | null;
  /**
   * A ready record (in no flight) completed by the answer an earlier attempt bought and could not
   * settle (see keptAnswer): applied only while the record is still ready; `jobId` and `requestId` null.
   */
  ready?: boolean;
  /** Where its line is, when the output sink is JSONL shards. */
  location?: OutputLocation | null;
  inputTokens: number;
  outputTokens: number;
  /**
   * The attempt's event, logged in the same transaction when the completion applies. With a
   * `location` its output is not stored again: the event refers to the line (`outputLocation`).
   */
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

/** See `WorkloadStore.completedUsage`. */
export interface CompletedUsage {
  short: UsageTotal;
  long: UsageTotal;
  completedSince: number;
}

/** Which records `listRecords` returns; all given conditions apply. */
export interface RecordFilter {
  status?: RecordStatus;
  chainId?: string;
  /** Only the records in flight in this job. */
  jobId?: string;
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
  /** Only the failure that last dead-lettered each record still dead. */
  deadOnly?: boolean;
  recordId?: string;
  limit?: number;
}

/**
 * Ready records to claim for synchronous requests on one lane. The store draws each claimed
 * record's request id, `<claimId>-<n>`, so two claims never share one.
 */
export interface ReadyClaim {
  lane: SyncLane;
  /** At most this many records. */
  limit: number;
  /** Unique per claim (random, or a run-scoped counter): it prefixes the request ids. */
  claimId: string;
  /** Only these records, those of them still ready (a scheduler's picks); default: the longest remaining chains first. */
  recordIds?: readonly string[];
}

/** A record moved in flight by `claimReady`: one synchronous request owns it until it settles. */
export interface ClaimedRecord extends StoredRecord {
  lane: SyncLane;
  requestId: string;
  claimedAt: string;
}

/** Result of applying one failed result to a record. */
export type FailureOutcome = 'retry' | 'dead' | 'stale';

export interface SyncOptions {
  /**
   * The records given are the whole source (a run's sync): the unsent records it no longer has are
   * dropped (see SyncSummary.dropped). Without it, a sync adds and updates only.
   */
  wholeSource?: boolean;
}

export interface SyncSummary {
  seen: number;
  inserted: number;
  /**
   * True when the sync left every record linked as linkChains would (a first sync of a source that
   * lists each chain's records together): the caller may skip linkChains. Only a sync into an empty
   * store says it, with each chain's head ready and the rest blocked, so refreshReadiness would change
   * nothing either. False says nothing.
   */
  linked: boolean;
  /**
   * With `wholeSource`, records the source no longer has that were never sent or were waiting to be
   * sent again (ready or blocked): dropped from the store, so no run sends them (see README, Sync).
   */
  dropped: number;
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

/** A file's sha256, valid while its size and modification time are unchanged. */
export interface FileDigestRow {
  /** Absolute path. */
  path: string;
  sizeBytes: number;
  mtimeMs: number;
  sha256: string;
}

/** Remembered file digests, so a file is hashed again only when it changed. */
export interface FileDigestCache {
  getFileDigest(path: string): Promise<FileDigestRow | null>;
  /** Inserts or replaces the entries of these paths, in one transaction. */
  saveFileDigests(rows: readonly FileDigestRow[]): Promise<void>;
}

/** Who holds a store's lease; times are epoch ms on the holder's clock. */
export interface LeaseHolder {
  /** Random id drawn by the holder when it took the lease. */
  owner: string;
  pid: number;
  hostname: string;
  /** What it is doing: `run`, `run-once`, `reset`, `requeue`, … */
  purpose: string;
  acquiredAt: number;
  heartbeatAt: number;
  expiresAt: number;
}

/** A request for the lease. */
export interface LeaseClaim {
  owner: string;
  pid: number;
  hostname: string;
  purpose: string;
  /** Epoch ms now, on the claimant's clock. */
  now: number;
  /** The lease expires this long after it was taken or last renewed. */
  ttlMs: number;
}

export type LeaseOutcome = { acquired: true } | { acquired: false; holder: LeaseHolder };

/**
 * A store's exclusive lease: one process at a time changes its state. Taking it is one atomic step
 * (a transaction that reads the holder and writes the claim), so it is also the model that several
 * PostgreSQL workers share (a lease row per unit of work, renewed by a heartbeat).
 */
export interface StoreLease {
  /**
   * Takes the lease if it is free, expired, already the claimant's, or abandoned (`isAbandoned` says
   * so of the holder, e.g. because its process is dead); otherwise reports the holder.
   */
  acquireLease(claim: LeaseClaim, isAbandoned: (holder: LeaseHolder) => boolean): Promise<LeaseOutcome>;
  /** Extends the owner's lease by `ttlMs` from `now`; false when the lease is no longer theirs. */
  renewLease(owner: string, now: number, ttlMs: number): Promise<boolean>;
  /** Gives the lease up, if the owner still holds it. */
  releaseLease(owner: string): Promise<void>;
  /** The current holder (possibly expired), or null. */
  readLease(): Promise<LeaseHolder | null>;
}

/**
 * The state store. Every method is a single transaction, so a crash between two calls leaves a
 * consistent state; the SQLite and (future) Postgres implementations share these semantics.
 */
export interface WorkloadStore
  extends
    MediaFileCache,
    FileDigestCache,
    EventLog,
    ExportWatermarks,
    RunTraces,
    StoreLease,
    OutputIndex,
    AssemblyStateStore {
  /** A random id drawn when the store was created; it names the store's remote jobs. */
  storeId(): Promise<string>;

  /**
   * Upserts the records `open` streams from the source, in transactions of a bounded size; a
   * repeated id or (chain, position) is refused naming both places. `open` may be called twice: a
   * store's first sync finds repeats without noting where each record was, and reads the source
   * again to name them.
   */
  syncRecords(open: () => AsyncIterable<WorkloadRecord>, options?: SyncOptions): Promise<SyncSummary>;
  /** The source's fingerprint as last synced in full; null when none was, or a sync did not finish. */
  syncedSourceFingerprint(): Promise<string | null>;
  /** Stores the fingerprint the records were synced from (null forgets it: the next start syncs in full). */
  saveSourceFingerprint(fingerprint: string | null): Promise<void>;
  /** Recomputes predecessors and remaining-chain lengths after a sync (unless the sync says `linked`). */
  linkChains(): Promise<void>;
  /**
   * Queues done records again although their output files exist (their outputs are stale): they
   * stay queued, whatever the files say, until a new output is written; returns how many.
   */
  markForRedo(ids: readonly string[]): Promise<number>;
  /** Sets blocked/ready from the predecessors' states for records not in flight, done or dead. */
  refreshReadiness(): Promise<void>;

  getRecord(id: string): Promise<StoredRecord | null>;
  /** Ready records, longest remaining chain first (only the scope's, while one is set). */
  listReady(limit: number): Promise<StoredRecord[]>;
  /** Records per status (only the scope's, while one is set). Its cost grows with the workload. */
  counts(): Promise<RecordCounts>;
  /**
   * True while a record is ready or in flight (only the scope's, while one is set): with no active
   * job either, the run is settled. Unlike `counts` its cost does not grow with the done records,
   * so the run loop asks it at every synchronous answer.
   */
  hasOpenRecords(): Promise<boolean>;
  /**
   * Narrows this connection's `listReady`, `counts` and `hasOpenRecords` to these records, or widens
   * them again with null: a run over a selection sends only its records and finishes when they are
   * settled, leaving every other record untouched. The scope belongs to the connection, never to the
   * stored state, so a crash or the next run never inherits it.
   */
  scopeTo(ids: readonly string[] | null): Promise<void>;
  /** Chains by how far they got. */
  chainCounts(): Promise<ChainCounts>;
  /**
   * Tokens of completed records, in two sums: records whose prompt had at most `longAbove` input
   * tokens, and the others (long-context prices apply per request, so they are priced apart); and
   * how many records wavebatch completed (billed, not found done on disk) at or after `since` (ISO time).
   */
  completedUsage(longAbove: number | null, since: string): Promise<CompletedUsage>;
  /** The most records left in one chain that can still run (from a ready or in-flight record to its end). */
  longestRunnableChain(): Promise<number>;
  /**
   * Chains with records still to run (within the scope), by records left: records left -> chains.
   * Such a chain has one ready or in-flight record, whose `remaining` counts it and those blocked
   * behind it; a chain behind a dead letter is not counted. What `auto` weighs Flex's quota against.
   */
  runnableChainDepths(): Promise<Map<number, number>>;
  /** Records in id (or chain) order, filtered and paged. */
  listRecords(filter?: RecordFilter): Promise<StoredRecord[]>;
  /**
   * The records in job `jobId` now (in flight in it), as applying its results needs them: without
   * their variables, media or output locations, which a job of thousands would read and parse for
   * nothing.
   */
  recordsInJob(jobId: string): Promise<JobRecord[]>;
  /** Every job the record was sent in, oldest first. */
  recordAttempts(recordId: string): Promise<RecordAttempt[]>;

  /**
   * Moves ready records in flight in synchronous requests, atomically: each claimed record belongs to
   * its request (lane, request id, claim time) and to nothing else until it settles
   * (`completeRecords` / `failRecord` with its `requestId`) or is released. A claim is not a job: it
   * lives as long as the process holding the lease, so `releaseStrandedRecords` (run at every start)
   * returns the claims of a crashed process to `ready` and their requests are sent again.
   */
  claimReady(claim: ReadyClaim): Promise<ClaimedRecord[]>;
  /**
   * Returns a claimed record to `ready` without counting an attempt (its request was never answered:
   * the run stopped, or the lane could not take it); false when the request no longer owns it.
   */
  releaseClaim(recordId: string, requestId: string): Promise<boolean>;

  /** Records the intent to create a job and moves its records in flight, atomically. */
  createJobIntent(job: NewJob): Promise<void>;
  /** Drops an intent that was never created remotely and returns its records to `ready`. */
  abandonJobIntent(jobId: string): Promise<void>;
  /**
   * Fails an intent the API refused to create: each record still in flight in it counts a failed
   * attempt (`failures`, one per member: retry or dead letter) and the intent is deleted, in one
   * transaction.
   */
  failJobIntent(
    jobId: string,
    failures: readonly FailureInput[],
    maxRetries: number,
  ): Promise<Array<{ recordId: string; outcome: FailureOutcome }>>;
  markJobSubmitted(jobId: string, remoteName: string, inputFile: string | null): Promise<void>;
  /**
   * Records, durably and before the upload starts, the name the job's JSONL input is uploaded under:
   * it becomes the job's input file, and an upload the input-file sweep deletes once no active job
   * uses it (see unusedInputFiles).
   */
  recordInputUpload(jobId: string, name: string): Promise<void>;
  /**
   * Up to `limit` recorded input uploads that no active job uses any more, oldest first; one whose
   * last delete failed only once its next try is due (see deferInputFile).
   */
  unusedInputFiles(limit: number): Promise<UnusedInputFile[]>;
  /**
   * Notes that deleting an upload failed `failures` times in a row: unusedInputFiles leaves it out
   * until `notBefore` (epoch ms). Kept across runs.
   */
  deferInputFile(name: string, failures: number, notBefore: number): Promise<void>;
  /** Forgets a recorded input upload: it is deleted, or was found gone. */
  forgetInputFile(name: string): Promise<void>;
  updateJobState(jobId: string, state: JobState, error?: string | null): Promise<void>;
  getJob(jobId: string): Promise<JobRow | null>;
  listJobs(states?: readonly JobState[]): Promise<JobRow[]>;
  jobMembers(jobId: string): Promise<JobMember[]>;

  /**
   * Marks records done (their outputs are already durable in the sink) and unblocks their
   * successors, in one transaction (one durable commit for many), with the shard length their lines
   * end at when the sink is JSONL; returns how many were in flight in their job or request and are
   * now done (the others are left unchanged: a replayed result applies once).
   */
  completeRecords(successes: readonly RecordSuccess[], commit?: ShardCommit | null): Promise<number>;
  /**
   * Logs a failure; retries the record or dead-letters it once attempts exceed `maxRetries`.
   * With `jobId` (or `requestId`) set it applies to a record in flight in that job (or request);
   * with neither, to a ready record.
   */
  failRecord(failure: FailureInput, maxRetries: number, retryable: boolean): Promise<FailureOutcome>;
  /**
   * Files a billed try that failed but whose request goes on (cut at MAX_TOKENS or empty, sent
   * again): its failure (never final) and its event together; the record's state and attempts stay.
   */
  logFailedTry(failure: FailureInput & { event: InferenceEvent }): Promise<void>;
  /** Returns a finished job's records that are still in flight to `ready` (FAILED/EXPIRED/CANCELLED). */
  releaseJobRecords(jobId: string, countAttempt: boolean): Promise<number>;

  /**
   * Puts a done record whose output file has gone back in the queue (ready) and its ready successor
   * back to blocked, so the output is regenerated before the successor is sent; false if it was not done.
   */
  reopenRecord(recordId: string): Promise<boolean>;

  /**
   * Returns in-flight records whose job is no longer active, and every synchronous claim (their
   * process is gone: the caller holds the lease), to `ready` (repairs an interrupted settle).
   */
  releaseStrandedRecords(): Promise<number>;
  /** How many in-flight records have no active job (what releaseStrandedRecords would release). */
  countStrandedRecords(): Promise<number>;
  /** The store file's own check (SQLite integrity and foreign keys): one line per problem, empty when sound. */
  checkIntegrity(): Promise<string[]>;

  listFailures(filter?: FailureFilter): Promise<FailureRow[]>;
  failureCauses(): Promise<Array<{ cause: string; count: number }>>;
  /** Dead letters back to the queue with a fresh attempt count. */
  requeueDead(ids?: string[]): Promise<number>;
  /** Resets attempt counts and deletes the failure log, but the final failure of each record still dead. */
  clearFailures(): Promise<number>;
  /** Deletes all state (the media-file cache too). */
  reset(): Promise<void>;

  close(): Promise<void>;
}
