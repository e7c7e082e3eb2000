import type Database from 'better-sqlite3';
import type { AttemptGroup } from '../event-log.js';

/**
 * The attempts of all runs, grouped by model, lane, prompt, outcome and cause (table
 * `attempt_totals`, migration 12), and each run's per lane (`run_usage`, migration 13), kept up to
 * date as events are logged. `status`, every run's report and the dispatcher of a synchronous run
 * read them; a GROUP BY over the inference log took a second per call at a million attempts, and a
 * dashboard or a dispatcher asks again and again. Absent values are stored as '' (NULLs would make
 * every row a key of its own) and read back as null.
 */

/** What an event (of table alias `t`) must be to count: an attempt, or a record rejected before it could be sent. */
export const counted = (t: string) =>
  `(${t}.kind = 'attempt' OR (${t}.kind = 'record' AND ${t}.type = 'rejected'))`;

/** Same group as `e`, for an earlier event `o` of the same record. */
const SAME_GROUP = `${counted('o')} AND o.type = e.type
  AND o.model IS e.model AND o.lane IS e.lane AND o.prompt_name IS e.prompt_name
  AND o.prompt_version IS e.prompt_version AND o.cause IS e.cause`;

/**
 * Whether `e` is its record's first event in its group, so `records` counts distinct records. The
 * earlier events are found through the record's own index entries (by row, or by id for an id the
 * store has no record of): a few rows, never a scan.
 */
const FIRST_OF_RECORD = `CASE
  WHEN e.record_id IS NULL THEN 0
  WHEN e.record_key IS NOT NULL THEN NOT EXISTS (SELECT 1 FROM events o
    WHERE o.record_key = e.record_key AND o.id < e.id AND ${SAME_GROUP})
  ELSE NOT EXISTS (SELECT 1 FROM events o
    WHERE o.record_key IS NULL AND o.record_id = e.record_id AND o.id < e.id AND ${SAME_GROUP})
  END`;

const KEY = `COALESCE(e.model, ''), COALESCE(e.lane, ''), COALESCE(e.prompt_name, ''),
  COALESCE(e.prompt_version, ''), e.type, COALESCE(e.cause, '')`;

/** An attempt's requests: one, or none for a grouped request's other records (older events: one each). */
export const REQUESTS_OF = (t: string) =>
  `CASE WHEN ${t}.kind = 'attempt' THEN COALESCE(${t}.requests, 1) ELSE 0 END`;

const SUMS = `COUNT(*), SUM(${REQUESTS_OF('e')}), SUM(${FIRST_OF_RECORD}), COALESCE(SUM(e.input_tokens), 0),
  COALESCE(SUM(e.output_tokens), 0), COALESCE(SUM(e.thoughts_tokens), 0), COALESCE(SUM(e.cost_usd), 0),
  COALESCE(SUM(e.latency_ms), 0)`;

const COLUMNS = `model, lane, prompt_name, prompt_version, type, cause, attempts, requests, records, input_tokens,
  output_tokens, thoughts_tokens, cost_usd, latency_ms`;

/** Adds the events with ids from..to (one transaction's, in id order) to the totals. */
export const ADD_RANGE = `INSERT INTO attempt_totals (${COLUMNS})
  SELECT ${KEY}, ${SUMS} FROM events e WHERE e.id BETWEEN ? AND ? AND ${counted('e')}
   GROUP BY 1, 2, 3, 4, 5, 6
  ON CONFLICT (model, lane, prompt_name, prompt_version, type, cause) DO UPDATE SET
    attempts = attempts + excluded.attempts, requests = requests + excluded.requests,
    records = records + excluded.records,
    input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
    thoughts_tokens = thoughts_tokens + excluded.thoughts_tokens, cost_usd = cost_usd + excluded.cost_usd,
    latency_ms = latency_ms + excluded.latency_ms`;

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

/** Adds the events just inserted (ids `from` to `to`) to both totals, in the caller's transaction. */
export function addToEventTotals(db: Database.Database, from: number | bigint, to: number | bigint): void {
  db.prepare(ADD_RANGE).run(from, to);
  db.prepare(ADD_RUN_USAGE).run(from, to);
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

/**
 * Recounts both totals from the events left (after events were deleted): the same addition as at
 * logging, over every event, so a record's first event left in a group is the one that counts it.
 */
export function rebuildEventTotals(db: Database.Database): void {
  db.prepare('DELETE FROM run_usage').run();
  db.prepare('DELETE FROM attempt_totals').run();
  addToEventTotals(db, 0, Number.MAX_SAFE_INTEGER);
}

/** The totals over all runs, in the order of the per-run groups (model, lane, prompt, type, cause). */
export function attemptTotals(db: Database.Database): AttemptGroup[] {
  return db
    .prepare(
      `SELECT NULLIF(model, '') AS model, lane, NULLIF(prompt_name, '') AS promptName,
              NULLIF(prompt_version, '') AS promptVersion, type, NULLIF(cause, '') AS cause, attempts,
              requests, records, input_tokens AS inputTokens, output_tokens AS outputTokens,
              thoughts_tokens AS thoughtsTokens, cost_usd AS costUsd, latency_ms AS latencyMs
         FROM attempt_totals ORDER BY model, lane, prompt_name, prompt_version, type, cause`,
    )
    .all() as AttemptGroup[];
}
