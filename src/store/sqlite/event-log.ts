import type Database from 'better-sqlite3';
import type { Lane } from '../../lanes/lane.js';
import type {
  AttemptGroup,
  CauseCount,
  EventFilter,
  InferenceEvent,
  JobAttempts,
  RunUsage,
  StoredEvent,
  StoredText,
} from '../event-log.js';
import { isAttempt } from './attempt-condition.js';
import { writeTransaction } from './database.js';
import { RECORD_ROW } from './row-placement.js';
import {
  addToEventTotals,
  attemptTotals,
  rebuildEventTotals,
  runJobAttempts,
  runUsageByLane,
} from './attempt-totals.js';

/** Column shapes of `events` as SQL returns them. */
interface EventDbRow {
  id: number;
  kind: InferenceEvent['kind'];
  type: string;
  at: string;
  run_id: number | null;
  lane: Lane;
  job_id: string | null;
  job_name: string | null;
  request_id: string | null;
  record_id: string | null;
  chain_id: string | null;
  position: number | null;
  model: string | null;
  prompt_name: string | null;
  prompt_version: string | null;
  prompt_hash: string | null;
  context_digest: string | null;
  generation_config_hash: string | null;
  attempt: number | null;
  cause: string | null;
  message: string | null;
  raw: string | null;
  stack: string | null;
  output_json: string | null;
  output_shard: number | null;
  output_offset: number | null;
  output_length: number | null;
  finish_reason: string | null;
  input_tokens: number;
  output_tokens: number;
  thoughts_tokens: number;
  cost_usd: number | null;
  latency_ms: number | null;
  started_at: string | null;
  finished_at: string | null;
  requests: number | null;
}

const COLUMNS = [
  'kind',
  'type',
  'at',
  'run_id',
  'lane',
  'job_id',
  'job_name',
  'request_id',
  'record_id',
  'chain_id',
  'position',
  'model',
  'prompt_name',
  'prompt_version',
  'prompt_hash',
  'context_digest',
  'generation_config_hash',
  'attempt',
  'cause',
  'message',
  'raw',
  'stack',
  'output_json',
  'output_shard',
  'output_offset',
  'output_length',
  'finish_reason',
  'input_tokens',
  'output_tokens',
  'thoughts_tokens',
  'cost_usd',
  'latency_ms',
  'started_at',
  'finished_at',
  'requests',
] as const;

/**
 * Values bound by position (a third cheaper than by name at 33 columns, per event of a million), the
 * record id once more last: its row is looked up for the index kept by row, where a round's entries
 * sit together.
 */
const INSERT_EVENT = `INSERT INTO events (${COLUMNS.join(', ')}, record_key)
  VALUES (${COLUMNS.map(() => '?').join(', ')}, ${RECORD_ROW})`;

/** Inserts events with an already prepared statement (callers inside their own transaction use this). */
export function insertEvents(db: Database.Database, events: readonly InferenceEvent[]): void {
  if (events.length === 0) return;
  const insert = db.prepare(INSERT_EVENT);
  let first: number | bigint | null = null;
  let last: number | bigint = 0;
  for (const event of events) {
    last = insert.run(eventValues(event)).lastInsertRowid;
    first ??= last;
  }
  // In the same transaction as the events: the totals never count an event that was not logged.
  if (first !== null) addToEventTotals(db, first, last);
}

/** Appends events in one transaction. */
export function appendEvents(db: Database.Database, events: readonly InferenceEvent[]): void {
  if (events.length === 0) return;
  writeTransaction(db, () => insertEvents(db, events))();
}

/**
 * Stores the texts not stored yet, in one transaction: a record's own prompt beside its record
 * (the key a round's prompts share a stretch of), any other text by its hash.
 */
export function saveTexts(db: Database.Database, texts: readonly StoredText[], at: string): void {
  if (texts.length === 0) return;
  // OR IGNORE: a text already stored under the same owner and hash is the same text.
  const insert = db.prepare(
    `INSERT OR IGNORE INTO texts (record_key, hash, kind, body, created_at)
       VALUES (${RECORD_ROW}, ?, ?, ?, ?)`,
  );
  writeTransaction(db, () => {
    for (const text of texts) insert.run(text.recordId ?? null, text.hash, text.kind, text.body, at);
  })();
}

/**
 * The text stored under `hash`, or null: first as the named record's own prompt, then as a text
 * owned by no record; with no record named, a record's prompt is found by scanning the texts.
 */
export function getText(db: Database.Database, hash: string, recordId?: string | null): StoredText | null {
  const owned = () =>
    db
      .prepare(
        `SELECT hash, kind, body FROM texts
          WHERE record_key = ${RECORD_ROW} AND hash = ?`,
      )
      .get(recordId, hash) as StoredText | undefined;
  const shared = () =>
    db.prepare('SELECT hash, kind, body FROM texts WHERE hash = ? AND record_key IS NULL').get(hash) as
      StoredText | undefined;
  const scanned = () =>
    db.prepare('SELECT hash, kind, body FROM texts WHERE hash = ? ORDER BY id LIMIT 1').get(hash) as
      StoredText | undefined;
  const found = recordId != null ? (owned() ?? shared()) : (shared() ?? scanned());
  return found ?? null;
}

/** Events in id order matching every condition of the filter. */
export function listEvents(db: Database.Database, filter: EventFilter): StoredEvent[] {
  const { where, values } = conditionsOf(filter);
  const rows = db
    .prepare(`SELECT * FROM events ${where} ORDER BY id LIMIT ?`)
    .all(...values, filter.limit ?? -1) as EventDbRow[];
  return rows.map(toStoredEvent);
}

/**
 * Of `recordIds`, those whose last attempt failed with `cause` and kept its answer (see
 * EventLog.keptAnswerRecords): one statement, each record's attempts read newest first through
 * events_by_record, stopping at the first.
 */
export function keptAnswerRecords(
  db: Database.Database,
  recordIds: readonly string[],
  cause: string,
): string[] {
  if (recordIds.length === 0) return [];
  return db
    .prepare(
      `SELECT r.id FROM records r
        WHERE r.id IN (SELECT value FROM json_each(?))
          AND (SELECT e.cause = ? AND e.output_json IS NOT NULL FROM events e
                WHERE e.record_key = r.rowid AND e.kind = 'attempt' ORDER BY e.id DESC LIMIT 1)`,
    )
    .pluck()
    .all(JSON.stringify(recordIds), cause) as string[];
}

/**
 * The log's attempts (and records rejected before they could be sent: what the attempt totals
 * count) after event `afterId`, in id order, at most `limit`: an exporter's next page. Read by the
 * condition in SQL, not filtered from every event.
 */
export function attemptsAfter(db: Database.Database, afterId: number, limit: number): StoredEvent[] {
  const rows = db
    .prepare(
      `SELECT id, ${COLUMNS.join(', ')} FROM events e WHERE e.id > ? AND ${isAttempt('e')} ORDER BY e.id LIMIT ?`,
    )
    .all(afterId, limit) as EventDbRow[];
  return rows.map(toStoredEvent);
}

/**
 * Attempts (and rejected records) grouped by model, lane, prompt, outcome and cause, of one run or of
 * all runs: from the totals kept as events are logged.
 */
export function attemptGroups(db: Database.Database, runId: number | undefined): AttemptGroup[] {
  return attemptTotals(db, runId);
}

/** Failures per cause, most frequent first; `runScope` narrows them to a run (one value bound). */
export const CAUSE_COUNTS = (runScope: '' | 'AND run_id = ?') =>
  `SELECT cause, COUNT(*) AS attempts, COUNT(DISTINCT record_id) AS records,
          SUM(CASE WHEN type IN ('dead', 'rejected') THEN 1 ELSE 0 END) AS dead
     FROM events WHERE cause IS NOT NULL AND kind IN ('attempt', 'record') ${runScope}
    GROUP BY cause ORDER BY attempts DESC, cause`;

/** Failures per cause (optionally of one run: through events_by_cause, the failures alone). */
export function causeCounts(db: Database.Database, runId: number | undefined): CauseCount[] {
  return runId === undefined
    ? (db.prepare(CAUSE_COUNTS('')).all() as CauseCount[])
    : (db.prepare(CAUSE_COUNTS('AND run_id = ?')).all(runId) as CauseCount[]);
}

/** A run's attempts per job, slowest first, from its totals kept as logged. */
export function jobAttempts(db: Database.Database, runId: number, limit: number): JobAttempts[] {
  return runJobAttempts(db, runId, limit);
}

/**
 * A batch job's members all carry its turnaround: one event of each processed job says it, found
 * through events_by_job.
 */
export const RECENT_JOB_LATENCIES = `SELECT (SELECT latency_ms FROM events
    WHERE job_id = jobs.id AND kind = 'attempt' AND latency_ms IS NOT NULL LIMIT 1)
  FROM jobs WHERE state = 'processed' ORDER BY created_at DESC, id DESC LIMIT ?`;

/**
 * A synchronous lane's successful attempts, newest first, from their own partial index (the query
 * repeats the index's condition, or SQLite would not use it; INDEXED BY makes that an error).
 */
export const RECENT_SYNC_LATENCIES = `SELECT latency_ms FROM events INDEXED BY events_by_sync_attempt
  WHERE kind = 'attempt' AND lane <> 'batch' AND lane = ? AND type = 'done' AND latency_ms IS NOT NULL
  ORDER BY id DESC LIMIT ?`;

/** See EventLog.recentLatencies. */
export function recentLatencies(db: Database.Database, lane: Lane, limit: number): number[] {
  const newestFirst = (
    lane === 'batch'
      ? db.prepare(RECENT_JOB_LATENCIES).pluck().all(limit)
      : db.prepare(RECENT_SYNC_LATENCIES).pluck().all(lane, limit)
  ) as Array<number | null>;
  return newestFirst.filter((ms): ms is number => ms !== null).reverse();
}

/** Request count, token and cost sums and the lanes used over a run's attempts (kept per lane as logged). */
export function runUsage(db: Database.Database, runId: number): RunUsage {
  const usage = {
    requests: 0,
    inputTokens: 0,
    outputTokens: 0,
    thoughtsTokens: 0,
    costUsd: 0,
    lanes: [] as Lane[],
  };
  for (const lane of runUsageByLane(db, runId)) {
    usage.requests += lane.requests;
    usage.inputTokens += lane.inputTokens;
    usage.outputTokens += lane.outputTokens;
    usage.thoughtsTokens += lane.thoughtsTokens;
    usage.costUsd += lane.costUsd;
    usage.lanes.push(lane.lane as Lane);
  }
  return usage;
}

/** Deletes events recorded before `before`, then the texts no remaining event refers to. */
export function pruneEvents(db: Database.Database, before: string): { events: number; texts: number } {
  return writeTransaction(db, () => {
    const events = db.prepare('DELETE FROM events WHERE at < ?').run(before).changes;
    if (events > 0) rebuildEventTotals(db);
    // The hashes still referred to are gathered once (SQLite builds each IN list into a temporary
    // index): the correlated NOT EXISTS it replaces scanned the events and the job memberships, which
    // have no index by hash, once per text, so a million-record store's prune never finished.
    const texts = db
      .prepare(
        `DELETE FROM texts WHERE created_at < ?
           AND hash NOT IN (SELECT prompt_hash FROM events WHERE prompt_hash IS NOT NULL)
           AND hash NOT IN (SELECT generation_config_hash FROM events WHERE generation_config_hash IS NOT NULL)
           AND hash NOT IN (SELECT prompt_hash FROM job_records WHERE prompt_hash IS NOT NULL)`,
      )
      .run(before).changes;
    return { events, texts };
  })();
}

function conditionsOf(filter: EventFilter): { where: string; values: Array<string | number> } {
  const conditions: string[] = [];
  const values: Array<string | number> = [];
  const equal = (column: string, value: string | number | undefined) => {
    if (value === undefined) return;
    conditions.push(`${column} = ?`);
    values.push(value);
  };
  equal('kind', filter.kind);
  equal('run_id', filter.runId);
  if (filter.recordId !== undefined) {
    conditions.push(`(record_key = ${RECORD_ROW} OR (record_key IS NULL AND record_id = ?))`);
    values.push(filter.recordId, filter.recordId);
  }
  equal('chain_id', filter.chainId);
  equal('prompt_version', filter.promptVersion);
  equal('cause', filter.cause);
  equal('lane', filter.lane);
  if (filter.job !== undefined) {
    conditions.push('(job_id = ? OR job_name = ?)');
    values.push(filter.job, filter.job);
  }
  if (filter.since !== undefined) {
    conditions.push('at >= ?');
    values.push(filter.since);
  }
  if (filter.until !== undefined) {
    conditions.push('at < ?');
    values.push(filter.until);
  }
  if (filter.afterId !== undefined) {
    conditions.push('id > ?');
    values.push(filter.afterId);
  }
  return { where: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', values };
}

/**
 * The values of INSERT_EVENT, in COLUMNS order, then the record id once more (for its row). Built
 * straight into the array the statement binds: an event per record of a million.
 */
function eventValues(event: InferenceEvent): unknown[] {
  const location = event.outputLocation;
  return [
    event.kind,
    event.type,
    event.at,
    event.runId,
    event.lane,
    event.jobId,
    event.jobName,
    event.requestId,
    event.recordId,
    event.chainId,
    event.position,
    event.model,
    event.promptName,
    event.promptVersion,
    event.promptHash,
    event.contextDigest,
    event.generationConfigHash,
    event.attempt,
    event.cause,
    event.message,
    event.raw,
    event.stack,
    // An output the sink keeps at a location is not copied: the event refers to its line.
    location || event.output === undefined ? null : JSON.stringify(event.output),
    location?.shard ?? null,
    location?.offset ?? null,
    location?.length ?? null,
    event.finishReason,
    event.inputTokens,
    event.outputTokens,
    event.thoughtsTokens,
    event.costUsd,
    event.latencyMs,
    event.startedAt,
    event.finishedAt,
    event.requests,
    event.recordId,
  ];
}

function toStoredEvent(row: EventDbRow): StoredEvent {
  return {
    id: row.id,
    kind: row.kind,
    type: row.type,
    at: row.at,
    runId: row.run_id,
    lane: row.lane,
    jobId: row.job_id,
    jobName: row.job_name,
    requestId: row.request_id,
    recordId: row.record_id,
    chainId: row.chain_id,
    position: row.position,
    model: row.model,
    promptName: row.prompt_name,
    promptVersion: row.prompt_version,
    promptHash: row.prompt_hash,
    contextDigest: row.context_digest,
    generationConfigHash: row.generation_config_hash,
    attempt: row.attempt,
    cause: row.cause,
    message: row.message,
    raw: row.raw,
    stack: row.stack,
    ...(row.output_json === null ? {} : { output: JSON.parse(row.output_json) as unknown }),
    ...(row.output_shard === null
      ? {}
      : {
          outputLocation: {
            shard: row.output_shard,
            offset: row.output_offset ?? 0,
            length: row.output_length ?? 0,
          },
        }),
    finishReason: row.finish_reason,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    thoughtsTokens: row.thoughts_tokens,
    costUsd: row.cost_usd,
    latencyMs: row.latency_ms,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    requests: row.requests,
  };
}
