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
