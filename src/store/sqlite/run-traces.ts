import type Database from 'better-sqlite3';
import type { RunOutcome } from '../event-log.js';
import type { TracedJob, TracedJobEvent, TracedRun } from '../run-traces.js';
import { toJobRow, type JobDbRow } from './rows.js';

interface TracedRunDbRow {
  id: number;
  mode: string;
  started_at: string;
  ended_at: string;
  outcome: RunOutcome | null;
  counts_json: string | null;
  error: string | null;
}

/**
 * A run that stopped without finishing ended with its last logged event: its largest event id is
 * read from the run's own index entries, then that one event.
 */
const TRACED_RUNS = `SELECT id, mode, started_at, outcome, counts_json, error,
    COALESCE(finished_at,
             (SELECT at FROM events WHERE id = (SELECT MAX(id) FROM events WHERE run_id = runs.id)),
             started_at) AS ended_at
  FROM runs WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`;

/** See RunTraces.tracedRuns. */
export function tracedRuns(
  db: Database.Database,
  afterRunId: number,
  throughRunId: number,
  limit: number,
): TracedRun[] {
  const rows = db.prepare(TRACED_RUNS).all(afterRunId, throughRunId, limit) as TracedRunDbRow[];
  return rows.map((row) => ({
    id: row.id,
    mode: row.mode,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    outcome: row.outcome,
    counts: row.counts_json ? (JSON.parse(row.counts_json) as Record<string, number>) : null,
    error: row.error,
  }));
}

/**
 * See RunTraces.tracedJobs: the jobs named by the run's job events (through the log's index by run)
 * and by its attempts' totals per job (run_jobs), each as the jobs table holds it now. A name the
 * jobs table does not hold (an orphan the run cancelled) is no job of the store's.
 */
export function tracedJobs(db: Database.Database, runId: number): TracedJob[] {
  const events = db
    .prepare(
      `SELECT id, job_id AS jobId, type, at, message FROM events
        WHERE run_id = ? AND kind = 'job' AND job_id IS NOT NULL ORDER BY id`,
    )
    .all(runId) as Array<TracedJobEvent & { jobId: string }>;
  const attempts = db
    .prepare('SELECT job_id AS jobId, attempts, done FROM run_jobs WHERE run_id = ? ORDER BY started_at')
    .all(runId) as Array<{ jobId: string; attempts: number; done: number }>;
  const byJob = new Map<string, { events: TracedJobEvent[]; attempts: number; done: number }>();
  const entry = (jobId: string) => {
    let found = byJob.get(jobId);
    if (!found) byJob.set(jobId, (found = { events: [], attempts: 0, done: 0 }));
    return found;
  };
  for (const { jobId, ...event } of events) entry(jobId).events.push(event);
  for (const { jobId, attempts: count, done } of attempts)
    Object.assign(entry(jobId), { attempts: count, done });
  const job = db.prepare('SELECT * FROM jobs WHERE id = ?');
  const traced: TracedJob[] = [];
  for (const [jobId, seen] of byJob) {
    const row = job.get(jobId) as JobDbRow | undefined;
    if (row) traced.push({ job: toJobRow(row), ...seen });
  }
  return traced;
}
