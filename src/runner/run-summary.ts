import type { RecordCounts } from '../store/store.js';
import type { RunOutcome } from '../store/event-log.js';
import type { BatchOnlyComparison } from '../scheduler/index.js';
import type { Lane } from '../lanes/lane.js';
import type { LaneFigures } from './lane-tally.js';

/** What a run did, for the CLI summary and the runs table. */
export interface RunSummary {
  /** The run's row in the runs table. */
  runId: number;
  counts: RecordCounts;
  jobsSubmitted: number;
  /** Remote jobs not yet settled (pending, running, or succeeded with results still to apply). */
  activeJobs: number;
  /**
   * Jobs whose create call failed with an unknown outcome (network, 5xx): stored as intents, not
   * known to exist remotely; the run adopts or creates them after a backoff (or the next run does).
   */
  unconfirmedJobs: number;
  /**
   * Records whose synchronous request the API failed through every retry (unreachable, 5xx, shed,
   * 429), nothing billed, that are still waiting to be sent at the end of the run.
   */
  unansweredRequests: number;
  inputTokens: number;
  outputTokens: number;
  /**
   * USD of this run's attempts; null when the price list has no price for the model (it read 0, as
   * if the run had been free).
   */
  costUsd: number | null;
  /**
   * This run's calls that brought no answer (given up at the timeout, or cut off half-way): Google
   * may bill them at a price wavebatch cannot know, so `costUsd` is a floor when this is above 0.
   */
  unknownCostRequests: number;
  elapsedMs: number;
  /** Remote jobs of this store that nothing watched, cancelled by this run. */
  orphansCancelled: number;
  /** Active jobs found stalled on the last pass (PENDING or RUNNING far beyond the learned turnaround). */
  stalledJobs: number;
  /** True when nothing is left to do (all done or dead-lettered, or blocked behind dead letters). */
  finished: boolean;
  /** Records done, attempts and USD per lane this run (lanes that did nothing left out). */
  lanes: Partial<Record<Lane, LaneFigures>>;
  /**
   * An `auto` run that finished with help from a synchronous lane: the projected batch-only time
   * for the same work and the time saved (an estimate); null otherwise.
   */
  batchOnly: BatchOnlyComparison | null;
  /**
   * How the run ended, as its row in the runs table says: `finished`; `interrupted` (its signal
   * aborted: run again to go on); `incomplete` (a `run-once` pass that left work, or records held by
   * `max_cost`). A run that fails throws instead.
   */
  outcome: Exclude<RunOutcome, 'failed'>;
}

/** A run's figures before its end: its tokens and cost are read from the inference log when it ends. */
export type RunProgress = Omit<
  RunSummary,
  'inputTokens' | 'outputTokens' | 'costUsd' | 'unknownCostRequests' | 'outcome'
>;
