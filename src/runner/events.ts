import type { Lane } from '../lanes/lane.js';
import { redact, redactNullable } from '../secrets/redact.js';
import type { InferenceEvent, RunOutcome } from '../store/event-log.js';
import type { RecordCounts } from '../store/store.js';

/**
 * What the runner reports as it works; the CLI draws progress from these, telemetry logs and
 * exports them. `record-done` and `record-failed` carry the attempt's event exactly as it was
 * stored in the inference log.
 */
export type RunnerEvent =
  | { type: 'run-started'; runId: number; mode: string; at: number }
  | {
      type: 'run-finished';
      runId: number;
      mode: string;
      outcome: RunOutcome;
      at: number;
      counts: RecordCounts;
      error: string | null;
    }
  | {
      type: 'sync';
      /** True when the source's fingerprint matched the last full sync: it was not read again. */
      unchanged: boolean;
      seen: number;
      inserted: number;
      /** Unsent records the source no longer has, dropped from the store. */
      dropped: number;
      markedDone: number;
      reopened: number;
    }
  | {
      type: 'job-submitted';
      jobId: string;
      remoteName: string;
      kind: 'inline' | 'file';
      model: string;
      /** Requests in the job, and the records they carry (more with `records_per_request`). */
      requests: number;
      records: number;
      estimatedTokens: number;
    }
  | { type: 'job-adopted'; jobId: string; remoteName: string }
  | {
      type: 'job-state';
      jobId: string;
      /** `batches/…`, when the job was created. */
      remoteName?: string | null;
      state: string;
      /** The remote job's error message, for a job that ended without results. */
      error?: string | null;
      /** Records returned to the queue because the job ended without results. */
      released?: number;
    }
  | {
      type: 'job-processed';
      jobId: string;
      remoteName?: string | null;
      /** Records settled: done, and failed (retried or dead-lettered). */
      succeeded: number;
      failed: number;
      /** Requests the job held. */
      requests: number;
    }
  /** `jobId` names the batch job it came in; `requestId` the synchronous request (the other is null / absent). */
  | {
      type: 'record-done';
      recordId: string;
      jobId: string | null;
      requestId?: string | null;
      lane?: Lane;
      event?: InferenceEvent;
    }
  | {
      type: 'record-failed';
      recordId: string;
      jobId: string | null;
      requestId?: string | null;
      lane?: Lane;
      cause: string;
      message: string;
      outcome: 'retry' | 'dead' | 'stale';
      event?: InferenceEvent;
    }
  /**
   * Where the scheduler sent a ready record (`lane`), or that it held it back (`lane` null), and why
   * (`reason`: mode, width, critical_path, deadline, best_effort, max_cost, no_room).
   */
  | {
      type: 'lane-decision';
      recordId: string;
      lane: Lane | null;
      reason: string;
      explanation: string;
      /** Estimated USD on the chosen lane (0 when held). */
      costUsd: number;
    }
  | { type: 'quota-wait'; reason: string; retryDelayMs: number | null }
  /** A remote call failed for a passing reason and is tried again after `delayMs`. */
  | { type: 'retry'; operation: string; attempt: number; delayMs: number; message: string }
  /**
   * A job PENDING or RUNNING far beyond the learned turnaround (`thresholdMs`); reported once, and
   * `cancelled` when the stall policy says so and nothing of it was processed (its records go again).
   */
  | {
      type: 'job-stalled';
      jobId: string;
      remoteName: string;
      state: string;
      ageMs: number;
      thresholdMs: number;
      action: 'waiting' | 'cancelled';
      /**
       * Where a cancelled job's records go: again in a new job (`resent`), in jobs of half its size
       * (`split`, stall_action split), or to a synchronous lane (`hedged`, mode auto).
       */
      records?: 'resent' | 'split' | 'hedged';
    }
  /** A remote job of this store that nothing watched was found and dealt with. */
  | { type: 'job-orphan'; remoteName: string; displayName: string; action: 'cancelled'; reason: string }
  | { type: 'progress'; counts: RecordCounts; activeJobs: number }
  /** Done records queued again because their outputs are stale (`run --redo stale`). */
  | { type: 'stale-redo'; records: number; byReason: Record<string, number> }
  | { type: 'warning'; message: string };

export type RunnerEventListener = (event: RunnerEvent) => void;

/** The event with its free text (the API's words, error messages) redacted, as every listener gets it. */
export function redactEvent(event: RunnerEvent): RunnerEvent {
  switch (event.type) {
    case 'record-failed':
    case 'warning':
    case 'retry':
      return { ...event, message: redact(event.message) };
    case 'quota-wait':
      return { ...event, reason: redact(event.reason) };
    case 'run-finished':
      return { ...event, error: redactNullable(event.error) };
    case 'job-state':
      return event.error ? { ...event, error: redact(event.error) } : event;
    case 'run-started':
    case 'sync':
    case 'job-submitted':
    case 'job-adopted':
    case 'job-processed':
    case 'record-done':
    case 'progress':
    case 'job-orphan':
    case 'job-stalled':
    case 'stale-redo':
    case 'lane-decision':
      return event;
    default:
      return event satisfies never;
  }
}
