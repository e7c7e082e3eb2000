import type { OutputSink } from '../outputs/index.js';
import type { OutputValidator } from '../results/index.js';
import type { HeldLease } from '../store/lease.js';
import { ACTIVE_JOB_STATES, type WorkloadStore } from '../store/store.js';
import type { WorkloadRecord } from '../workload/record.js';
import type { RunnerClock } from '../clock.js';
import { AttemptEventFactory } from '../telemetry/attempt-event.js';
import { RecordLifecycle } from '../lifecycle/index.js';
import type { StalenessDeps } from '../outputs/staleness.js';
import { redactEvent, type RunnerEvent, type RunnerEventListener } from './events.js';
import { serviceActiveJobs } from '../lanes/batch/job-service.js';
import { applyKeptBatchAnswers, type KeptBatchAnswerDeps } from '../lanes/batch/kept-batch-answer.js';
import { InputFileSweep } from '../lanes/batch/input-file-sweep.js';
import { submitReadyRecords, type SubmissionDeps } from '../lanes/batch/job-submission.js';
import type { RecordRequestBuilder } from './record-request.js';
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
import { costOf, GEMINI_PRICE_LIST, modelPrices, type PriceList } from '../pricing/index.js';
import { LatencyTracker } from '../scheduler/index.js';
import { LaneDispatch, type DispatchRound } from './lane-dispatch.js';
import type { SyncLane } from '../lanes/lane.js';
import { EnqueuedTokenBudget } from '../planner/enqueued-token-budget.js';
import { costCapWarning } from './cost-cap-warning.js';
import { RunFigures } from './run-figures.js';
import { prepareRun } from './run-preparation.js';
import { recordRun, type RunEnding } from './run-record.js';
import type { RunProgress, RunSummary } from './run-summary.js';
import { LEASE_RETRY_MS, putOffBusyPass, renewForPass } from './lease-renewal.js';

/**
 * Progress (records counted per status) is reported at most this often while the run goes on, and
 * always when it ends. The loop passes at every synchronous answer, and counting is a scan of the
 * records: at a million records it took 76 ms, so counting per answer made a Flex run quadratic.
 */
export const PROGRESS_INTERVAL_MS = 1_000;

/** Why the loop's wait ended early: a synchronous request settled. */
const WOKEN = Symbol('a synchronous request settled');

/** What a pass leaves the loop: how long to wait, what the cost cap held, and whether it was put off. */
interface PassOutcome {
  quotaRetryDelayMs: number | null;
  heldByCost: number;
  cheapestHeldUsd?: number;
  /** A busy store put the pass off (see renewForPass, putOffBusyPass): tried again in LEASE_RETRY_MS. */
  putOff?: boolean;
}

const PUT_OFF: PassOutcome = { quotaRetryDelayMs: null, heldByCost: 0, putOff: true };

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

/**
 * The run loop: reconcile the remote side (intents, unwatched jobs), service active batch jobs (poll,
 * apply results, unlock successors), dispatch ready records into the lanes' free room (batch jobs,
 * synchronous requests; see LaneDispatch), repeat until nothing is in flight and nothing is runnable.
 * The loop wakes when a batch poll is due or a synchronous request settles, whichever is first.
 */
export class BatchRunner {
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
  /** What the run has done so far, for its progress and summary. */
  private readonly figures: RunFigures;
  /** Batch jobs whose turnaround the latency tracker has seen (once per job, not once per record). */
  private readonly timedJobs = new Set<string>();
  /** Records of stalled jobs cancelled under `stall_action: split`, until packed again. */
  private readonly splits = new SplitPlan();
  /** Learnt from the API's enqueued-token refusals over the run: what batch jobs are packed to. */
  private readonly tokenBudget: EnqueuedTokenBudget;
  /** False when the price list has no price for the model: a summary's cost is then unknown, not 0. */
  private readonly priced: boolean;

  constructor(private readonly options: BatchRunnerOptions) {
    const listener = options.onEvent;
    // The price list every lane prices with (the built-in one unless the options give another).
    const prices = options.prices ?? GEMINI_PRICE_LIST;
    this.priced = modelPrices(prices, options.settings.model) !== null;
    const latency = options.latency ?? new LatencyTracker();
    this.tokenBudget = new EnqueuedTokenBudget(options.settings.enqueuedTokenBudget);
    // Listeners print and export events: they only ever see redacted text.
    this.emit = (event: RunnerEvent) => {
      this.figures.tally.observe(event);
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
      ...(options.lease ? { lease: options.lease } : {}),
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
    this.figures = new RunFigures({ ...options, latency, sync: this.sync, stalls: this.stalls });
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
          const { quotaRetryDelayMs, heldByCost, cheapestHeldUsd, putOff } = await this.pass(signal, stop);
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
          await this.wait(
            putOff ? LEASE_RETRY_MS : Math.max(settings.pollIntervalMs, quotaRetryDelayMs ?? 0),
            signal,
          );
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

  /** Runs `work` as one row of the runs table (see recordRun), the run's figures counted afresh. */
  private logged(mode: string, work: (started: number) => Promise<RunEnding>): Promise<RunSummary> {
    const { store, clock, configHash } = this.options;
    const deps = { store, clock, emit: this.emit, configHash: configHash ?? null, priced: this.priced };
    return recordRun(deps, mode, {
      begin: (runId, started) => {
        this.runStarted = started;
        this.runId = runId;
        this.figures.reset();
      },
      progress: (started) => this.summarize(started),
      work,
    });
  }

  /** Syncs and readies the run; 'interrupted' when `signal` aborted the sync (nothing more was done). */
  private async prepare(signal?: AbortSignal): Promise<'ready' | 'interrupted'> {
    const prepared = await prepareRun({ ...this.options, emit: this.emit, runId: this.runId }, signal);
    if (prepared === 'interrupted') return 'interrupted';
    this.figures.workAtStart = prepared.workAtStart;
    return 'ready';
  }

  /** The run's figures so far (see RunFigures.progress). */
  private summarize(started: number): Promise<RunProgress> {
    return this.figures.progress(this.runId, started);
  }

  /**
   * One step of the loop: stored intents reconciled, active jobs serviced, a dispatch round. Once
   * `signal` aborted nothing new is sent (no intent created, no round): a run stopped before or
   * during a pass still created and paid for the round's jobs. Results already paid for are applied.
   */
  private async pass(signal?: AbortSignal, stop?: InFlightStop): Promise<PassOutcome> {
    const { lease } = this.options;
    // A busy store puts the pass off while the lease holds: see renewForPass and putOffBusyPass.
    if (lease && (await this.renewOrStop(lease, stop)) === 'put-off') return PUT_OFF;
    let done: PassOutcome;
    try {
      done = await this.passWrites(signal);
    } catch (error) {
      putOffBusyPass(error, lease, this.emit);
      return PUT_OFF;
    }
    // Outside the put-off: a synchronous request that stopped the run (a busy store past its tries
    // included) stops it.
    await this.sync.throwIfStopped(stop);
    return done;
  }

  /**
   * Renews the lease for a pass (see renewForPass). A renewal that stops the run gives way to a
   * request that stopped it already: a busy store that kept an answer from settling past what the
   * lease allows (see settleThroughBusyStore) says which record, where the renewal's error did not.
   */
  private async renewOrStop(lease: HeldLease, stop?: InFlightStop): Promise<'renewed' | 'put-off'> {
    try {
      return await renewForPass(lease, this.options.clock, this.emit);
    } catch (error) {
      await this.sync.throwIfStopped(stop);
      throw error;
    }
  }

  /** The pass's work past the renewal: reconcile, service, dispatch round, input sweep. */
  private async passWrites(signal?: AbortSignal): Promise<PassOutcome> {
    const { clock, settings } = this.options;
    const reconciled = signal?.aborted
      ? { orphansCancelled: 0, quotaRetryDelayMs: null }
      : await this.reconciler.reconcile(this.reconcilerDeps());
    this.figures.orphansCancelled += reconciled.orphansCancelled;
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
    this.figures.jobsSubmitted += round.submitted;
    // Last, so the inputs of jobs refused, split or settled in this pass go before the run can end.
    const { store, api, random } = this.options;
    await this.inputFiles.sweep({ store, api, emit: this.emit, clock, ...(random ? { random } : {}) });
    this.options.api.checkReachable();
    const waits = [reconciled.quotaRetryDelayMs, round.quotaRetryDelayMs].filter((ms) => ms !== null);
    return {
      quotaRetryDelayMs: waits.length > 0 ? Math.max(...waits) : null,
      heldByCost: round.heldByCost,
      ...(round.cheapestHeldUsd !== undefined ? { cheapestHeldUsd: round.cheapestHeldUsd } : {}),
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
      // Applied as their synchronous retry would apply them: a job would buy them again.
      keptAnswers: {
        validator: this.options.validator,
        apply: (lane, ids) => this.sync.send(lane, ids),
        applyBatch: (answers) => applyKeptBatchAnswers(this.keptBatchAnswerDeps(), answers),
      },
      ...(random ? { random } : {}),
    };
  }

  private keptBatchAnswerDeps(): KeptBatchAnswerDeps {
    const { requests, settings, clock } = this.options;
    const { lifecycle, attempts, runId } = this;
    return { requests, settings, lifecycle, attempts, runId, now: () => clock.now() };
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
