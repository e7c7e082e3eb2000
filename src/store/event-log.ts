import type { Lane } from '../lanes/lane.js';
import type { OutputLocation } from '../outputs/index.js';

/**
 * The inference log and run history, as the state store keeps them. Every backend stores the same
 * rows: an `events` table (one row per attempt and per job or record transition), a `texts` table
 * (rendered prompts and generation configs, once per content hash) and the `runs` table.
 */

/** What an event is about: one request's attempt, a record's transition, or a job's. */
export type EventKind = 'attempt' | 'record' | 'job';

/** What happened to the record after an attempt: its output is written, it is retried, or it is dead. */
export type AttemptOutcome = 'done' | 'retry' | 'dead';

/**
 * One event. The columns are lane-neutral: a batch attempt carries its job, a synchronous one its
 * request id. Every text column has been redacted before it gets here.
 */
export interface InferenceEvent {
  kind: EventKind;
  /**
   * attempt: an AttemptOutcome; record: `rejected` (could not be sent) or `redo` (stale output);
   * job: `submitted`, `adopted`, a job state (`running`, `failed`, …), `processed` or `lost`.
   */
  type: string;
  /** ISO time the event was recorded. */
  at: string;
  /** The `runs` row of the run that recorded it, when it came from a run. */
  runId: number | null;
  lane: Lane;
  /** Local job id (batch lane). */
  jobId: string | null;
  /** Remote job name, `batches/…` (batch lane). */
  jobName: string | null;
  /** Request id (synchronous lanes: the response id; batch: the request's key). */
  requestId: string | null;
  recordId: string | null;
  chainId: string | null;
  position: number | null;
  model: string | null;
  promptName: string | null;
  promptVersion: string | null;
  /** sha256 of the rendered prompt; its text is in `texts` under this hash. */
  promptHash: string | null;
  /** sha256 of the context (the predecessor's extracted output) the prompt received. */
  contextDigest: string | null;
  /** sha256 of the generation config sent; its JSON is in `texts` under this hash. */
  generationConfigHash: string | null;
  attempt: number | null;
  cause: string | null;
  message: string | null;
  /** The raw response (or error body) of a failed attempt, capped. */
  raw: string | null;
  /** Stack of a locally raised error. */
  stack: string | null;
  /** The validated output of a successful attempt (undefined when none, or when kept by `outputLocation`). */
  output?: unknown;
  /**
   * Where the output sink keeps this success's output (its JSONL shard line): the log then refers to
   * the line instead of holding a second copy of the output. Set by the store as it logs a completion
   * with a location; `WorkloadService.events` reads the output back into `output`.
   */
  outputLocation?: OutputLocation;
  finishReason: string | null;
  inputTokens: number;
  /** Billed output tokens, thinking included. */
  outputTokens: number;
  /** The thinking part of `outputTokens`. */
  thoughtsTokens: number;
  costUsd: number | null;
  latencyMs: number | null;
  /** When the attempt (or the job) started and ended, ISO. */
  startedAt: string | null;
  finishedAt: string | null;
  /**
   * Job events: how many requests the job holds (or how many records it released). Attempts: how
   * many requests the attempt stands for, 1, or 0 for the other records of a grouped request (its
   * first record's attempt counts it); null in events logged before it was kept (one each).
   */
  requests: number | null;
}

/** An event as stored, with its id (ascending in insertion order). */
export interface StoredEvent extends InferenceEvent {
  id: number;
  /**
   * Why the output `outputLocation` refers to could not be read back (its shard was cut or deleted
   * by hand, or holds another line there now); set by `WorkloadService.events` instead of `output`.
   */
  outputUnavailable?: string;
}

/** Which events `listEvents` returns; all given conditions apply. */
export interface EventFilter {
  kind?: EventKind;
  runId?: number;
  recordId?: string;
  chainId?: string;
  /** Local job id or remote job name. */
  job?: string;
  promptVersion?: string;
  cause?: string;
  lane?: Lane;
  /** ISO times, inclusive lower bound and exclusive upper bound. */
  since?: string;
  until?: string;
  /** Keyset paging: only events with a larger id. */
  afterId?: number;
  limit?: number;
}

/**
 * Attempts grouped by what the report breaks them down by; sums over the group. Records rejected
 * before they could be sent count as attempts of type `rejected`.
 */
export interface AttemptGroup {
  model: string | null;
  lane: Lane;
  promptName: string | null;
  promptVersion: string | null;
  type: string;
  cause: string | null;
  /** One per record per attempt (a record rejected before it was sent counts one too). */
  attempts: number;
  /**
   * The requests sent for them: fewer than the attempts with `records_per_request`, where one
   * request answers several records (none for rejected records, which were never sent).
   */
  requests: number;
  /** Distinct records among the attempts. */
  records: number;
  inputTokens: number;
  outputTokens: number;
  thoughtsTokens: number;
  costUsd: number;
  latencyMs: number;
}

/** Failed attempts (and rejected records) of one cause. */
export interface CauseCount {
  cause: string;
  attempts: number;
  /** Distinct records that failed with it. */
  records: number;
  /** Of those, the failures that dead-lettered their record. */
  dead: number;
}

/** One job's attempts in a run, for the slowest-jobs table. */
export interface JobAttempts {
  jobId: string;
  jobName: string | null;
  lane: Lane;
  /** Attempts of records (one per record per attempt). */
  attempts: number;
  /** The requests that carried them (fewer with `records_per_request`). */
  requests: number;
  done: number;
  latencyMs: number;
  costUsd: number;
  startedAt: string | null;
  finishedAt: string | null;
}

/** A text stored once by its hash: a rendered prompt or a generation config. */
export interface StoredText {
  hash: string;
  /**
   * The record whose own request the prompt is (a request for one record): the text is then kept
   * beside that record and found by it. Null or absent for group prompts and generation configs.
   */
  recordId?: string | null;
  kind: 'prompt' | 'generation_config';
  /** Prompts: JSON `{ system, text }`; generation configs: their JSON. */
  body: string;
}

/** How a run ended. */
export type RunOutcome = 'finished' | 'incomplete' | 'interrupted' | 'failed';

/** What a run did, written when it ends: its attempts' usage, and how it ended. */
export interface RunTotals extends RunUsage {
  outcome: RunOutcome;
  /** Records per state when the run ended. */
  counts: Record<string, number>;
  jobsSubmitted: number;
  /**
   * In `auto`: per lane, its settled attempts by the reason the scheduler gave for sending them
   * there (`deadline`, `critical_path`, …); absent in the fixed modes and for older runs.
   */
  laneReasons?: Partial<Record<Lane, Record<string, number>>>;
  error: string | null;
}

/** One `run` / `run-once`. */
export interface RunRow {
  id: number;
  mode: string;
  configHash: string | null;
  startedAt: string;
  finishedAt: string | null;
  /** Null while the run is going on (or when it died without finishing). */
  totals: RunTotals | null;
  /**
   * A run without totals (still going, or killed): what its attempts in the inference log add up to
   * so far. Set by `WorkloadService.runs`; a killed run's billed requests were shown nowhere else.
   */
  usage?: RunUsage;
}

/** Request count, token and cost sums and the lanes used over a run's attempts. */
export interface RunUsage {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  thoughtsTokens: number;
  costUsd: number;
  lanes: Lane[];
}

/** The inference log and run history part of the state store. */
export interface EventLog {
  /** Appends events in one transaction. */
  appendEvents(events: readonly InferenceEvent[]): Promise<void>;
  /** Stores texts not stored yet (a record's own prompt by record and hash, any other by hash), in one transaction. */
  saveTexts(texts: readonly StoredText[]): Promise<void>;
  /**
   * The text stored under `hash`. Give the record an event names: a record's own prompt is found
   * by its record; without one it is found by a scan of the stored texts (slow on a large store).
   */
  getText(hash: string, recordId?: string | null): Promise<StoredText | null>;
  /** Events in id order, filtered and paged. */
  listEvents(filter?: EventFilter): Promise<StoredEvent[]>;
  /**
   * Of `recordIds`, those whose last attempt in the log failed with `cause` (wavebatch's own,
   * LOCAL_ERROR_CAUSE) and kept the valid answer it could not settle (its `output`): the records a
   * retry may apply that answer to instead of buying it again (see keptAnswer). One query, whatever
   * the number of records.
   */
  keptAnswerRecords(recordIds: readonly string[], cause: string): Promise<string[]>;
  /**
   * The attempts (and records rejected before they could be sent: what `attemptGroups` counts)
   * logged after event `afterId`, in id order, at most `limit`: what the exporters send.
   */
  attemptsAfter(afterId: number, limit: number): Promise<StoredEvent[]>;
  /** Attempts (optionally of one run) grouped by model, lane, prompt, outcome and cause. */
  attemptGroups(runId?: number): Promise<AttemptGroup[]>;
  /** Failures (optionally of one run) per cause, most frequent first. */
  causeCounts(runId?: number): Promise<CauseCount[]>;
  /** A run's attempts per job, slowest first (its report's slowest jobs). */
  jobAttempts(runId: number, limit?: number): Promise<JobAttempts[]>;
  /**
   * How long the latest `limit` answers on `lane` took, oldest first: on the batch lane each
   * processed job's turnaround (created to ended, as Google reported them), on a synchronous lane
   * each successful request's send-to-answer time.
   */
  recentLatencies(lane: Lane, limit: number): Promise<number[]>;
  /** Sums of the attempts of a run. */
  runUsage(runId: number): Promise<RunUsage>;
  /** Starts a run row; returns its id. */
  startRun(mode: string, configHash?: string | null): Promise<number>;
  finishRun(runId: number, totals: RunTotals): Promise<void>;
  /** Runs, newest first. */
  listRuns(limit?: number): Promise<RunRow[]>;
  /** When the first run on record started (ISO), null before any: where the workload's history begins. */
  firstRunStartedAt(): Promise<string | null>;
  getRun(runId: number): Promise<RunRow | null>;
  /** Deletes events recorded before `before` (ISO), and the texts no event refers to any more; returns how many events. */
  pruneEvents(before: string): Promise<{ events: number; texts: number }>;
}
