import type { OutputSink } from '../outputs/index.js';
import type { OutputValidator } from '../results/index.js';
import type { HeldLease } from '../store/lease.js';
import { ACTIVE_JOB_STATES, type RecordCounts, type WorkloadStore } from '../store/store.js';
import type { WorkloadRecord } from '../workload/record.js';
import type { RunnerClock } from '../clock.js';
import type { RunOutcome, RunTotals } from '../store/event-log.js';
import { AttemptEventFactory } from '../telemetry/attempt-event.js';
import { RecordLifecycle } from '../lifecycle/index.js';
import type { StalenessDeps } from '../outputs/staleness.js';
import { redoStaleOutputs } from './stale-redo.js';
import { redactEvent, type RunnerEvent, type RunnerEventListener } from './events.js';
import { serviceActiveJobs } from '../lanes/batch/job-service.js';
import { InputFileSweep } from '../lanes/batch/input-file-sweep.js';
import { submitReadyRecords, type SubmissionDeps } from '../lanes/batch/job-submission.js';
import type { RecordRequestBuilder } from './record-request.js';
import { syncWorkload } from './workload-sync.js';
import type { RemoteApi } from './remote-api.js';
import { RemoteReconciler, type ReconcilerDeps } from '../lanes/batch/remote-reconciler.js';
import { SplitPlan } from '../lanes/batch/split-plan.js';
import { StallWatch } from '../lanes/batch/stall-policy.js';
import type { ResultProcessingDeps } from '../lanes/batch/result-processing.js';
import type { RunnerSettings } from './settings.js';
import type { TokenCalibration } from './token-calibration.js';
import { SyncLaneDriver } from '../lanes/sync/sync-lane.js';
import type { SyncExecutor } from '../lanes/sync/sync-executor.js';
import type { LaneLimiters } from '../lanes/sync/lane-limiters.js';
import type { InFlightStop } from '../lanes/sync/stop-grace.js';
import {
  batchRecordsAtOnce,
  costOf,
  GEMINI_PRICE_LIST,
  modelPrices,
  type PriceList,
} from '../pricing/index.js';
import {
  compareWithBatchOnly,
  LatencyTracker,
  type BatchOnlyComparison,
  type WorkAtStart,
} from '../scheduler/index.js';
import { LaneDispatch, type DispatchRound } from './lane-dispatch.js';
import { LaneTally, type LaneFigures } from './lane-tally.js';
import type { Lane, SyncLane } from '../lanes/lane.js';
import { EnqueuedTokenBudget } from '../planner/enqueued-token-budget.js';
import { usdFine } from '../quantities.js';
import { describeError } from '../gemini/errors.js';

/** How many requests countTokens sees at start-up to calibrate the local estimator. */
const CALIBRATION_SAMPLE = 3;

/**
 * Progress (records counted per status) is reported at most this often while the run goes on, and
 * always when it ends. The loop passes at every synchronous answer, and counting is a scan of the
 * records: at a million records it took 76 ms, so counting per answer made a Flex run quadratic.
 */
export const PROGRESS_INTERVAL_MS = 1_000;

/** Why the loop's wait ended early: a synchronous request settled. */
const WOKEN = Symbol('a synchronous request settled');

export interface BatchRunnerOptions {
  store: WorkloadStore;
  /** The API with retries and reachability watch (see RemoteApi). */
  api: RemoteApi;
  outputs: OutputSink;
  requests: RecordRequestBuilder;
  validator: OutputValidator;
  calibration: TokenCalibration;
  settings: RunnerSettings;
  clock: RunnerClock;
  /** `wb-<workload>-<store id>-`: the prefix of this store's job names. */
  jobPrefix: string;
  /** Streams the workload's records; read once per run to pick up new or changed inputs. */
  source: () => AsyncIterable<WorkloadRecord>;
  /**
   * The source's fingerprint (see workload/fingerprint.ts): when it matches the last full sync the
   * source is not read again. Absent or null: always synced in full.
   */
  sourceFingerprint?: () => string | null;
  /** The store's lease this process holds; renewed every pass, and the run stops if it was lost. */
  lease?: HeldLease;
  /** Uniform in [0, 1) for backoff jitter; default Math.random. */
  random?: () => number;
  onEvent?: RunnerEventListener;
  /** Builds each attempt's event for the inference log (prices from the workload's price list). */
  attempts?: AttemptEventFactory;
  /** Hash of the workload config, kept in the runs table. */
  configHash?: string;
  /** Set to queue again the done records whose outputs are stale, after each sync (`run --redo stale`). */
  redoStale?: StalenessDeps;
  /** The synchronous lanes (flex, standard, priority): the executor and its rate limiters. */
  sync: { executor: SyncExecutor; limiters: LaneLimiters };
  /** Prices and limits of the workload (the config's `pricing:` and `limits:` applied); the built-in list by default. */
  prices?: PriceList;
  /** What each lane's latency has been (seeded from earlier runs); a fresh prior-only tracker by default. */
  latency?: LatencyTracker;
}

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

/**
 * How a run stops once its signal aborts: nothing new is sent, and the synchronous requests in the
 * air are waited for and applied within a grace, as Google bills them whether or not anyone waits.
 */
export interface StopOptions {
  /**
   * How long the synchronous requests in the air are waited for once the signal aborts. Default:
   * the config's `execution.stop_grace`, else the longest request timeout among their lanes, at most
   * 60 s (STOP_GRACE_CAP_MS). 0 abandons them at once.
   */
  stopGraceMs?: number;
  /**
   * Aborted (before or during the grace): the wait ends at once, and the requests still in the air
   * are abandoned; Google may bill each, and the next run sends it again (billed a second time).
   */
  stopNow?: AbortSignal;
}

/** A run's figures before its end: its tokens and cost are read from the inference log when it ends. */
type RunProgress = Omit<RunSummary, 'inputTokens' | 'outputTokens' | 'costUsd' | 'outcome'>;

/**
 * The run loop: reconcile the remote side (intents, unwatched jobs), service active batch jobs (poll,
 * apply results, unlock successors), dispatch ready records into the lanes' free room (batch jobs,
 * synchronous requests; see LaneDispatch), repeat until nothing is in flight and nothing is runnable.
 * The loop wakes when a batch poll is due or a synchronous request settles, whichever is first.
 */
export class BatchRunner {
  private jobsSubmitted = 0;
  private orphansCancelled = 0;
  private runId: number | null = null;
  private readonly emit: RunnerEventListener;
  private readonly attempts: AttemptEventFactory;
  private readonly reconciler = new RemoteReconciler();
  private readonly inputFiles = new InputFileSweep();
  private readonly stalls: StallWatch;
  /** Settles every lane's outcomes: outputs written, records done, successors unlocked, or retried. */
  private readonly lifecycle: RecordLifecycle;
  /** Set once inline results came back without keys: every later job of this run is sent as a file. */
  private inlineUnmatched = false;
  /** The synchronous lanes' requests in flight. */
  private readonly sync: SyncLaneDriver;
  private readonly dispatch: LaneDispatch;
  /** When active batch jobs were last polled: a pass woken early by a synchronous answer does not poll them again. */
  private lastServiced = Number.NEGATIVE_INFINITY;
  private runStarted = 0;
  /** When progress was last reported (the clock's ms). */
  private lastProgress = Number.NEGATIVE_INFINITY;
  private readonly tally = new LaneTally();
  /** Batch jobs whose turnaround the latency tracker has seen (once per job, not once per record). */
  private readonly timedJobs = new Set<string>();
  private readonly latency: LatencyTracker;
  /** Records of stalled jobs cancelled under `stall_action: split`, until packed again. */
  private readonly splits = new SplitPlan();
  /** Learnt from the API's enqueued-token refusals over the run: what batch jobs are packed to. */
  private readonly tokenBudget: EnqueuedTokenBudget;
  /** What an `auto` run found to do, for its batch-only comparison. */
  private workAtStart: WorkAtStart | null = null;
  /** The price list every lane prices with (the built-in one unless the options give another). */
  private readonly prices: PriceList;

  constructor(private readonly options: BatchRunnerOptions) {
    const listener = options.onEvent;
    const prices = options.prices ?? GEMINI_PRICE_LIST;
    this.prices = prices;
    const latency = options.latency ?? new LatencyTracker();
    this.latency = latency;
    this.tokenBudget = new EnqueuedTokenBudget(options.settings.enqueuedTokenBudget);
    // Listeners print and export events: they only ever see redacted text.
    this.emit = (event: RunnerEvent) => {
      this.tally.observe(event);
      this.observeTurnaround(event, latency);
      listener?.(redactEvent(event));
    };
    this.attempts = options.attempts ?? new AttemptEventFactory({ now: () => options.clock.now() });
    this.stalls = new StallWatch(options.settings.stall);
    this.lifecycle = new RecordLifecycle({
      store: options.store,
      outputs: options.outputs,
      emit: this.emit,
      maxRetries: options.settings.maxRetries,
      prompt: options.settings.prompt,
    });
    this.sync = new SyncLaneDriver({
      lifecycle: this.lifecycle,
      requests: options.requests,
      executor: options.sync.executor,
      validator: options.validator,
      attempts: this.attempts,
      store: options.store,
      settings: options.settings,
      clock: options.clock,
      emit: this.emit,
      runId: () => this.runId,
      observeUsage: (estimated, actual) =>
        options.calibration.observe(estimated / options.calibration.scale(), actual),
      observeLatency: (lane, ms) => latency.observe(lane, ms),
      // `auto` has another lane for a record whose synchronous call timed out: no billed re-sends.
      ...(options.settings.execution.mode === 'auto'
        ? { timedOut: (recordId: string, lane: SyncLane) => this.dispatch.timedOut(recordId, lane) }
        : {}),
      budget: {
        costOf: (lane, usage) => costOf(prices, options.settings.model, lane, usage) ?? 0,
        mayCommit: (extraUsd) => this.dispatch.mayCommit(extraUsd),
        abandoned: (estimatedUsd) => this.dispatch.abandoned(estimatedUsd),
      },
    });
    this.dispatch = new LaneDispatch({
      store: options.store,
      requests: options.requests,
      sync: this.sync,
      limiters: options.sync.limiters,
      prices,
      settings: options.settings,
      latency,
      clock: options.clock,
      emit: this.emit,
      runId: () => this.runId,
      deadline: () => deadlineAt(options.settings.execution.deadline, this.runStarted),
      submitBatch: (records, moreReady) => submitReadyRecords(this.submissionDeps(), records, moreReady),
      batchTokenBudget: () => this.tokenBudget.current(options.clock.now()),
    });
  }

  /**
   * One pass (sync, reconcile, service, dispatch) and return: safe to call from cron. Synchronous
   * requests it sent are waited for (a claim cannot outlive its process), so their answers are
   * applied before it returns; the successors they unlock go in the next run-once. `signal` stops it
   * as it stops `run` (see StopOptions).
   */
  async runOnce(signal?: AbortSignal, options: StopOptions = {}): Promise<RunSummary> {
    this.options.api.stopOn(signal);
    return this.logged('run-once', async (started) => {
      if ((await this.prepare(signal)) === 'interrupted')
        return { summary: { ...(await this.summarize(started)), finished: false }, outcome: 'interrupted' };
      const stop = this.inFlightStop(signal, options);
      const stopSending = () => this.sync.stopSending();
      signal?.addEventListener('abort', stopSending, { once: true });
      try {
        await this.pass(signal, stop);
        await this.sync.settleInFlight(stop);
        await this.sync.throwIfStopped(stop);
      } finally {
        signal?.removeEventListener('abort', stopSending);
        await this.sync.abandon();
      }
      const summary = await this.summarize(started);
      if (signal?.aborted && !summary.finished) return { summary, outcome: 'interrupted' };
      return { summary, outcome: summary.finished ? 'finished' : 'incomplete' };
    });
  }

  /**
   * The synchronous requests in the air and how long a graceful stop now waits for them (with
   * `stopGraceMs` as `run` would be given it): for a message at the moment a stop is asked for.
   */
  stopWait(stopGraceMs?: number): { requests: number; graceMs: number } {
    return this.sync.stopWait(this.graceMs(stopGraceMs));
  }

  /** The sync lanes' view of a run's stop. */
  private inFlightStop(signal: AbortSignal | undefined, options: StopOptions): InFlightStop {
    return { signal, graceMs: this.graceMs(options.stopGraceMs), now: options.stopNow };
  }

  /** The grace a stop gives: the library's option wins over the config's `execution.stop_grace`. */
  private graceMs(stopGraceMs: number | undefined): number | undefined {
    return stopGraceMs ?? this.options.settings.execution.stopGraceMs;
  }

  /**
   * Loops until finished or `signal` aborts; an aborted run leaves everything resumable: it sends
   * nothing new, and applies the answers of the synchronous requests in the air within a grace (see
   * StopOptions). Throws ApiUnreachableError when the API gave no answer for `give_up_after`,
   * LeaseLostError when another process took the store over.
   */
  async run(signal?: AbortSignal, options: StopOptions = {}): Promise<RunSummary> {
    const { settings, api } = this.options;
    // Only the waits between retries end on the signal: a call in the air is not cut.
    api.stopOn(signal);
    return this.logged('run', async (started) => {
      this.lastProgress = Number.NEGATIVE_INFINITY;
      // Stopped in the sync, the store holds part of the source at most: nothing says it is finished.
      if ((await this.prepare(signal)) === 'interrupted')
        return { summary: { ...(await this.summarize(started)), finished: false }, outcome: 'interrupted' };
      const stop = this.inFlightStop(signal, options);
      // At once, not when the loop next looks: a dispatch round under way starts no request after it.
      const stopSending = () => this.sync.stopSending();
      signal?.addEventListener('abort', stopSending, { once: true });
      try {
        for (;;) {
          const { quotaRetryDelayMs, heldByCost, cheapestHeldUsd } = await this.pass(signal, stop);
          // Settled: nothing open and no job active (the records are then counted once, below).
          const activeJobs = (await this.options.store.listJobs(ACTIVE_JOB_STATES)).length;
          const settled = activeJobs === 0 && !(await this.options.store.hasOpenRecords());
          if (settled || this.options.clock.now() - this.lastProgress >= PROGRESS_INTERVAL_MS) {
            const summary = await this.summarize(started);
            this.lastProgress = this.options.clock.now();
            this.emit({ type: 'progress', counts: summary.counts, activeJobs: summary.activeJobs });
            if (summary.finished) return { summary, outcome: 'finished' };
          }
          if (signal?.aborted) {
            // The answers to the requests in the air are applied within the grace (Google bills them
            // whether or not anyone waits); those still unanswered then are abandoned and their
            // records released: the next run sends them.
            await this.sync.settleInFlight(stop);
            await this.sync.abandon();
            return { summary: await this.summarize(started), outcome: 'interrupted' };
          }
          if (heldByCost > 0 && this.sync.inFlight === 0 && activeJobs === 0) {
            this.emit({
              type: 'warning',
              message: costCapWarning(settings.execution.maxCostUsd, heldByCost, cheapestHeldUsd),
            });
            return { summary: await this.summarize(started), outcome: 'incomplete' };
          }
          await this.wait(Math.max(settings.pollIntervalMs, quotaRetryDelayMs ?? 0), signal);
        }
      } finally {
        signal?.removeEventListener('abort', stopSending);
        await this.sync.abandon();
      }
    });
  }

  /** A batch attempt's latency is its job's turnaround (create to end, as Google reported them): learnt once per job. */
  private observeTurnaround(event: RunnerEvent, latency: LatencyTracker): void {
    if (event.type !== 'record-done' && event.type !== 'record-failed') return;
    const attempt = event.event;
    if (attempt?.lane !== 'batch' || !attempt.jobId || attempt.latencyMs === null) return;
    if (this.timedJobs.has(attempt.jobId)) return;
    this.timedJobs.add(attempt.jobId);
    latency.observe('batch', attempt.latencyMs);
  }

  /** Sleeps until the next batch poll, or until a synchronous request settles (its successor may be ready). */
  private async wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.sync.inFlight === 0) return this.options.clock.sleep(ms, signal);
    const woken = new AbortController();
    const stops = signal ? AbortSignal.any([signal, woken.signal]) : woken.signal;
    // A reason given: no AbortError (and its stack) is built at every answer.
    const settled = this.sync.settledOne(stops).then(() => woken.abort(WOKEN));
    await this.options.clock.sleep(ms, stops);
    woken.abort(WOKEN);
    await settled;
  }

  /** Runs `work` as one row of the runs table: started, then finished with its outcome and totals. */
  private async logged(
    mode: string,
    work: (started: number) => Promise<{ summary: RunProgress; outcome: Exclude<RunOutcome, 'failed'> }>,
  ): Promise<RunSummary> {
    const { clock, store } = this.options;
    const started = clock.now();
    this.runStarted = started;
    const runId = await store.startRun(mode, this.options.configHash ?? null);
    this.runId = runId;
    this.jobsSubmitted = 0;
    this.orphansCancelled = 0;
    this.tally.reset();
    this.emit({ type: 'run-started', runId, mode, at: started });
    let result: { summary: RunProgress; outcome: Exclude<RunOutcome, 'failed'> };
    try {
      result = await work(started);
    } catch (error) {
      // A run that threw is still on record, with what it did before and why it stopped.
      const message = error instanceof Error ? error.message : String(error);
      await this.finish(runId, mode, 'failed', await this.summarize(started), message).catch(() => undefined);
      throw error;
    }
    const totals = await this.finish(runId, mode, result.outcome, result.summary, null);
    return { ...totals, outcome: result.outcome };
  }

  private async finish(
    runId: number,
    mode: string,
    outcome: RunOutcome,
    summary: RunProgress,
    error: string | null,
  ): Promise<Omit<RunSummary, 'outcome'>> {
    const { store, clock } = this.options;
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
    this.emit({ type: 'run-finished', runId, mode, outcome, at: clock.now(), counts: summary.counts, error });
    const priced = modelPrices(this.prices, this.options.settings.model) !== null;
    return {
      ...summary,
      ...(await this.billedTokens()),
      costUsd: priced ? usage.costUsd : null,
    };
  }

  /**
   * The final summary's token sums: every billed attempt of every run on every lane, from the
   * inference log's totals (what `status` calls billed), read once at the end of a run. The batch
   * jobs' sums counted only the rows that completed a record: a batch run's summary left out the
   * billed rows that failed (invalid JSON, MAX_TOKENS, safety), which the API bills all the same.
   */
  private async billedTokens(): Promise<{ inputTokens: number; outputTokens: number }> {
    const totals = { inputTokens: 0, outputTokens: 0 };
    for (const group of await this.options.store.attemptGroups()) {
      totals.inputTokens += group.inputTokens;
      totals.outputTokens += group.outputTokens;
    }
    return totals;
  }

  /** Syncs and readies the run; 'interrupted' when `signal` aborted the sync (nothing more was done). */
  private async prepare(signal?: AbortSignal): Promise<'ready' | 'interrupted'> {
    const { store, outputs, source } = this.options;
    const fingerprint = this.options.sourceFingerprint?.() ?? null;
    if ((await syncWorkload(store, outputs, source, fingerprint, this.emit, signal)) === 'interrupted')
      return 'interrupted';
    if (this.options.redoStale)
      await redoStaleOutputs({
        ...this.options.redoStale,
        store,
        runId: this.runId,
        now: () => this.options.clock.now(),
        emit: this.emit,
      });
    await this.calibrateTokens();
    this.workAtStart = null;
    if (this.options.settings.execution.mode === 'auto') {
      const counts = await store.counts();
      this.workAtStart = {
        records: counts.ready + counts.blocked + counts.in_flight,
        deepestChain: await store.longestRunnableChain(),
      };
    }
    return 'ready';
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
    const { settings } = this.options;
    // The waves `estimate` projects: the tier-capped budget and jobs (settings hold them capped).
    return compareWithBatchOnly(
      this.workAtStart,
      batchRecordsAtOnce(settings, settings, {
        inputTokens: this.tally.inputTokensPerRecord(),
        bytes: this.options.requests.meanRecordBytes,
      }),
      this.latency.estimate('batch'),
      this.latency.evidence('batch'),
      elapsedMs,
    );
  }

  /** Asks countTokens about a few ready requests, so the first jobs are planned with real numbers. */
  private async calibrateTokens(): Promise<void> {
    const { store, requests, api, settings, calibration } = this.options;
    for (const record of await store.listReady(CALIBRATION_SAMPLE)) {
      try {
        const built = await requests.build(record);
        const counted = await api.countTokens(settings.model, built.request, { once: true });
        calibration.observe(built.estimatedTokens / calibration.scale(), counted);
      } catch (error) {
        this.emit({
          type: 'warning',
          message: `Token calibration skipped: ${describeError(error)}`,
        });
        return;
      }
    }
  }

  /**
   * One step of the loop: stored intents reconciled, active jobs serviced, a dispatch round. Once
   * `signal` aborted nothing new is sent (no intent created, no round): a run stopped before or
   * during a pass still created and paid for the round's jobs. Results already paid for are applied.
   */
  private async pass(
    signal?: AbortSignal,
    stop?: InFlightStop,
  ): Promise<{ quotaRetryDelayMs: number | null; heldByCost: number; cheapestHeldUsd?: number }> {
    const { clock, settings } = this.options;
    await this.options.lease?.renew();
    const reconciled = signal?.aborted
      ? { orphansCancelled: 0, quotaRetryDelayMs: null }
      : await this.reconciler.reconcile(this.reconcilerDeps());
    this.orphansCancelled += reconciled.orphansCancelled;
    // A tenth of slack: a clock's sleep may end a hair before its interval.
    if (clock.now() - this.lastServiced >= settings.pollIntervalMs * 0.9) {
      this.lastServiced = clock.now();
      await serviceActiveJobs(this.processingDeps());
    }
    // The records of jobs cancelled for a stall: split into smaller jobs, or hedged in `auto`.
    for (const { jobId, recordIds } of this.stalls.takeCancelled()) {
      if (settings.stall.action === 'split') this.splits.add(jobId, recordIds);
      else this.dispatch.hedge(recordIds);
    }
    const round: DispatchRound = signal?.aborted
      ? { submitted: 0, quotaRetryDelayMs: null, deferred: [], heldByCost: 0 }
      : await this.dispatch.round();
    for (const { jobId, error } of round.deferred) this.reconciler.defer(this.reconcilerDeps(), jobId, error);
    this.jobsSubmitted += round.submitted;
    // Last, so the inputs of jobs refused, split or settled in this pass go before the run can end.
    const { store, api, random } = this.options;
    await this.inputFiles.sweep({ store, api, emit: this.emit, clock, ...(random ? { random } : {}) });
    this.options.api.checkReachable();
    await this.sync.throwIfStopped(stop);
    const waits = [reconciled.quotaRetryDelayMs, round.quotaRetryDelayMs].filter((ms) => ms !== null);
    return {
      quotaRetryDelayMs: waits.length > 0 ? Math.max(...waits) : null,
      heldByCost: round.heldByCost,
      ...(round.cheapestHeldUsd !== undefined ? { cheapestHeldUsd: round.cheapestHeldUsd } : {}),
    };
  }

  /**
   * The run's figures so far, for progress and for `finish`, which adds the token sums and cost from
   * the inference log's totals (the only figures of them a summary reports).
   */
  private async summarize(started: number): Promise<RunProgress> {
    const { store, clock } = this.options;
    const counts = await store.counts();
    // The jobs not settled only: every job ever made was listed at each progress report (once a second).
    const jobs = await store.listJobs(ACTIVE_JOB_STATES);
    const unconfirmedJobs = jobs.filter((job) => job.state === 'intent').length;
    const activeJobs = jobs.length - unconfirmedJobs;
    const finished = jobs.length === 0 && counts.ready === 0 && counts.in_flight === 0;
    const elapsedMs = clock.now() - started;
    const lanes = this.tally.snapshot();
    let unansweredRequests = 0;
    for (const id of this.sync.unansweredRecordIds()) {
      // Sent on another lane since (auto) and settled, or in a job now: not unanswered any more.
      if ((await store.getRecord(id))?.status === 'ready') unansweredRequests += 1;
    }
    return {
      runId: this.runId ?? 0,
      counts,
      jobsSubmitted: this.jobsSubmitted,
      activeJobs,
      unconfirmedJobs,
      unansweredRequests,
      elapsedMs,
      orphansCancelled: this.orphansCancelled,
      stalledJobs: this.stalls.stalledCount(),
      finished,
      lanes,
      batchOnly: this.batchOnly(finished, elapsedMs, lanes),
    };
  }

  private submissionDeps(): SubmissionDeps {
    const { store, api, requests, settings, clock, jobPrefix, random } = this.options;
    return {
      store,
      api,
      requests,
      settings: this.inlineUnmatched ? { ...settings, inlineMaxBytes: 0 } : settings,
      clock,
      jobPrefix,
      splits: this.splits,
      tokenBudget: this.tokenBudget,
      emit: this.emit,
      runId: this.runId,
      ...(random ? { random } : {}),
    };
  }

  private reconcilerDeps(): ReconcilerDeps {
    return { ...this.submissionDeps(), scanIntervalMs: this.options.settings.remoteScanIntervalMs };
  }

  private processingDeps(): ResultProcessingDeps {
    const { store, api, validator, settings, clock, calibration } = this.options;
    return {
      store,
      api,
      lifecycle: this.lifecycle,
      validator,
      settings,
      emit: this.emit,
      now: () => clock.now(),
      // Estimates were stored already scaled; undo the current scale to learn from raw numbers.
      observeUsage: (estimated, actual) => calibration.observe(estimated / calibration.scale(), actual),
      attempts: this.attempts,
      runId: this.runId,
      stalls: this.stalls,
      onUnmatchedInline: () => {
        this.inlineUnmatched = true;
      },
    };
  }
}

/** The deadline as epoch ms: a duration counts from the run's start. */
function deadlineAt(deadline: RunnerSettings['execution']['deadline'], runStarted: number): number | null {
  if (deadline === null) return null;
  return 'at' in deadline ? deadline.at : runStarted + deadline.afterMs;
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

/**
 * Why a run stopped with records held by max_cost. The cap is per run: "raise max_cost" read as a
 * cap on the workload's total, which another run (or a cron'd run-once) would spend again from zero.
 * But a record that alone costs more than the cap is held by every run: running again only repeats
 * this, so then the way on is a higher cap.
 */
function costCapWarning(
  maxCostUsd: number | null,
  held: number,
  cheapestHeldUsd: number | undefined,
): string {
  if (maxCostUsd !== null && cheapestHeldUsd !== undefined && cheapestHeldUsd > maxCostUsd)
    return `execution.max_cost ($${maxCostUsd}) is below what a single record costs: ${held} ready records are held and not sent, the cheapest estimated at ${usdFine(cheapestHeldUsd)}. No run can send them at this cap: raise execution.max_cost above ${usdFine(cheapestHeldUsd)}.`;
  return `execution.max_cost ($${maxCostUsd}) is reached in this run: ${held} ready records are held and not sent. Each run may send up to max_cost: run again to send up to $${maxCostUsd} more.`;
}
