import type { RetryPolicy } from '../retry.js';
import type { StallPolicy } from '../lanes/batch/stall-policy.js';
import type { ExecutionMode } from '../scheduler/index.js';

/** The numbers the batch runner works within, taken from the workload config. */
export interface RunnerSettings {
  /** Workload name; prefixes job display names. */
  workload: string;
  model: string;
  /** Scratch space for job input and result files. */
  dataDir: string;
  maxRetries: number;
  maxConcurrentJobs: number;
  maxRequestsPerJob: number;
  /** Records rendered into one request of a batch job (1: one each). */
  recordsPerRequest: number;
  maxJobBytes: number;
  inlineMaxBytes: number;
  enqueuedTokenBudget: number;
  pollIntervalMs: number;
  /** The prompt; `templateHash` (of its template sources) is recorded with each output. */
  prompt: { name: string; version: string; templateHash?: string };
  /** Where the API is, for messages (the configured base URL or Google's). */
  baseUrl: string;
  /** How one remote call is retried when it fails for a passing reason. */
  retryPolicy: RetryPolicy;
  /** A run stops with ApiUnreachableError once the API has not answered at all for this long. */
  giveUpAfterMs: number;
  /** How often the remote job list is checked for jobs of this store that nothing watches. */
  remoteScanIntervalMs: number;
  /** When a batch job counts as stalled and what is done about it. */
  stall: StallPolicy;
  /** Which lanes records go to, and what the synchronous lanes and the scheduler work within. */
  execution: {
    mode: ExecutionMode;
    /** Synchronous requests in flight at once, all lanes together. */
    syncConcurrency: number;
    /** Milliseconds after the run starts, or an epoch-ms time; null for none. */
    deadline: { afterMs: number } | { at: number } | null;
    /** USD one run may send; null for no cap. */
    maxCostUsd: number | null;
    /** How long a stopped run waits for the synchronous requests in the air (`stop_grace`); unset: see stopGraceMs. */
    stopGraceMs?: number | undefined;
  };
}
