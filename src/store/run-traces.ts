import type { RunOutcome } from './event-log.js';
import type { JobRow } from './store.js';

/**
 * A run as its trace shows it (its `wavebatch <mode>` span), read from the runs table: what an
 * exporter needs to send its span again, under the same ids, from any later process.
 */
export interface TracedRun {
  id: number;
  mode: string;
  startedAt: string;
  /**
   * When it finished; for a run that stopped without finishing (killed, or its machine went down),
   * when it logged its last event (its start when it logged none).
   */
  endedAt: string;
  /** Null for a run that stopped without finishing. */
  outcome: RunOutcome | null;
  /** Records per state when it finished (null when it did not). */
  counts: Record<string, number> | null;
  error: string | null;
}

/** One thing that happened to a batch job in a run, as the inference log holds it. */
export interface TracedJobEvent {
  /** Its id in the inference log. */
  id: number;
  /** `submitted`, `adopted`, a job state (`running`, `failed`, …), `processed`, `stalled`, … */
  type: string;
  at: string;
  /** Why it failed or stalled (redacted when logged). */
  message: string | null;
}

/** A batch job in one run (a job collected by a later run is in that run too), as its span shows it. */
export interface TracedJob {
  job: JobRow;
  /** What the run saw happen to it, in order (empty when the run only collected attempts of it). */
  events: TracedJobEvent[];
  /** Its attempts settled in this run, and of those the successes. */
  attempts: number;
  done: number;
}

/** The runs and their batch jobs as traces show them (see LoggedRunExport). */
export interface RunTraces {
  /** The runs after run `afterRunId` through run `throughRunId`, in id order, at most `limit`. */
  tracedRuns(afterRunId: number, throughRunId: number, limit: number): Promise<TracedRun[]>;
  /** The batch jobs a run submitted, adopted, watched or collected, in the order it first logged them. */
  tracedJobs(runId: number): Promise<TracedJob[]>;
}
