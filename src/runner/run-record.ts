import { describeError, MAX_SERVER_MESSAGE_BYTES } from '../errors.js';
import { capText } from '../results/capped-text.js';
import type { WorkloadStore } from '../store/store.js';
import type { RunnerClock } from '../clock.js';
import type { RunOutcome, RunTotals } from '../store/event-log.js';
import type { Lane } from '../lanes/lane.js';
import type { RunnerEventListener } from './events.js';
import type { LaneFigures } from './lane-tally.js';
import type { RunProgress, RunSummary } from './run-summary.js';
import { unansweredRequests } from '../telemetry/unanswered-calls.js';

/** Where a run's row in the runs table is kept and announced. */
export interface RunRecordDeps {
  store: WorkloadStore;
  clock: RunnerClock;
  emit: RunnerEventListener;
  /** Hash of the workload config, kept in the runs table. */
  configHash: string | null;
  /** False when the price list has no price for the model: the summary's cost is then unknown (null), not 0. */
  priced: boolean;
}

/** How a run that did not throw ended, with its figures. */
export interface RunEnding {
  summary: RunProgress;
  outcome: Exclude<RunOutcome, 'failed'>;
}

/** The run's side of its row: told when the row is made, asked for its figures, and run. */
export interface RecordedWork {
  /** The run's row exists: its id and start, for the run to start its counts from. */
  begin(runId: number, started: number): void;
  /** The figures so far, for the row of a run that threw. */
  progress(started: number): Promise<RunProgress>;
  work(started: number): Promise<RunEnding>;
}

/** Runs `run.work` as one row of the runs table: started, then finished with its outcome and totals. */
export async function recordRun(deps: RunRecordDeps, mode: string, run: RecordedWork): Promise<RunSummary> {
  const { clock, store, emit } = deps;
  const started = clock.now();
  const runId = await store.startRun(mode, deps.configHash);
  run.begin(runId, started);
  emit({ type: 'run-started', runId, mode, at: started });
  let result: RunEnding;
  try {
    result = await run.work(started);
  } catch (error) {
    // A run that threw is still on record, with what it did before and why it stopped.
    const progress = await run.progress(started);
    await finish(deps, runId, mode, 'failed', progress, runError(error)).catch(() => undefined);
    throw error;
  }
  const totals = await finish(deps, runId, mode, result.outcome, result.summary, null);
  return { ...totals, outcome: result.outcome };
}

/**
 * The most of a failed run's error its row keeps. An error that quotes a server's message or a
 * hook's quotes at most MAX_SERVER_MESSAGE_BYTES of it, so its own words and advice fit beside it:
 * such a message is not cut a second time; an error quoting something whole (a megabyte page) is.
 */
export const MAX_RUN_ERROR_BYTES = 2 * MAX_SERVER_MESSAGE_BYTES;

/**
 * A failed run's error as its row and its run-finished event keep it: redacted, then cut, so that
 * the cut cannot leave a part of a secret that redaction no longer recognises. It was kept as
 * thrown, unbounded and with whatever secret the workload's code or a library echoed into it.
 */
function runError(error: unknown): string {
  return capText(describeError(error), MAX_RUN_ERROR_BYTES);
}

async function finish(
  deps: RunRecordDeps,
  runId: number,
  mode: string,
  outcome: RunOutcome,
  summary: RunProgress,
  error: string | null,
): Promise<Omit<RunSummary, 'outcome'>> {
  const { store, clock } = deps;
  const usage = await store.runUsage(runId);
  await store.finishRun(runId, {
    outcome,
    counts: { ...summary.counts },
    jobsSubmitted: summary.jobsSubmitted,
    requests: usage.requests,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    thoughtsTokens: usage.thoughtsTokens,
    costUsd: usage.costUsd,
    lanes: usage.lanes,
    ...laneReasons(summary.lanes),
    error,
  });
  deps.emit({ type: 'run-finished', runId, mode, outcome, at: clock.now(), counts: summary.counts, error });
  return {
    ...summary,
    ...(await billedTokens(store)),
    costUsd: deps.priced ? usage.costUsd : null,
    unknownCostRequests: unansweredRequests(await store.attemptGroups(runId)),
  };
}

/**
 * The final summary's token sums: every billed attempt of every run on every lane, from the
 * inference log's totals (what `status` calls billed), read once at the end of a run. The batch
 * jobs' sums counted only the rows that completed a record: a batch run's summary left out the
 * billed rows that failed (invalid JSON, MAX_TOKENS, safety), which the API bills all the same.
 */
async function billedTokens(store: WorkloadStore): Promise<{ inputTokens: number; outputTokens: number }> {
  const totals = { inputTokens: 0, outputTokens: 0 };
  for (const group of await store.attemptGroups()) {
    totals.inputTokens += group.inputTokens;
    totals.outputTokens += group.outputTokens;
  }
  return totals;
}

/** The reasons `auto` gave per lane, for the run's totals (and so its report); nothing without any. */
function laneReasons(lanes: RunSummary['lanes']): Pick<RunTotals, 'laneReasons'> {
  const reasons: NonNullable<RunTotals['laneReasons']> = {};
  for (const [lane, figures] of Object.entries(lanes) as Array<[Lane, LaneFigures]>) {
    const counts = Object.entries(figures.reasons ?? {}).filter(([, count]) => (count ?? 0) > 0);
    if (counts.length > 0) reasons[lane] = Object.fromEntries(counts) as Record<string, number>;
  }
  return Object.keys(reasons).length > 0 ? { laneReasons: reasons } : {};
}
