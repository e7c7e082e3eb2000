import type { OutputStore } from '../outputs/index.js';
import type { OutputValidator } from '../results/index.js';
import type { RecordCounts, WorkloadStore } from '../store/store.js';
import type { WorkloadRecord } from '../workload/record.js';
import type { BatchApi } from './batch-api.js';
import type { RunnerClock } from '../clock.js';
import { redactEvent, type RunnerEvent, type RunnerEventListener } from './events.js';
import { serviceActiveJobs } from './job-service.js';
import { submitReadyRecords, type SubmissionDeps } from './job-submission.js';
import type { RecordRequestBuilder } from './record-request.js';
import { recoverJobIntents, syncWorkload } from './recovery.js';
import type { ResultProcessingDeps } from './result-processing.js';
import type { RunnerSettings } from './settings.js';
import type { TokenCalibration } from './token-calibration.js';

/** How many requests countTokens sees at start-up to calibrate the local estimator. */
const CALIBRATION_SAMPLE = 3;

export interface BatchRunnerOptions {
  store: WorkloadStore;
  api: BatchApi;
  outputs: OutputStore;
  requests: RecordRequestBuilder;
  validator: OutputValidator;
  calibration: TokenCalibration;
  settings: RunnerSettings;
  clock: RunnerClock;
  /** Streams the workload's records; read once per run to pick up new or changed inputs. */
  source: () => AsyncIterable<WorkloadRecord>;
  onEvent?: RunnerEventListener;
}

/** What a run did, for the CLI summary and the runs table. */
export interface RunSummary {
  counts: RecordCounts;
  jobsSubmitted: number;
  activeJobs: number;
  inputTokens: number;
  outputTokens: number;
  elapsedMs: number;
  /** True when nothing is left to do (all done or dead-lettered, or blocked behind dead letters). */
  finished: boolean;
}

/**
 * The batch loop: service active jobs (poll, apply results, unlock successors), submit ready records
 * into free capacity, repeat until nothing is active and nothing is runnable.
 */
export class BatchRunner {
  private jobsSubmitted = 0;
  private readonly emit: RunnerEventListener;

  constructor(private readonly options: BatchRunnerOptions) {
    const listener = options.onEvent;
    // Listeners print and export events: they only ever see redacted text.
    this.emit = (event: RunnerEvent) => listener?.(redactEvent(event));
  }

  /** One pass (sync, recover, service, submit) and return: safe to call from cron. */
  async runOnce(): Promise<RunSummary> {
    const started = this.options.clock.now();
    const runId = await this.options.store.startRun('run-once');
    await this.prepare();
    await this.pass();
    const summary = await this.summarize(started);
    await this.options.store.finishRun(runId, summary);
    return summary;
  }

  /** Loops until finished or `signal` aborts; an aborted run leaves everything resumable. */
  async run(signal?: AbortSignal): Promise<RunSummary> {
    const { clock, settings, store } = this.options;
    const started = clock.now();
    const runId = await store.startRun('run');
    await this.prepare();
    for (;;) {
      const { quotaRetryDelayMs } = await this.pass();
      const summary = await this.summarize(started);
      this.emit({ type: 'progress', counts: summary.counts, activeJobs: summary.activeJobs });
      if (summary.finished || signal?.aborted) {
        await store.finishRun(runId, summary);
        return summary;
      }
      await clock.sleep(Math.max(settings.pollIntervalMs, quotaRetryDelayMs ?? 0), signal);
    }
  }

  private async prepare(): Promise<void> {
    const { store, outputs, source } = this.options;
    await syncWorkload(store, outputs, source(), this.emit);
    await recoverJobIntents(this.submissionDeps());
    await this.calibrateTokens();
  }

  /** Asks countTokens about a few ready requests, so the first jobs are planned with real numbers. */
  private async calibrateTokens(): Promise<void> {
    const { store, requests, api, settings, calibration } = this.options;
    for (const record of await store.listReady(CALIBRATION_SAMPLE)) {
      try {
        const built = await requests.build(record);
        const counted = await api.countTokens(settings.model, built.request);
        calibration.observe(built.estimatedTokens / calibration.scale(), counted);
      } catch (error) {
        this.emit({
          type: 'warning',
          message: `Token calibration skipped: ${error instanceof Error ? error.message : String(error)}`,
        });
        return;
      }
    }
  }

  private async pass(): Promise<{ quotaRetryDelayMs: number | null }> {
    await serviceActiveJobs(this.processingDeps());
    const round = await submitReadyRecords(this.submissionDeps());
    this.jobsSubmitted += round.submitted;
    return { quotaRetryDelayMs: round.quotaRetryDelayMs };
  }

  private async summarize(started: number): Promise<RunSummary> {
    const { store, clock } = this.options;
    const counts = await store.counts();
    const jobs = await store.listJobs();
    const activeJobs = jobs.filter((job) =>
      ['intent', 'pending', 'running', 'succeeded'].includes(job.state),
    ).length;
    return {
      counts,
      jobsSubmitted: this.jobsSubmitted,
      activeJobs,
      inputTokens: jobs.reduce((sum, job) => sum + job.inputTokens, 0),
      outputTokens: jobs.reduce((sum, job) => sum + job.outputTokens, 0),
      elapsedMs: clock.now() - started,
      finished: activeJobs === 0 && counts.ready === 0 && counts.in_flight === 0,
    };
  }

  private submissionDeps(): SubmissionDeps {
    const { store, api, requests, settings } = this.options;
    return { store, api, requests, settings, emit: this.emit };
  }

  private processingDeps(): ResultProcessingDeps {
    const { store, api, outputs, validator, settings, clock, calibration } = this.options;
    return {
      store,
      api,
      outputs,
      validator,
      settings,
      emit: this.emit,
      now: () => clock.now(),
      // Estimates were stored already scaled; undo the current scale to learn from raw numbers.
      observeUsage: (estimated, actual) => calibration.observe(estimated / calibration.scale(), actual),
    };
  }
}
