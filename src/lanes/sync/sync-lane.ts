import { randomBytes } from 'node:crypto';
import { isMissingFileError } from '../../gemini/index.js';
import { keptAnswer, type KeptAnswer } from '../../lifecycle/kept-answer.js';
import { outputDocument, type Flight } from '../../lifecycle/index.js';
import { capText } from '../../results/capped-text.js';
import {
  classifyGroupResult,
  classifyResult,
  MAX_RAW_BYTES,
  type ResultOutcome,
  type Usage,
} from '../../results/index.js';
import type { RecordRequest } from '../../runner/record-request.js';
import type { ClaimedRecord } from '../../store/store.js';
import type { BilledRequest } from '../../telemetry/attempt-event.js';
import type { SyncLane } from '../lane.js';
import { billedRequestsOf, billedUsage, laneServing } from './billed-tries.js';
import { settleThroughBusyStore, type SettledOutcome } from './busy-settle.js';
import { failLocally } from './local-failure-filing.js';
import { longestCut } from './longest-cut.js';
import { buildRequest } from './request-build.js';
import { stopsTheRun } from '../../gemini/configuration-errors.js';
import type { BilledAttempt, ResentTry, SyncOutcome, UnansweredCall } from './sync-executor.js';
import { syncAttemptEvent } from './sync-attempt-event.js';
import type { Progress, Running, SyncLaneDeps } from './sync-lane-deps.js';
import { stopGraceMs, type InFlightStop } from './stop-grace.js';
import { describeError } from '../../errors.js';

export type { SyncLaneDeps } from './sync-lane-deps.js';

/** How long a lane rests after a request failed on the API's side through all its retries. */
export const LANE_REST_MS = 60_000;

/** What an applied answer's attempt event counts as billed for it (see applyAnswer). */
interface AnswerBill {
  usage: Usage | null;
  billedRequests?: readonly BilledRequest[];
  requests: number;
  startedAt?: number;
  finishedAt?: number;
}

/** How often a claim the store refused to release is given back, and how long apart (see giveBack). */
const RELEASE_TRIES = 10;
const RELEASE_RETRY_MS = 1_000;

/**
 * The synchronous lanes' driver: claims ready records through the record lifecycle, builds each
 * record's request with the batch lane's builder, sends it through the SyncExecutor (concurrency,
 * rate limits, retries, stop reasons) and settles the answer through the lifecycle after the same
 * classification and validation as a batch result. Requests run in the background; the run loop
 * starts them, wakes when one settles, and drains or abandons them at the end.
 *
 * Crash safety: a claim is written before anything is sent, so a record is in at most one live
 * request; a process killed mid-request leaves its claims, which the next start releases (the
 * record is sent again: an answer that was never applied may be billed twice, an applied one never,
 * as the output is durable before the record is done). Every billed try that is sent again is logged
 * before the next goes out, and a request cut at MAX_TOKENS resumes at the larger output limit, so a
 * kill costs at most the call in the air per request. An abandoned request is released, not failed;
 * an error that stops the run, or a graceful stop, lets the requests in flight finish their try first.
 */
export class SyncLaneDriver {
  private readonly running = new Map<string, Running>();
  private stop = new AbortController();
  /**
   * Aborted once the run is stopping (an error, or its signal): requests in flight finish the try in
   * the air and send no other, and no request is started.
   */
  private stopping = new AbortController();
  /** Woken whenever a request settles. */
  private waiters: Array<() => void> = [];
  private claims = 0;
  /** Unique per driver, so two processes (one after another's crash) never draw the same request ids. */
  private readonly claimPrefix = `sync-${randomBytes(4).toString('hex')}`;

  constructor(private readonly deps: SyncLaneDeps) {}

  /** The first error that no record can get past (see `stopsTheRun`); the run loop raises it. */
  private failure: unknown = undefined;

  /**
   * Throws the error that stopped the synchronous lanes (a wrong key, model or base URL), if any,
   * once the requests still in flight have settled: Google bills each call it answers whether or not
   * anyone waits for it, so each answer is applied and logged rather than abandoned (and its record
   * sent, and billed, again by the next run). No other try is sent meanwhile. `stop` (the run
   * interrupted) bounds the wait as it bounds any (see settleInFlight).
   */
  async throwIfStopped(stop?: InFlightStop): Promise<void> {
    if (this.failure === undefined) return;
    await this.settleInFlight(stop);
    throw this.failure;
  }

  /** No request is started and no try sent from now on; the tries in the air go on (a graceful stop). */
  stopSending(): void {
    this.stopping.abort(new Error('the run is stopping'));
  }

  /** The requests in the air and how long a graceful stop now waits for them (`graceMs`, or see stopGraceMs). */
  stopWait(graceMs?: number): { requests: number; graceMs: number } {
    const lanes = [...this.running.values()].map((entry) => entry.lane);
    return {
      requests: lanes.length,
      graceMs: stopGraceMs(lanes, (lane) => this.deps.executor.timeoutOf(lane), graceMs),
    };
  }

  /**
   * Waits until every request has settled. Once `stop.signal` aborts, nothing more is sent (no
   * request, no retry: a record waiting for one is released at once), and the tries in the air are
   * waited for at most the grace (`stop.graceMs`, see stopGraceMs) or until `stop.now` aborts: Google
   * bills each call it answers whether or not anyone waits, so an answer applied is one the next run
   * does not buy again. Those still unanswered then are abandoned and their records released.
   */
  async settleInFlight(stop: InFlightStop = {}): Promise<void> {
    const { signal, now } = stop;
    // This run's controller: abandon() puts a fresh one in place for the next run, which a grace
    // timer that ends late must not abort.
    const cut = this.stop;
    const settled = new AbortController();
    let grace: Promise<void> | undefined;
    const onStop = () => {
      this.stopSending();
      const ends = now ? AbortSignal.any([now, settled.signal]) : settled.signal;
      grace = this.deps.clock.sleep(this.stopWait(stop.graceMs).graceMs, ends).then(() => {
        if (!settled.signal.aborted) cut.abort(new Error('the run stopped'));
      });
    };
    if (signal?.aborted) onStop();
    else signal?.addEventListener('abort', onStop, { once: true });
    try {
      await this.drain();
    } finally {
      settled.abort();
      signal?.removeEventListener('abort', onStop);
      await grace;
    }
  }

  /** A lane whose API kept failing rests until then: nothing is sent on it before. */
  private readonly pausedUntil = new Map<SyncLane, number>();

  /**
   * Records given back because the API failed their request through every retry, until they are
   * claimed again: the run reports those still waiting as a failure (the API's, not the records').
   */
  private readonly givenBack = new Set<string>();

  /** The records whose last request the API failed through every retry, not sent again since. */
  unansweredRecordIds(): string[] {
    return [...this.givenBack];
  }

  /** Whether `lane` is resting after the API kept failing on it. */
  resting(lane: SyncLane): boolean {
    return (this.pausedUntil.get(lane) ?? Number.NEGATIVE_INFINITY) > this.deps.clock.now();
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Requests in flight on one lane. */
  inFlightOn(lane: SyncLane): number {
    let count = 0;
    for (const entry of this.running.values()) if (entry.lane === lane) count += 1;
    return count;
  }

  /** Estimated USD of the requests in flight (what the cost cap counts as committed). */
  get committedUsd(): number {
    let sum = 0;
    for (const entry of this.running.values()) sum += entry.estimatedUsd;
    return sum;
  }

  /**
   * Claims the still-ready records among `recordIds` for `lane` and starts their requests; returns
   * how many started. `estimatedUsd` prices each for the cost cap.
   */
  async send(
    lane: SyncLane,
    recordIds: readonly string[],
    estimatedUsd: (recordId: string) => number = () => 0,
  ): Promise<number> {
    if (recordIds.length === 0 || this.resting(lane)) return 0;
    if (this.stop.signal.aborted || this.stopping.signal.aborted) return 0;
    if (this.failure !== undefined) return 0;
    this.claims += 1;
    const claimed = await this.deps.lifecycle.claim(
      lane,
      recordIds.length,
      `${this.claimPrefix}-${this.claims}`,
      recordIds,
    );
    for (const record of claimed) {
      const estimate = estimatedUsd(record.id);
      const entry: Running = {
        lane,
        estimatedUsd: estimate,
        callUsd: estimate,
        done: Promise.resolve(),
        loggedTries: 0,
      };
      this.running.set(record.requestId, entry);
      entry.done = this.serve(record, entry).finally(() => {
        this.running.delete(record.requestId);
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
      });
    }
    return claimed.length;
  }

  /** Resolves when a request settles (at once when none is running), or when `signal` aborts. */
  settledOne(signal?: AbortSignal): Promise<void> {
    if (this.running.size === 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** Waits until every request has settled. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((entry) => entry.done));
    await this.deps.lifecycle.checkpoint();
  }

  /**
   * Stops every request: each is aborted and its record released to `ready` (nothing applied, so the
   * next run sends it again). Google may still bill an abandoned call.
   */
  async abandon(): Promise<void> {
    this.stop.abort(new Error('the run stopped'));
    await this.drain();
    // Ready for another run on the same runner.
    this.stop = new AbortController();
    this.stopping = new AbortController();
    this.failure = undefined;
  }

  /**
   * One record: build, send, classify, settle. Never throws: every way out settles or releases the
   * claim, or stops the run with it held (the next start releases it), as a valid answer a busy store
   * kept from settling past what the lease allows does (see settleAnswer).
   */
  private async serve(record: ClaimedRecord, entry: Running): Promise<void> {
    const { lifecycle } = this.deps;
    const flight: Flight = { lane: record.lane, requestId: record.requestId };
    this.givenBack.delete(record.id);
    // How far it got, for a failure of wavebatch's own (see failLocally).
    const progress: Progress = { stage: 'build' };
    try {
      const built = await buildRequest(this.deps, record, flight);
      if (!built) return;
      progress.built = built;
      progress.stage = 'send';
      const attempts = await this.deps.store.listEvents({ recordId: record.id, kind: 'attempt' });
      const kept = keptAnswer(attempts, this.deps.validator, {
        promptHash: built.promptHash,
        model: this.deps.settings.model,
      });
      if (kept) {
        progress.answer = kept;
        progress.stage = 'settle';
        await this.settleAnswer(record, flight, built, kept, { usage: null, requests: 0 });
        return;
      }
      const cutBefore = longestCut(attempts, built.promptHash);
      const started = this.deps.clock.now();
      const outcome = await this.deps.executor.execute({
        id: record.id,
        model: this.deps.settings.model,
        lane: record.lane,
        request: built.request,
        estimatedTokens: built.estimatedTokens,
        ...(cutBefore === undefined ? {} : { cutBefore }),
        signal: this.stop.signal,
        windDown: this.stopping.signal,
        mayResend: (cut, nextOutputLimit) => this.mayResend(entry, cut, nextOutputLimit),
        onResend: (tried) => this.logResent(record, flight, built, entry, tried),
        onUnanswered: (call) => this.logUnanswered(record, flight, built, call),
        ...(this.deps.timedOut ? { retryTimeouts: false } : {}),
        gaveUp: () => this.gaveUp(entry),
      });
      progress.outcome = outcome;
      progress.stage = 'settle';
      const stopped = !outcome.ok && (outcome.interrupted || this.stop.signal.aborted);
      if (!outcome.ok && outcome.unanswered > 0 && !stopped) this.deps.timedOut?.(record.id, record.lane);
      if (stopped) {
        // Given up as the run stopped: not the record's fault, so no attempt is counted; its billed
        // tries are logged before the record goes back, as Google bills them all the same.
        await this.logUnsettled(record, flight, built, entry, outcome);
        await lifecycle.release(record.id, record.requestId);
        return;
      }
      if (!outcome.ok && outcome.billed.length === 0 && isMissingFileError(outcome.error)) {
        // A file this record names is gone (Google's 403 "… or it may not exist"): this record's
        // problem, not the key's, so the run goes on. The attempt counts, and the retry uploads
        // the file again (max_retries bounds a file that keeps vanishing).
        this.deps.requests.forgetUploadedFiles(built);
        const message = `${outcome.message} The file is uploaded again when ${record.id} is retried.`;
        const failed = { ...outcome, message, retryable: true };
        await this.settle(record, flight, built, entry, failed, started, progress);
        return;
      }
      if (!outcome.ok && outcome.billed.length === 0 && stopsTheRun(outcome.error)) {
        // A wrong key, model or base URL, or no quota on the lane: every record would fail the same
        // way, so none is failed (that would dead-letter the workload); the run stops and says why.
        this.stopRun(outcome.error);
        await lifecycle.release(record.id, record.requestId);
        return;
      }
      if (
        !outcome.ok &&
        outcome.cause === 'api_error' &&
        outcome.retryable &&
        outcome.billed.length === 0 &&
        outcome.unanswered === 0
      ) {
        // The API itself failed (unreachable, 5xx, shed, 429) through every retry and billed nothing:
        // not the record's fault, so no attempt is counted (an outage must not dead-letter the
        // workload); the record goes back and the lane rests before it is sent again. An attempt
        // given up at the request timeout may have been billed: it counts, so max_retries bounds
        // what a request that never answers in time can cost (it would be sent again forever).
        await lifecycle.release(record.id, record.requestId);
        this.givenBack.add(record.id);
        this.pausedUntil.set(record.lane, this.deps.clock.now() + LANE_REST_MS);
        this.deps.emit({
          type: 'warning',
          message: `The ${record.lane} lane failed for ${record.id} through every retry (${outcome.message}); it is sent again in ${LANE_REST_MS / 1000} s or later.`,
        });
        return;
      }
      await this.settle(record, flight, built, entry, outcome, started, progress);
    } catch (error) {
      await failLocally(this.deps, record, flight, entry, progress, error, {
        giveBack: (given) => this.giveBack(given),
        stopRun: (failure) => this.stopRun(failure),
      });
    }
  }

  /** Stops the run with `error` (the first one wins): nothing more is sent, the requests in the air settle. */
  private stopRun(error: unknown): void {
    this.failure ??= error;
    this.stopping.abort(new Error('the run is stopping'));
  }

  /**
   * Releases a claim, trying again while the store refuses (locked past its busy timeout, as the
   * settle before it may have been): a release that failed once left the record in flight and `run`
   * waiting for it until stopped, the next start releasing it. A store that still refuses after
   * RELEASE_TRIES stops the run with its error (the next start releases the claim).
   */
  private async giveBack(record: ClaimedRecord): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        await this.deps.lifecycle.release(record.id, record.requestId);
        return;
      } catch (error) {
        const last = tries >= RELEASE_TRIES || this.stop.signal.aborted;
        this.deps.emit({
          type: 'warning',
          message: `${record.id} could not be given back to the queue: ${describeError(error)}; ${last ? 'the next start does' : 'tried again'}.`,
        });
        if (last) {
          this.stopRun(error);
          return;
        }
      }
      await this.deps.clock.sleep(RELEASE_RETRY_MS, this.stop.signal);
    }
  }

  private async settle(
    record: ClaimedRecord,
    flight: Flight,
    built: RecordRequest,
    entry: Running,
    outcome: SyncOutcome,
    started: number,
    progress: Progress,
  ): Promise<void> {
    const { lifecycle, clock } = this.deps;
    const finished = clock.now();
    // Every billed try not logged yet is in the attempt's cost and its requests (the tries sent again
    // were logged as they came back): status, runs and the report counted one where the API had
    // billed several, and one for an error the API did not bill (none now, as for a batch error row).
    const unlogged = outcome.billed.slice(entry.loggedTries);
    const billed = billedUsage(unlogged);
    const requests = unlogged.length;
    // An answer's time runs from when it was sent: waiting for the rate limiter's permit (a day's
    // quota used up is a day's wait) is the quota's, which the scheduler weighs apart, not the lane's
    // latency; the log's timings are what later runs learn latencies from.
    const timing = { startedAt: started + (outcome.ok ? outcome.queuedMs : 0), finishedAt: finished };
    if (outcome.ok) {
      this.deps.observeLatency?.(record.lane, finished - timing.startedAt);
      this.deps.observeUsage?.(built.estimatedTokens, outcome.usage.inputTokens);
    }
    const result = outcome.ok
      ? this.classify(record.id, outcome.response)
      : {
          ok: false as const,
          cause: outcome.cause,
          message: outcome.message,
          raw: outcome.response ? capText(JSON.stringify(outcome.response), MAX_RAW_BYTES) : null,
          retryable: outcome.retryable,
          finishReason: null,
        };
    if (!result.ok) {
      // A billed failure is kept and filed again while a busy store refuses it, as an answer is:
      // given back, its record was sent and billed again, past max_retries on its last attempt.
      const fail = () =>
        lifecycle
          .fail({
            recordId: record.id,
            flight,
            attempt: record.attempts,
            cause: result.cause,
            message: result.message,
            raw: result.raw,
            retryable: result.retryable,
            promptHash: built.promptHash,
            event: syncAttemptEvent(this.deps, record, flight, built, {
              usage: billed,
              billedRequests: billedRequestsOf(unlogged),
              requests,
              finishReason: result.finishReason ?? null,
              ...timing,
              failure: { cause: result.cause, message: result.message, raw: result.raw },
            }),
          })
          .then(() => undefined);
      await this.settleHeld(record, 'failure', fail);
      return;
    }
    // Bought: a failure to settle it from here on keeps it for the retry (see failLocally).
    progress.answer = {
      output: result.output,
      usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens },
      finishReason: result.finishReason,
    };
    await this.settleAnswer(record, flight, built, progress.answer, {
      usage: billed,
      billedRequests: billedRequestsOf(unlogged),
      requests,
      ...timing,
    });
  }

  /**
   * Settles a valid answer, again while a busy store refuses it (see settleThroughBusyStore), its
   * claim held meanwhile: given back, its record was sent and billed a second time. The run stopped
   * at once meanwhile gives the record back (its answer is lost, as with a kill); a store locked
   * past what the lease allows stops the run with STORE_BUSY, the claim left for the next start.
   */
  private async settleAnswer(
    record: ClaimedRecord,
    flight: Flight,
    built: RecordRequest,
    answer: KeptAnswer,
    billed: AnswerBill,
  ): Promise<void> {
    await this.settleHeld(record, 'answer', () => this.applyAnswer(record, flight, built, answer, billed));
  }

  /** Settles `outcome` through a busy store, its claim held (see settleThroughBusyStore). */
  private async settleHeld(
    record: ClaimedRecord,
    outcome: SettledOutcome,
    apply: () => Promise<void>,
  ): Promise<void> {
    const { clock, emit, lease } = this.deps;
    const settled = await settleThroughBusyStore(
      { clock, emit, ...(lease ? { lease } : {}) },
      record.id,
      apply,
      this.stop.signal,
      outcome,
    );
    if (settled.end === 'stopped') await this.giveBack(record);
    if (settled.end === 'stuck') this.stopRun(settled.error);
  }

  /**
   * Writes a valid answer's output and marks its record done; `billed` is what the attempt's event
   * counts (nothing for an answer kept from an earlier attempt: that one's failure counted it).
   */
  private async applyAnswer(
    record: ClaimedRecord,
    flight: Flight,
    built: RecordRequest,
    answer: KeptAnswer,
    billed: AnswerBill,
  ): Promise<void> {
    const { lifecycle, clock, settings } = this.deps;
    const { output, usage, finishReason } = answer;
    await lifecycle.succeed({
      recordId: record.id,
      flight,
      document: outputDocument({
        record,
        output,
        prompt: { ...settings.prompt, hash: built.promptHash },
        model: settings.model,
        sourceHash: built.sourceHash,
        flight,
        attempt: record.attempts,
        usage,
        completedAt: billed.finishedAt ?? clock.now(),
      }),
      usage,
      attempt: record.attempts,
      promptHash: built.promptHash,
      event: syncAttemptEvent(this.deps, record, flight, built, { ...billed, finishReason, output }),
    });
    // Answers trickle in one by one: each is settled now, so its successor can be sent at once.
    // Settled in another caller's group that a busy store refused, it is thrown here all the same.
    await lifecycle.flush(flight);
  }

  /**
   * A billed try that is sent again goes in the inference log now, as a failed attempt retried (the
   * record's attempt count is left alone): logged only when the settle came, a kill -9 in between
   * lost it from status, runs and the report while Google's bill had it. Never throws: a try that
   * could not be logged stays for the settle, which logs every try not logged yet.
   */
  private async logResent(
    record: ClaimedRecord,
    flight: Flight,
    built: RecordRequest,
    entry: Running,
    tried: ResentTry,
  ): Promise<void> {
    // Logged in order only, so the logged tries are always the first ones.
    if (tried.index !== entry.loggedTries) return;
    const failure = {
      cause: tried.cause,
      message: tried.message,
      raw: capText(JSON.stringify(tried.response), MAX_RAW_BYTES),
    };
    try {
      await this.deps.lifecycle.logBilledTry(
        record.id,
        flight,
        syncAttemptEvent(this.deps, record, flight, built, {
          usage: billedUsage([tried.billed]),
          billedRequests: billedRequestsOf([tried.billed]),
          requests: 1,
          finishReason: tried.finishReason,
          startedAt: tried.sentAt,
          finishedAt: tried.answeredAt,
          failure,
        }),
      );
      entry.loggedTries += 1;
    } catch (error) {
      this.deps.emit({
        type: 'warning',
        message: `A billed try of ${record.id} could not be logged yet (${describeError(error)}); it is logged when its request settles.`,
      });
    }
  }

  /**
   * A call with no answer (given up at its timeout, its answer cut off half-way) goes in the
   * inference log now, as an attempt retried of its own (the record's attempt count is left alone):
   * Google may bill it, and without it the log, status and the report counted fewer requests than
   * the bill. Its cost is unknown, not 0. Never throws: a call that could not be logged is warned of.
   */
  private async logUnanswered(
    record: ClaimedRecord,
    flight: Flight,
    built: RecordRequest,
    call: UnansweredCall,
  ): Promise<void> {
    try {
      await this.deps.lifecycle.logBilledTry(
        record.id,
        flight,
        syncAttemptEvent(this.deps, record, flight, built, {
          usage: null,
          costUnknown: true,
          requests: 1,
          finishReason: null,
          startedAt: call.sentAt,
          finishedAt: call.givenUpAt,
          failure: { cause: call.cause, message: call.message, raw: null },
        }),
      );
    } catch (error) {
      this.deps.emit({
        type: 'warning',
        message: `A call of ${record.id} with no answer could not be logged (${describeError(error)}); Google may bill it all the same.`,
      });
    }
  }

  /** Logs the billed tries of a request given up before it settled (the run stopped), as one failed attempt. */
  private async logUnsettled(
    record: ClaimedRecord,
    flight: Flight,
    built: RecordRequest,
    entry: Running,
    outcome: SyncOutcome,
  ): Promise<void> {
    const unlogged = outcome.billed.slice(entry.loggedTries);
    if (unlogged.length === 0 || outcome.ok) return;
    await this.deps.lifecycle.logBilledTry(
      record.id,
      flight,
      syncAttemptEvent(this.deps, record, flight, built, {
        usage: billedUsage(unlogged),
        billedRequests: billedRequestsOf(unlogged),
        requests: unlogged.length,
        finishReason: null,
        failure: {
          cause: outcome.cause,
          message: `The run stopped before the request for ${record.id} settled: ${outcome.message}`,
          raw: null,
        },
      }),
    );
    entry.loggedTries = outcome.billed.length;
  }

  /**
   * An answer cut at MAX_TOKENS is paid for: it counts as committed from now on (the cap saw only
   * the record's first estimate, so the run went on sending records while re-sends spent, 59% past
   * a cap). It is sent again, at twice its output, only while that stays within the cap.
   */
  private mayResend(entry: Running, cut: BilledAttempt, nextOutputLimit: number): boolean {
    const budget = this.deps.budget;
    if (!budget) return true;
    // At the tier that served it: a priority try that standard served is billed at standard's price.
    entry.estimatedUsd += budget.costOf(laneServing(cut) ?? entry.lane, cut);
    const next = budget.costOf(entry.lane, {
      ...cut,
      outputTokens: Math.min(nextOutputLimit, Math.max(1, cut.outputTokens) * 2),
      thoughtsTokens: 0,
    });
    return budget.mayCommit(next);
  }

  /**
   * A call given up at its timeout may be billed all the same (Google finishes what it started): the
   * cap counts its estimate as spent for the rest of the run (8 abandoned calls a record took a Flex
   * run 4 times past max_cost), and it is sent again only while the cap holds what is committed.
   */
  private gaveUp(entry: Running): boolean {
    const budget = this.deps.budget;
    if (!budget) return true;
    budget.abandoned(entry.callUsd);
    return budget.mayCommit(0);
  }

  /** The record's outcome; a grouped prompt's answer (a group of one here) is keyed by record id. */
  private classify(recordId: string, response: Record<string, unknown>): ResultOutcome {
    const { validator, requests } = this.deps;
    if (requests.recordsPerRequest <= 1) return classifyResult({ response }, validator);
    return classifyGroupResult({ response }, [recordId], validator)[0] as ResultOutcome;
  }
}
