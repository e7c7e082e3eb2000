import type Database from 'better-sqlite3';
import type { AttemptGroup, JobAttempts } from '../event-log.js';
import { isAttempt } from './attempt-condition.js';

/**
 * The attempts of all runs, grouped by model, lane, prompt, outcome and cause (table
 * `attempt_totals`, migration 12), each run's per lane (`run_usage`, migration 13), each run's in
 * the groups of its report (`run_attempts`, migration 19) and each run's per batch job (`run_jobs`,
 * migration 19), kept up to date as events are logged. `status`, every run's report and the
 * dispatcher of a synchronous run read them; a GROUP BY over the inference log took a second per
 * call at a million attempts (a run's report grouped its events three ways: 4 s at the end of a
 * million-record run, and again per `report`), and a dashboard or a dispatcher asks again and again.
 * Absent values are stored as '' (NULLs would make every row a key of its own) and read back as null.
 */

/** Same group as `e`, for an earlier event `o` of the same record (and of the same run, for a run's groups). */
const sameGroup = (scope: 'all runs' | 'its run') => `${isAttempt('o')} AND o.type = e.type
  AND o.model IS e.model AND o.lane IS e.lane AND o.prompt_name IS e.prompt_name
  AND o.prompt_version IS e.prompt_version AND o.cause IS e.cause${scope === 'its run' ? ' AND o.run_id = e.run_id' : ''}`;

/**
 * Whether `e` is its record's first event in its group, so `records` counts distinct records. The
 * earlier events are found through the record's own index entries (by row, or by id for an id the
 * store has no record of): a few rows, never a scan.
 */
const firstOfRecord = (scope: 'all runs' | 'its run') => `CASE
  WHEN e.record_id IS NULL THEN 0
  WHEN e.record_key IS NOT NULL THEN NOT EXISTS (SELECT 1 FROM events o
    WHERE o.record_key = e.record_key AND o.id < e.id AND ${sameGroup(scope)})
  ELSE NOT EXISTS (SELECT 1 FROM events o
    WHERE o.record_key IS NULL AND o.record_id = e.record_id AND o.id < e.id AND ${sameGroup(scope)})
  END`;

const KEY = `COALESCE(e.model, ''), COALESCE(e.lane, ''), COALESCE(e.prompt_name, ''),
  COALESCE(e.prompt_version, ''), e.type, COALESCE(e.cause, '')`;

/** An attempt's requests: one, or none for a grouped request's other records (older events: one each). */
export const REQUESTS_OF = (t: string) =>
  `CASE WHEN ${t}.kind = 'attempt' THEN COALESCE(${t}.requests, 1) ELSE 0 END`;

const sums = (
  scope: 'all runs' | 'its run',
) => `COUNT(*), SUM(${REQUESTS_OF('e')}), SUM(${firstOfRecord(scope)}),
  COALESCE(SUM(e.input_tokens), 0), COALESCE(SUM(e.output_tokens), 0), COALESCE(SUM(e.thoughts_tokens), 0),
  COALESCE(SUM(e.cost_usd), 0), COALESCE(SUM(e.latency_ms), 0)`;

const COLUMNS = `model, lane, prompt_name, prompt_version, type, cause, attempts, requests, records, input_tokens,
  output_tokens, thoughts_tokens, cost_usd, latency_ms`;

const ADD_SUMS = `attempts = attempts + excluded.attempts, requests = requests + excluded.requests,
    records = records + excluded.records,
    input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
    thoughts_tokens = thoughts_tokens + excluded.thoughts_tokens, cost_usd = cost_usd + excluded.cost_usd,
    latency_ms = latency_ms + excluded.latency_ms`;

/** Adds the events with ids from..to (one transaction's, in id order) to the totals. */
export const ADD_RANGE = `INSERT INTO attempt_totals (${COLUMNS})
  SELECT ${KEY}, ${sums('all runs')} FROM events e WHERE e.id BETWEEN ? AND ? AND ${isAttempt('e')}
   GROUP BY 1, 2, 3, 4, 5, 6
  ON CONFLICT (model, lane, prompt_name, prompt_version, type, cause) DO UPDATE SET ${ADD_SUMS}`;

/** Each run's attempts in the same groups (a record counted once per group and run), added the same way. */
export const ADD_RUN_RANGE = `INSERT INTO run_attempts (run_id, ${COLUMNS})
  SELECT e.run_id, ${KEY}, ${sums('its run')} FROM events e
   WHERE e.id BETWEEN ? AND ? AND ${isAttempt('e')} AND e.run_id IS NOT NULL
   GROUP BY 1, 2, 3, 4, 5, 6, 7
  ON CONFLICT (run_id, model, lane, prompt_name, prompt_version, type, cause) DO UPDATE SET ${ADD_SUMS}`;

/** The larger (smaller) of two values of which either may be NULL, as MAX (MIN) over both would say. */
const larger = (a: string, b: string) => `COALESCE(max(${a}, ${b}), ${a}, ${b})`;
const smaller = (a: string, b: string) => `COALESCE(min(${a}, ${b}), ${a}, ${b})`;

/** Each run's attempts per batch job (its report's slowest jobs), added the same way. */
export const ADD_RUN_JOBS = `INSERT INTO run_jobs (run_id, job_id, job_name, lane, attempts, requests, done,
    latency_ms, cost_usd, started_at, finished_at)
  SELECT run_id, job_id, MAX(job_name), MAX(lane), COUNT(*), SUM(${REQUESTS_OF('events')}),
         SUM(CASE WHEN type = 'done' THEN 1 ELSE 0 END), MAX(latency_ms), COALESCE(SUM(cost_usd), 0),
         MIN(started_at), MAX(finished_at)
    FROM events WHERE id BETWEEN ? AND ? AND kind = 'attempt' AND job_id IS NOT NULL AND run_id IS NOT NULL
   GROUP BY run_id, job_id
  ON CONFLICT (run_id, job_id) DO UPDATE SET job_name = ${larger('job_name', 'excluded.job_name')},
    lane = ${larger('lane', 'excluded.lane')}, attempts = attempts + excluded.attempts,
    requests = requests + excluded.requests, done = done + excluded.done,
    latency_ms = ${larger('latency_ms', 'excluded.latency_ms')}, cost_usd = cost_usd + excluded.cost_usd,
    started_at = ${smaller('started_at', 'excluded.started_at')},
    finished_at = ${larger('finished_at', 'excluded.finished_at')}`;

/** Each run's attempts per lane (table `run_usage`, migration 13), added the same way. */
export const ADD_RUN_USAGE = `INSERT INTO run_usage (run_id, lane, requests, input_tokens, output_tokens, thoughts_tokens, cost_usd)
  SELECT run_id, lane, SUM(${REQUESTS_OF('events')}), COALESCE(SUM(input_tokens), 0),
         COALESCE(SUM(output_tokens), 0), COALESCE(SUM(thoughts_tokens), 0), COALESCE(SUM(cost_usd), 0)
    FROM events
   WHERE id BETWEEN ? AND ? AND kind = 'attempt' AND run_id IS NOT NULL AND lane IS NOT NULL
   GROUP BY run_id, lane
  ON CONFLICT (run_id, lane) DO UPDATE SET requests = requests + excluded.requests,
    input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
    thoughts_tokens = thoughts_tokens + excluded.thoughts_tokens, cost_usd = cost_usd + excluded.cost_usd`;

/** Adds the events just inserted (ids `from` to `to`) to every total, in the caller's transaction. */
export function addToEventTotals(db: Database.Database, from: number | bigint, to: number | bigint): void {
  db.prepare(ADD_RANGE).run(from, to);
  db.prepare(ADD_RUN_USAGE).run(from, to);
  db.prepare(ADD_RUN_RANGE).run(from, to);
  db.prepare(ADD_RUN_JOBS).run(from, to);
}

/** A run's attempts per lane, from the sums kept as they were logged. */
export function runUsageByLane(
  db: Database.Database,
  runId: number,
): Array<{
  lane: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  thoughtsTokens: number;
  costUsd: number;
}> {
  return db
    .prepare(
      `SELECT lane, requests, input_tokens AS inputTokens, output_tokens AS outputTokens,
              thoughts_tokens AS thoughtsTokens, cost_usd AS costUsd
         FROM run_usage WHERE run_id = ? ORDER BY lane`,
    )
    .all(runId) as ReturnType<typeof runUsageByLane>;
}

/** Every table of totals kept as events are logged. */
const EVENT_TOTALS = ['attempt_totals', 'run_usage', 'run_attempts', 'run_jobs'] as const;

/**
 * Recounts every total from the events left (after events were deleted): the same addition as at
 * logging, over every event, so a record's first event left in a group is the one that counts it.
 */
export function rebuildEventTotals(db: Database.Database): void {
  for (const table of EVENT_TOTALS) db.prepare(`DELETE FROM ${table}`).run();
  addToEventTotals(db, 0, Number.MAX_SAFE_INTEGER);
}

const GROUP_COLUMNS = `NULLIF(model, '') AS model, lane, NULLIF(prompt_name, '') AS promptName,
  NULLIF(prompt_version, '') AS promptVersion, type, NULLIF(cause, '') AS cause, attempts, requests, records,
  input_tokens AS inputTokens, output_tokens AS outputTokens, thoughts_tokens AS thoughtsTokens,
  cost_usd AS costUsd, latency_ms AS latencyMs`;

/** The attempts of all runs (or of one run), ordered by model, lane, prompt, type and cause. */
export function attemptTotals(db: Database.Database, runId?: number): AttemptGroup[] {
  return runId === undefined
    ? (db
        .prepare(
          `SELECT ${GROUP_COLUMNS} FROM attempt_totals
            ORDER BY model, lane, prompt_name, prompt_version, type, cause`,
        )
        .all() as AttemptGroup[])
    : (db
        .prepare(
          `SELECT ${GROUP_COLUMNS} FROM run_attempts WHERE run_id = ?
            ORDER BY model, lane, prompt_name, prompt_version, type, cause`,
        )
        .all(runId) as AttemptGroup[]);
}

/** A run's attempts per batch job, slowest first (a job's latency is its turnaround). */
export function runJobAttempts(db: Database.Database, runId: number, limit: number): JobAttempts[] {
  return db
    .prepare(
      `SELECT job_id AS jobId, job_name AS jobName, lane, attempts, requests, done,
              COALESCE(latency_ms, 0) AS latencyMs, cost_usd AS costUsd, started_at AS startedAt,
              finished_at AS finishedAt
         FROM run_jobs WHERE run_id = ? ORDER BY latencyMs DESC, jobId LIMIT ?`,
    )
    .all(runId, limit) as JobAttempts[];
}
