import type { RunnerEvent } from '../runner/events.js';
import { count, counted, requestsOf } from '../quantities.js';
import type { LogFields, LogLevel } from './logger.js';

/** What the log says becomes of a stall-cancelled job's records. */
const RECORDS_GO = {
  resent: 'its records go again in a new job',
  split: 'its records go again as jobs of half its size',
  hedged: 'its records go to a synchronous lane (hedged)',
} as const;

/** One log line: its level, the message a person reads, and the fields a log collector indexes. */
export interface LogLine {
  level: LogLevel;
  message: string;
  fields: LogFields;
}

/**
 * The log line of a runner event (pure): `info` for what a run does (sync, jobs, progress), `debug`
 * for each record settled or retried, `warn` for dead letters, quota waits and warnings, `error`
 * for a run that failed. Every line names the event in `event`.
 */
export function runnerLogLine(event: RunnerEvent): LogLine {
  const line = (level: LogLevel, message: string, fields: LogFields = {}): LogLine => ({
    level,
    message,
    fields: { event: event.type, ...fields },
  });
  switch (event.type) {
    case 'run-started':
      return line('info', `run ${event.runId} started (${event.mode})`, {
        runId: event.runId,
        mode: event.mode,
      });
    case 'run-finished':
      return line(
        event.outcome === 'failed' ? 'error' : 'info',
        `run ${event.runId} ${event.outcome}${event.error ? `: ${event.error}` : ''}`,
        {
          runId: event.runId,
          outcome: event.outcome,
          done: event.counts.done,
          dead: event.counts.dead,
          total: event.counts.total,
        },
      );
    case 'sync':
      return line(
        // An empty source is most often the wrong file, or one not written yet: said, not only counted.
        !event.unchanged && event.seen === 0 ? 'warn' : 'info',
        event.unchanged
          ? `source unchanged since the last sync (not read again); ${event.markedDone} found done, ${event.reopened} reopened`
          : event.seen === 0
            ? `the source holds no records (an empty file or folder, or none taken by the filters): nothing to run` +
              `${event.dropped > 0 ? `; ${event.dropped} unsent records it no longer has dropped` : ''}`
            : `synced ${event.seen} records (${event.inserted} new${event.dropped > 0 ? `, ${event.dropped} unsent no longer in the source dropped` : ''}); ${event.markedDone} already done on disk, ${event.reopened} reopened`,
        {
          unchanged: event.unchanged,
          seen: event.seen,
          inserted: event.inserted,
          dropped: event.dropped,
          markedDone: event.markedDone,
          reopened: event.reopened,
        },
      );
    case 'job-submitted':
      return line(
        'info',
        `submitted ${event.kind} job ${event.jobId} -> ${event.remoteName} ` +
          `(${requestsOf(event.requests, event.records)}, ~${count(event.estimatedTokens)} tokens)`,
        {
          jobId: event.jobId,
          jobName: event.remoteName,
          kind: event.kind,
          requests: event.requests,
          records: event.records,
          estimatedTokens: event.estimatedTokens,
        },
      );
    case 'job-adopted':
      return line(
        'info',
        `adopted job ${event.jobId} -> ${event.remoteName} (created before an interruption)`,
        {
          jobId: event.jobId,
          jobName: event.remoteName,
        },
      );
    case 'job-state':
      return line('debug', `job ${event.jobId} is ${event.state}${event.error ? `: ${event.error}` : ''}`, {
        jobId: event.jobId,
        jobName: event.remoteName ?? undefined,
        state: event.state,
        released: event.released,
      });
    case 'job-processed':
      return line('info', `job ${event.jobId}: ${event.succeeded} succeeded, ${event.failed} failed`, {
        jobId: event.jobId,
        jobName: event.remoteName ?? undefined,
        succeeded: event.succeeded,
        failed: event.failed,
        requests: event.requests,
      });
    case 'record-done':
      return line('debug', `record ${event.recordId} done`, {
        recordId: event.recordId,
        jobId: event.jobId,
        ...(event.requestId ? { requestId: event.requestId, lane: event.lane } : {}),
        attempt: event.event?.attempt,
        inputTokens: event.event?.inputTokens,
        outputTokens: event.event?.outputTokens,
        costUsd: event.event?.costUsd,
      });
    case 'record-failed':
      return line(
        event.outcome === 'dead' ? 'warn' : 'debug',
        event.outcome === 'dead'
          ? `dead letter ${event.recordId} [${event.cause}]: ${event.message}`
          : `record ${event.recordId} failed [${event.cause}], ${event.outcome === 'retry' ? 'will retry' : 'already settled'}: ${event.message}`,
        {
          recordId: event.recordId,
          jobId: event.jobId,
          ...(event.requestId ? { requestId: event.requestId, lane: event.lane } : {}),
          cause: event.cause,
          outcome: event.outcome,
          attempt: event.event?.attempt,
        },
      );
    case 'quota-wait':
      return line(
        'warn',
        `quota reached, waiting${event.retryDelayMs ? ` ${Math.ceil(event.retryDelayMs / 1000)}s` : ''}: ${event.reason}`,
        { retryDelayMs: event.retryDelayMs },
      );
    case 'progress': {
      const c = event.counts;
      return line(
        'info',
        `progress: ${c.done}/${c.total} done, ${c.in_flight} in flight, ${c.ready} ready, ${c.blocked} blocked, ${c.dead} dead; ${counted(event.activeJobs, 'active job')}`,
        {
          done: c.done,
          inFlight: c.in_flight,
          ready: c.ready,
          blocked: c.blocked,
          dead: c.dead,
          total: c.total,
          activeJobs: event.activeJobs,
        },
      );
    }
    case 'retry':
      return line(
        'info',
        `${event.operation} failed (${event.message}); retry ${event.attempt} in ${Math.ceil(event.delayMs / 1000)}s`,
        { operation: event.operation, attempt: event.attempt, delayMs: event.delayMs },
      );
    case 'job-orphan':
      return line(
        'warn',
        `${event.action} orphan job ${event.displayName} (${event.remoteName}): ${event.reason}`,
        {
          jobName: event.remoteName,
          jobId: event.displayName,
          action: event.action,
        },
      );
    case 'job-stalled':
      return line(
        'warn',
        `job ${event.jobId} ${event.state} for ${minutes(event.ageMs)}, past the stall threshold of ${minutes(event.thresholdMs)}` +
          (event.action === 'cancelled'
            ? `; cancelled, ${RECORDS_GO[event.records ?? 'resent']}`
            : '; waiting for it'),
        {
          jobId: event.jobId,
          jobName: event.remoteName,
          state: event.state,
          ageMs: event.ageMs,
          thresholdMs: event.thresholdMs,
          action: event.action,
          // Where a cancelled job's records went (resent, split or hedged), for a log collector too.
          ...(event.records !== undefined ? { records: event.records } : {}),
        },
      );
    case 'stale-redo': {
      const reasons = Object.entries(event.byReason)
        .filter(([, count]) => count > 0)
        .map(([reason, count]) => `${reason} ${count}`);
      return line(
        'info',
        `redo: ${counted(event.records, 'stale output')} queued again${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}`,
        {
          records: event.records,
          ...Object.fromEntries(Object.entries(event.byReason).map(([k, v]) => [`stale_${k}`, v])),
        },
      );
    }
    case 'lane-decision':
      return line(
        event.lane === null ? 'info' : 'debug',
        `${event.lane === null ? 'held' : `to ${event.lane}`} ${event.recordId} [${event.reason}]: ${event.explanation}`,
        { recordId: event.recordId, lane: event.lane, reason: event.reason, costUsd: event.costUsd },
      );
    case 'warning':
      return line('warn', event.message);
    default:
      return event satisfies never;
  }
}

/** "42 s", "7 min". */
function minutes(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}
