import type Database from 'better-sqlite3';
import type { Lane } from '../../lanes/lane.js';
import { redactNullable } from '../../secrets/redact.js';
import type { RunOutcome, RunRow, RunTotals } from '../event-log.js';

interface RunDbRow {
  id: number;
  mode: string;
  config_hash: string | null;
  started_at: string;
  finished_at: string | null;
  outcome: RunOutcome | null;
  counts_json: string | null;
  jobs_submitted: number;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  thoughts_tokens: number;
  cost_usd: number;
  lanes_json: string | null;
  lane_reasons_json: string | null;
  error: string | null;
}

/** Logs the start of a run and returns its id. */
export function startRun(db: Database.Database, mode: string, configHash: string | null, at: string): number {
  return Number(
    db.prepare('INSERT INTO runs (mode, config_hash, started_at) VALUES (?, ?, ?)').run(mode, configHash, at)
      .lastInsertRowid,
  );
}

/** Logs the end of a run with what it did. */
export function finishRun(db: Database.Database, runId: number, totals: RunTotals, at: string): void {
  db.prepare(
    `UPDATE runs SET finished_at = ?, outcome = ?, counts_json = ?, jobs_submitted = ?, requests = ?,
         input_tokens = ?, output_tokens = ?, thoughts_tokens = ?, cost_usd = ?, lanes_json = ?,
         lane_reasons_json = ?, error = ?
       WHERE id = ?`,
  ).run(
    at,
    totals.outcome,
    JSON.stringify(totals.counts),
    totals.jobsSubmitted,
    totals.requests,
    totals.inputTokens,
    totals.outputTokens,
    totals.thoughtsTokens,
    totals.costUsd,
    JSON.stringify(totals.lanes),
    totals.laneReasons ? JSON.stringify(totals.laneReasons) : null,
    totals.error,
    runId,
  );
}

/** When the first run on record started, null before any. */
export function firstRunStartedAt(db: Database.Database): string | null {
  const row = db.prepare('SELECT started_at FROM runs ORDER BY id LIMIT 1').get() as
    { started_at: string } | undefined;
  return row?.started_at ?? null;
}

/** Runs, newest first. */
export function listRuns(db: Database.Database, limit: number): RunRow[] {
  const rows = db.prepare('SELECT * FROM runs ORDER BY id DESC LIMIT ?').all(limit) as RunDbRow[];
  return rows.map(toRunRow);
}

/** The run with this id, or null. */
export function getRun(db: Database.Database, runId: number): RunRow | null {
  const row = db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as RunDbRow | undefined;
  return row ? toRunRow(row) : null;
}

/**
 * A run as every reader gets it (`runs`, `report`, the service, telemetry): its error redacted
 * here, once, as well as before it was stored, because a row an older version wrote keeps the
 * error as thrown, the API key in it, and the printers showed that stored text as it was.
 */
function toRunRow(row: RunDbRow): RunRow {
  return {
    id: row.id,
    mode: row.mode,
    configHash: row.config_hash,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    totals:
      row.outcome === null
        ? null
        : {
            outcome: row.outcome,
            counts: row.counts_json ? (JSON.parse(row.counts_json) as Record<string, number>) : {},
            jobsSubmitted: row.jobs_submitted,
            requests: row.requests,
            inputTokens: row.input_tokens,
            outputTokens: row.output_tokens,
            thoughtsTokens: row.thoughts_tokens,
            costUsd: row.cost_usd,
            lanes: row.lanes_json ? (JSON.parse(row.lanes_json) as Lane[]) : [],
            ...(row.lane_reasons_json
              ? { laneReasons: JSON.parse(row.lane_reasons_json) as RunTotals['laneReasons'] }
              : {}),
            error: redactNullable(row.error),
          },
  };
}
