import { ACTIVE_JOB_STATES, type WorkloadStore } from '../store/store.js';
import type { RunnerClock } from '../clock.js';
import { batchRecordsAtOnce } from '../pricing/index.js';
import {
  compareWithBatchOnly,
  type BatchOnlyComparison,
  type LatencyTracker,
  type WorkAtStart,
} from '../scheduler/index.js';
import type { SyncLaneDriver } from '../lanes/sync/sync-lane.js';
import type { StallWatch } from '../lanes/batch/stall-policy.js';
import type { RecordRequestBuilder } from './record-request.js';
import type { RunnerSettings } from './settings.js';
import { LaneTally } from './lane-tally.js';
import type { RunProgress, RunSummary } from './run-summary.js';

/** Where a run's figures are read from besides its own counts. */
export interface RunFiguresDeps {
  store: WorkloadStore;
  clock: RunnerClock;
  settings: RunnerSettings;
  /** The mean request size of a record, for the batch jobs a batch-only run would have packed. */
  requests: Pick<RecordRequestBuilder, 'meanRecordBytes'>;
  latency: LatencyTracker;
  /** The records whose synchronous request the API failed through every retry. */
  sync: Pick<SyncLaneDriver, 'unansweredRecordIds'>;
  stalls: Pick<StallWatch, 'stalledCount'>;
}

/**
 * A run's figures as it goes: what it submitted and cancelled, what each lane did, and what an
 * `auto` run found to do at its start; read with the store's counts into a RunProgress.
 */
export class RunFigures {
  /** Batch jobs this run created. */
  jobsSubmitted = 0;
  /** Remote jobs of this store that nothing watched, cancelled by this run. */
  orphansCancelled = 0;
  /** Records done, attempts and USD per lane, from the settled attempts the runner reports. */
  readonly tally = new LaneTally();
  /** What an `auto` run found to do, for its batch-only comparison; null in the fixed modes. */
  workAtStart: WorkAtStart | null = null;

  constructor(private readonly deps: RunFiguresDeps) {}

  /** Starts a new run's counts (what it found to do is set by its preparation). */
  reset(): void {
    this.jobsSubmitted = 0;
    this.orphansCancelled = 0;
    this.tally.reset();
  }

  /**
   * The run's figures so far, for progress and for its row in the runs table, which adds the token
   * sums and cost from the inference log's totals (the only figures of them a summary reports).
   */
  async progress(runId: number | null, started: number): Promise<RunProgress> {
    const { store, clock, sync, stalls } = this.deps;
    const counts = await store.counts();
    // The jobs not settled only: every job ever made was listed at each progress report (once a second).
    const jobs = await store.listJobs(ACTIVE_JOB_STATES);
    const unconfirmedJobs = jobs.filter((job) => job.state === 'intent').length;
    const activeJobs = jobs.length - unconfirmedJobs;
    const finished = jobs.length === 0 && counts.ready === 0 && counts.in_flight === 0;
    const elapsedMs = clock.now() - started;
    const lanes = this.tally.snapshot();
    let unansweredRequests = 0;
    for (const id of sync.unansweredRecordIds()) {
      // Sent on another lane since (auto) and settled, or in a job now: not unanswered any more.
      if ((await store.getRecord(id))?.status === 'ready') unansweredRequests += 1;
    }
    return {
      runId: runId ?? 0,
      counts,
      jobsSubmitted: this.jobsSubmitted,
      activeJobs,
      unconfirmedJobs,
      unansweredRequests,
      elapsedMs,
      orphansCancelled: this.orphansCancelled,
      stalledJobs: stalls.stalledCount(),
      finished,
      lanes,
      batchOnly: this.batchOnly(finished, elapsedMs, lanes),
    };
  }

  /** Batch-only against what this run took, when an `auto` run finished with a synchronous lane's help. */
  private batchOnly(
    finished: boolean,
    elapsedMs: number,
    lanes: RunSummary['lanes'],
  ): BatchOnlyComparison | null {
    if (!finished || !this.workAtStart) return null;
    const synchronous = Object.entries(lanes).some(([lane, figures]) => lane !== 'batch' && figures.done > 0);
    if (!synchronous) return null;
    const { settings, latency } = this.deps;
    // The waves `estimate` projects: the tier-capped budget and jobs (settings hold them capped).
    return compareWithBatchOnly(
      this.workAtStart,
      batchRecordsAtOnce(settings, settings, {
        inputTokens: this.tally.inputTokensPerRecord(),
        bytes: this.deps.requests.meanRecordBytes,
      }),
      latency.estimate('batch'),
      latency.evidence('batch'),
      elapsedMs,
    );
  }
}
