import { redact } from '../secrets/redact.js';
import type { RecordCounts } from '../store/store.js';

/** What the runner reports as it works; the CLI draws progress from these, telemetry exports them. */
export type RunnerEvent =
  | { type: 'sync'; seen: number; inserted: number; markedDone: number; reopened: number }
  | {
      type: 'job-submitted';
      jobId: string;
      remoteName: string;
      kind: 'inline' | 'file';
      requests: number;
      estimatedTokens: number;
    }
  | { type: 'job-adopted'; jobId: string; remoteName: string }
  | { type: 'job-state'; jobId: string; state: string }
  | { type: 'job-processed'; jobId: string; succeeded: number; failed: number }
  | { type: 'record-done'; recordId: string; jobId: string }
  | {
      type: 'record-failed';
      recordId: string;
      jobId: string | null;
      cause: string;
      message: string;
      outcome: 'retry' | 'dead' | 'stale';
    }
  | { type: 'quota-wait'; reason: string; retryDelayMs: number | null }
  | { type: 'progress'; counts: RecordCounts; activeJobs: number }
  | { type: 'warning'; message: string };

export type RunnerEventListener = (event: RunnerEvent) => void;

/** The event with its free text (the API's words, error messages) redacted, as every listener gets it. */
export function redactEvent(event: RunnerEvent): RunnerEvent {
  switch (event.type) {
    case 'record-failed':
    case 'warning':
      return { ...event, message: redact(event.message) };
    case 'quota-wait':
      return { ...event, reason: redact(event.reason) };
    case 'sync':
    case 'job-submitted':
    case 'job-adopted':
    case 'job-state':
    case 'job-processed':
    case 'record-done':
    case 'progress':
      return event;
    default:
      return event satisfies never;
  }
}
