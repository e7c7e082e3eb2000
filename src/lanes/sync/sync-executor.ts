import type { RunnerClock } from '../../clock.js';
import { describeError, WavebatchError } from '../../errors.js';
import {
  GeminiApiError,
  inputTokensPerMinuteLimitOf,
  type GeminiClient,
  type ModelRequest,
} from '../../gemini/index.js';
import type { FailureCause, Usage } from '../../results/classification.js';
import { responseFacts, usageOf } from '../../results/response.js';
import { isRetryable, serverRetryWaitMs, withRetry, type RetryPolicy } from '../../retry.js';
import type { UnansweredCause } from '../../telemetry/unanswered-calls.js';
import type { SyncLane } from '../lane.js';
import type { LaneLimiters } from './lane-limiters.js';
import type { Permit, RateLimiter } from './rate-limiter.js';
import { Slots } from './slots.js';
import { stopVerdict, type StopVerdict } from './stop-reason.js';

/** One record's request on a synchronous lane. */
export interface SyncRequest {
  /** The record id, for messages. */
  id: string;
  model: string;
  lane: SyncLane;
  request: ModelRequest;
  /** Input tokens expected (the local estimate), for the TPM limit until the API reports them. */
  estimatedTokens: number;
  /**
   * Output tokens of the longest answer to this request cut at MAX_TOKENS before (in a request lost
   * to a crash, or held by the cost cap): the first try goes out with the limit that answer would
   * have been sent again with, so a resumed request does not buy the same cut answer again (only a
   * limit the request sets is raised).
   */
  cutBefore?: number;
  /**
   * Aborts everything, the call in the air too (the run stopped at once, or its grace ran out): the
   * outcome is then `interrupted`.
   */
  signal?: AbortSignal;
  /**
   * Aborted when the run is stopping (for an error, or asked to): the try in the air is waited for (Google bills
   * it all the same, so its answer is worth having), no other is sent (no retry, no re-send of a cut
   * answer); a request that has no final answer then is `interrupted`.
   */
  windDown?: AbortSignal;
  /**
   * Asked before an answer cut at MAX_TOKENS (`cut`, billed) is sent again with `nextOutputLimit`;
   * false keeps it from being sent (the cost cap would be crossed): the outcome is then a retryable
   * `max_tokens` failure that says so. Without it, every cut answer is sent again up to the output cap.
   */
  mayResend?: (cut: BilledAttempt, nextOutputLimit: number) => boolean;
  /**
   * Told of each billed try that another try follows (an answer cut at MAX_TOKENS sent again with a
   * larger limit, an empty answer sent again), before that next try goes out: so it can be put on
   * record at once, and a crash before the request settles does not lose what it cost. The outcome's
   * `billed` still lists it. A rejection is ignored (the try stays in `billed` for the settle).
   */
  onResend?: (tried: ResentTry) => Promise<void>;
  /**
   * False: a try with no answer within the lane's timeout is not sent again on the lane (Google
   * may bill the abandoned call, and each re-send too): the outcome is a retryable failure at once,
   * for a caller that has another lane to send the record on. Default true.
   */
  retryTimeouts?: boolean;
  /**
   * Told of each try given up at the lane's timeout (Google may bill it all the same); false keeps
   * it from being sent again (the cost cap would be crossed): the outcome is then a retryable
   * failure at once. Without it, a timed-out try is sent again while `retryTimeouts` allows.
   */
  gaveUp?: () => boolean;
  /**
   * Told of each call that got no answer though Google may bill it (given up at the lane's timeout,
   * or its answer cut off half-way), before any other try is sent: so it is on record at once, and a
   * crash does not lose it. A rejection is ignored (its tokens never arrived, so nothing else counts it).
   */
  onUnanswered?: (call: UnansweredCall) => Promise<void>;
}

/** A call sent and maybe billed that brought no answer: why, and when it was sent and given up. */
export interface UnansweredCall {
  cause: UnansweredCause;
  message: string;
  sentAt: number;
  givenUpAt: number;
}

/** A billed try that is sent again: what it cost, why, and when it was sent and answered. */
export interface ResentTry {
  /** Its place in the outcome's `billed` (0 for the first try). */
  index: number;
  billed: BilledAttempt;
  cause: 'max_tokens' | 'empty';
  message: string;
  finishReason: string | null;
  response: Record<string, unknown>;
  sentAt: number;
  answeredAt: number;
}

/** Tokens one attempt was billed for, and the tier that served it. */
export interface BilledAttempt extends Usage {
  /** `usageMetadata.serviceTier` (lower case; `unspecified`, the default tier, as standard), when the API reported it. */
  servedTier: string | null;
}

/** A complete answer, or why there is none. Every billed attempt is listed, so cost is never hidden. */
export type SyncOutcome =
  | {
      ok: true;
      /** The GenerateContentResponse as the SDK returned it (finishReason STOP, with text). */
      response: Record<string, unknown>;
      usage: Usage;
      servedTier: string | null;
      attempts: number;
      billed: BilledAttempt[];
      /**
       * Time spent waiting for a concurrency slot and for the rate limiter's permits: not the lane's
       * latency (a day's quota used up is a day's wait), which the scheduler weighs apart.
       */
      queuedMs: number;
    }
  | {
      ok: false;
      cause: FailureCause;
      message: string;
      /** False when sending it again cannot help (a blocked prompt, the output cap reached, no quota). */
      retryable: boolean;
      response?: Record<string, unknown>;
      /** The error of the last attempt, when it failed with one (not for a stop reason). */
      error?: unknown;
      attempts: number;
      billed: BilledAttempt[];
      /**
       * Attempts given up at the request timeout: sent, and maybe answered and billed by Google,
       * though no answer came back (so they are not in `billed`).
       */
      unanswered: number;
      /**
       * Given up without a final answer because `signal` or `windDown` aborted (a retry or a re-send
       * it would have made): the record's fault it is not.
       */
      interrupted: boolean;
    };

export interface SyncExecutorOptions {
  api: Pick<GeminiClient, 'generateContent'>;
  clock: RunnerClock;
  limiters: LaneLimiters;
  /** Synchronous requests in flight at once, all lanes together. */
  concurrency: number;
  /** Retries of one request for passing failures (timeouts, 5xx, dropped connections, shed Flex, 429, empty answers). */
  retry?: RetryPolicy;
  /** A request without an answer for this long is abandoned and retried. */
  requestTimeoutMs?: Partial<Record<SyncLane, number>>;
  /** MAX_TOKENS answers are retried with twice the output limit, up to this. Default 65 536. */
  maxOutputTokensCap?: number;
  /** Uniform in [0, 1) for the retry jitter; default Math.random. */
  random?: () => number;
  /** Told before each retry wait, e.g. to log it. */
  onRetry?: (info: { id: string; attempt: number; delayMs: number; error: unknown }) => void;
}

/** Flex answers within 1-15 min (target); standard and priority in seconds to minutes. */
export const DEFAULT_REQUEST_TIMEOUT_MS: Readonly<Record<SyncLane, number>> = {
  flex: 20 * 60_000,
  standard: 10 * 60_000,
  priority: 5 * 60_000,
};

/**
 * Why the lane's timer is stopped once the call is over: a reason given, so no DOMException (and
 * its stack) is built at every answer.
 */
const CALL_OVER = Symbol('call over');

/** Shed Flex requests and busy models come back within minutes; the lifecycle retries later still. */
export const SYNC_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 2_000, maxDelayMs: 5 * 60_000 };

/** The largest output Gemini 2.5 models produce. */
export const DEFAULT_MAX_OUTPUT_TOKENS_CAP = 65_536;

/**
 * An attempt that got no answer within the lane's request timeout. The message says only what
 * happened: whether the record is sent again (a retry, another lane in `auto`, held by the cost cap,
 * or dead-lettered at max_retries) is for the caller to say.
 */
export class SyncTimeoutError extends WavebatchError {
  readonly code = 'REQUEST_TIMEOUT';
  constructor(id: string, lane: SyncLane, timeoutMs: number) {
    super(
      `No answer for ${id} on the ${lane} lane within ${Math.round(timeoutMs / 1000)} s; the call was given up (Google may still bill it).`,
    );
  }
}

/** An attempt answered with no usable text (no candidates, no text, an unusual stop): worth another try. */
class EmptyAnswerError extends WavebatchError {
  readonly code = 'EMPTY_ANSWER';
  constructor(
    message: string,
    readonly response: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Refused before anything is sent: the lane has no quota for the model. */
class NoQuotaError extends WavebatchError {
  readonly code = 'LANE_NO_QUOTA';
  constructor(model: string, lane: SyncLane) {
    super(
      `The ${lane} lane has no quota for ${model} in your usage tier (priority needs tier 2 or 3); choose another lane or set limits.models.${model}.${lane}.`,
    );
  }
}

/**
 * Refused with a 429 for input tokens per minute while the request alone has more than the limit:
 * no wait admits it, and a 429 bills nothing, so it was sent again (and the record put back without
 * an attempt) for ever. Not retryable: the record fails with the limit named.
 */
class OverTokenLimitError extends WavebatchError {
  readonly code = 'REQUEST_OVER_TPM';
  constructor(input: SyncRequest, limit: number) {
    super(
      `The request for ${input.id} has ~${input.estimatedTokens} input tokens, more than the per-minute limit of ${limit} ` +
        `input tokens of ${input.model} on the ${input.lane} lane (the API's 429 names it): no wait admits it, so it is not ` +
        'sent again. Shorten its input, send it on another lane, or raise the limit (a higher usage tier).',
    );
  }
}

/** A call Google served whose answer was lost on the way (the connection reset mid-body). */
function answerCut(error: unknown): boolean {
  return GeminiApiError.isInstance(error) && error.answerCut;
}

function retryableSync(error: unknown): boolean {
  return isRetryable(error) || error instanceof SyncTimeoutError || error instanceof EmptyAnswerError;
}

interface Answer {
  response: Record<string, unknown>;
  verdict: Exclude<StopVerdict, { kind: 'empty' }>;
  sentAt: number;
  answeredAt: number;
}

/**
 * Sends records' requests through `generateContent` with the lane's service tier: bounded async
 * concurrency, the model-and-lane rate limiter before every attempt, retries with full jitter
 * through `withRetry`, a request timeout, and stop reasons deciding what happens next.
 */
export class SyncExecutor {
  private readonly slots: Slots;
  private readonly retry: RetryPolicy;
  private readonly timeouts: Record<SyncLane, number>;
  private readonly outputCap: number;

  constructor(private readonly options: SyncExecutorOptions) {
    this.slots = new Slots(options.concurrency);
    this.retry = options.retry ?? SYNC_RETRY;
    this.timeouts = { ...DEFAULT_REQUEST_TIMEOUT_MS, ...options.requestTimeoutMs };
    this.outputCap = options.maxOutputTokensCap ?? DEFAULT_MAX_OUTPUT_TOKENS_CAP;
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.slots.busy;
  }

  /** How long a call on `lane` is waited for before it is given up. */
  timeoutOf(lane: SyncLane): number {
    return this.timeouts[lane];
  }

  /** Sends one request until it has a complete answer or a reason there is none; never throws for the API's sake. */
  async execute(input: SyncRequest): Promise<SyncOutcome> {
    const { clock } = this.options;
    const arrived = clock.now();
    const stopTrying = anySignal(input.signal, input.windDown);
    let release: () => void;
    try {
      release = await this.slots.take(stopTrying);
    } catch (error) {
      // Stopped while queued for a slot: never sent, so its record goes back at once.
      return failureOf(error, 0, [], 0, true);
    }
    const queued = { ms: clock.now() - arrived };
    const billed: BilledAttempt[] = [];
    const gaveUp = { count: 0, resend: true };
    let attempts = 0;
    try {
      const limiter = this.options.limiters.for(input.model, input.lane);
      if (!limiter.usable) throw new NoQuotaError(input.model, input.lane);
      // Only a limit the request sets is raised: without one the model's own maximum applies.
      const limited = numberOr(input.request.generationConfig?.maxOutputTokens) !== undefined;
      let request = limited ? afterCut(input.request, input.cutBefore, this.outputCap) : input.request;
      for (;;) {
        const answer = await withRetry(
          (retry) => {
            attempts += 1;
            return this.attempt(input, request, limiter, { billed, gaveUp, queued, retry, stopTrying });
          },
          this.retry,
          {
            clock: this.options.clock,
            ...(this.options.random ? { random: this.options.random } : {}),
            ...(stopTrying ? { signal: stopTrying } : {}),
            onRetry: (info) => this.options.onRetry?.({ id: input.id, ...info }),
          },
          (error) =>
            retryableSync(error) &&
            !(
              (error instanceof SyncTimeoutError || answerCut(error)) &&
              (input.retryTimeouts === false || !gaveUp.resend)
            ),
        );
        const verdict = answer.verdict;
        switch (verdict.kind) {
          case 'complete': {
            const last = billed.at(-1) ?? { inputTokens: 0, outputTokens: 0, servedTier: null };
            const usage = { inputTokens: last.inputTokens, outputTokens: last.outputTokens };
            return {
              ok: true,
              response: answer.response,
              usage,
              servedTier: last.servedTier,
              attempts,
              billed,
              queuedMs: queued.ms,
            };
          }
          case 'blocked':
            return {
              ok: false,
              cause: /RECITATION/.test(verdict.reason) ? 'recitation' : 'safety',
              message: verdict.message,
              retryable: false,
              response: answer.response,
              attempts,
              billed,
              unanswered: gaveUp.count,
              interrupted: false,
            };
          case 'truncated': {
            const current = numberOr(request.generationConfig?.maxOutputTokens);
            const next = nextOutputLimit(current, verdict.outputTokens, this.outputCap);
            if (next === null) {
              return {
                ok: false,
                cause: 'max_tokens',
                message: `The answer for ${input.id} was cut off at ${verdict.outputTokens} output tokens (finishReason MAX_TOKENS) with the output limit at its cap of ${this.outputCap}; shorten the task or raise the cap.`,
                retryable: false,
                response: answer.response,
                attempts,
                billed,
                unanswered: gaveUp.count,
                interrupted: false,
              };
            }
            const cut = billed.at(-1);
            if (stopTrying?.aborted) {
              return {
                ok: false,
                cause: 'max_tokens',
                message: `The answer for ${input.id} was cut off at ${verdict.outputTokens} output tokens (finishReason MAX_TOKENS); the run stopped before it was sent again.`,
                retryable: true,
                response: answer.response,
                attempts,
                billed,
                unanswered: gaveUp.count,
                interrupted: true,
              };
            }
            if (cut && input.mayResend && !input.mayResend(cut, next)) {
              return {
                ok: false,
                cause: 'max_tokens',
                message: `The answer for ${input.id} was cut off at ${verdict.outputTokens} output tokens (finishReason MAX_TOKENS); sending it again with a limit of ${next} would take the run past execution.max_cost, so it waits (raise max_cost to finish it).`,
                retryable: true,
                response: answer.response,
                attempts,
                billed,
                unanswered: gaveUp.count,
                interrupted: false,
              };
            }
            await tell(input, {
              index: billed.length - 1,
              billed: cut ?? { inputTokens: 0, outputTokens: verdict.outputTokens, servedTier: null },
              cause: 'max_tokens',
              message: `The answer for ${input.id} was cut off at ${verdict.outputTokens} output tokens (finishReason MAX_TOKENS); it is sent again with a limit of ${next}.`,
              finishReason: 'MAX_TOKENS',
              response: answer.response,
              sentAt: answer.sentAt,
              answeredAt: answer.answeredAt,
            });
            request = {
              ...request,
              generationConfig: { ...request.generationConfig, maxOutputTokens: next },
            };
            continue;
          }
          default:
            return verdict satisfies never;
        }
      }
    } catch (error) {
      // Stopped, not refused: an error the API gave as final (a 400, a 403) is the outcome still.
      const interrupted =
        stopTrying?.aborted === true && !(GeminiApiError.isInstance(error) && !error.retryable);
      return failureOf(error, attempts, billed, gaveUp.count, interrupted);
    } finally {
      release();
    }
  }

  /** One call: a permit from the limiter, the call raced against the timeout, the answer read. */
  private async attempt(
    input: SyncRequest,
    request: ModelRequest,
    limiter: RateLimiter,
    progress: {
      billed: BilledAttempt[];
      gaveUp: { count: number; resend: boolean };
      queued: { ms: number };
      /** This try's number in withRetry (1 = the first). */
      retry: number;
      /** `signal` or `windDown`: no try is sent once it aborted. */
      stopTrying: AbortSignal | undefined;
    },
  ): Promise<Answer> {
    const { clock } = this.options;
    const { billed, gaveUp, queued } = progress;
    const asked = clock.now();
    const permit = await acquire(limiter, input.estimatedTokens, clock, progress.stopTrying);
    const sentAt = clock.now();
    queued.ms += sentAt - asked;
    const timeoutMs = this.timeouts[input.lane];
    // Aborted only to give up on the call (the run stops, or the lane's timeout): a call that
    // settled leaves it alone, so the SDK's listener on it goes with it instead of building an
    // AbortError at every answer.
    const abandon = new AbortController();
    const onAbort = () => abandon.abort();
    input.signal?.addEventListener('abort', onAbort, { once: true });
    const callOver = new AbortController();
    let timedOut = false;
    const timer = clock.sleep(timeoutMs, callOver.signal).then(() => {
      if (callOver.signal.aborted) return;
      timedOut = true;
      abandon.abort();
    });
    let raw: unknown;
    try {
      raw = await this.options.api.generateContent(input.model, request, {
        serviceTier: input.lane,
        signal: abandon.signal,
        // No HTTP timeout of the SDK's: the lane's timer above is the one. The SDK keeps its timer
        // armed after a successful answer (so it can bound reading the body) and holds the
        // request's abort controller until it fires: at a Flex timeout of 20 minutes, every request
        // of the last 20 minutes stayed in memory (about 3 kB each; 1.5 MB/s in a fast Flex run).
        timeoutMs: 0,
      });
    } catch (error) {
      settleRefusal(limiter, permit, error, clock.now());
      const tokenLimit = inputTokensPerMinuteLimitOf(error);
      if (tokenLimit !== undefined && input.estimatedTokens > tokenLimit)
        throw new OverTokenLimitError(input, tokenLimit);
      // A call given up at the timeout, or whose answer was cut off half-way, may have been billed
      // though no answer came: it counts as unanswered, so the record's attempt counts and
      // max_retries bounds it (read as an outage, it went back uncounted and was bought again and
      // again), and it is sent again only while `gaveUp` allows.
      if (timedOut || answerCut(error)) {
        gaveUp.count += 1;
        gaveUp.resend = input.gaveUp?.() ?? true;
        await input
          .onUnanswered?.(unansweredCall(input, timedOut ? { timeoutMs } : { error }, sentAt, clock.now()))
          .catch(() => undefined);
        if (timedOut) throw new SyncTimeoutError(input.id, input.lane, timeoutMs);
      }
      throw error;
    } finally {
      callOver.abort(CALL_OVER);
      input.signal?.removeEventListener('abort', onAbort);
      await timer;
    }
    const response = asRecord(raw);
    const usage = usageOf(response.usageMetadata);
    billed.push({ ...usage, servedTier: servedTierOf(response) });
    limiter.succeeded(permit, usage.inputTokens > 0 ? usage.inputTokens : undefined, clock.now());
    const verdict = stopVerdict(response);
    const answeredAt = clock.now();
    if (verdict.kind === 'empty') {
      const message = `${verdict.message} (${input.id})`;
      // withRetry sends it again unless this was the last try or the run stopped: then it is told
      // now, not after the wait before the next try (a crash during that wait would lose it).
      if (progress.retry < this.retry.maxAttempts && !progress.stopTrying?.aborted)
        await tell(input, {
          index: billed.length - 1,
          billed: billed.at(-1) as BilledAttempt,
          cause: 'empty',
          message: `${message}; it is sent again.`,
          finishReason: responseFacts(response).finishReason,
          response,
          sentAt,
          answeredAt,
        });
      throw new EmptyAnswerError(message, response);
    }
    return { response, verdict, sentAt, answeredAt };
  }
}

/** Tells `input.onResend` of a try sent again; its failure is the caller's to report, not the request's. */
async function tell(input: SyncRequest, tried: ResentTry): Promise<void> {
  await input.onResend?.(tried).catch(() => undefined);
}

/** The call given up at `timeoutMs`, or whose answer was cut off by `error`: its tokens and cost are unknown. */
function unansweredCall(
  input: SyncRequest,
  why: { timeoutMs: number } | { error: unknown },
  sentAt: number,
  givenUpAt: number,
): UnansweredCall {
  const unknown = 'Google may bill it all the same: its tokens and cost are unknown.';
  if ('timeoutMs' in why) {
    return {
      cause: 'timeout',
      message: `No answer for ${input.id} on the ${input.lane} lane within ${Math.round(why.timeoutMs / 1000)} s; the call was given up. ${unknown}`,
      sentAt,
      givenUpAt,
    };
  }
  return {
    cause: 'answer_cut',
    message: `The answer for ${input.id} on the ${input.lane} lane was cut off half-way (${describeError(why.error)}). ${unknown}`,
    sentAt,
    givenUpAt,
  };
}

/** Waits on the clock until the limiter admits the request. */
async function acquire(
  limiter: RateLimiter,
  tokens: number,
  clock: RunnerClock,
  signal: AbortSignal | undefined,
): Promise<Permit> {
  for (;;) {
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    const admission = limiter.tryAcquire(tokens, clock.now());
    if ('permit' in admission) return admission.permit;
    await clock.sleep(admission.waitMs, signal);
  }
}

/** A 429 teaches the limiter; anything else only settles the permit. */
function settleRefusal(limiter: RateLimiter, permit: Permit, error: unknown, now: number): void {
  if (GeminiApiError.isInstance(error) && error.code === 'QUOTA_EXHAUSTED') {
    limiter.throttled(permit, serverRetryWaitMs(error), now);
  } else {
    limiter.failed(permit, now);
  }
}

/** `request` at the output limit a MAX_TOKENS answer of `cutTokens` is sent again with (as it is at the cap). */
function afterCut(request: ModelRequest, cutTokens: number | undefined, cap: number): ModelRequest {
  if (cutTokens === undefined) return request;
  const next = largerOutputLimit(numberOr(request.generationConfig?.maxOutputTokens), cutTokens, cap);
  if (next === null) return request;
  return { ...request, generationConfig: { ...request.generationConfig, maxOutputTokens: next } };
}

/**
 * The output limit a MAX_TOKENS answer is sent again with: the model's maximum (`cap`) when the
 * request set none, as that is what cut it (twice what was produced was a smaller limit than the
 * one that cut it: cut and billed again, rung after rung); otherwise `largerOutputLimit`. Null when
 * the cap was already reached.
 */
function nextOutputLimit(current: number | undefined, produced: number, cap: number): number | null {
  if (current !== undefined) return largerOutputLimit(current, produced, cap);
  return produced >= cap ? null : cap;
}

/**
 * The next output limit after a MAX_TOKENS answer: twice the current one (or twice what was
 * produced, when no limit was set), at most `cap`; null when the cap was already reached.
 */
export function largerOutputLimit(current: number | undefined, produced: number, cap: number): number | null {
  const base = Math.max(current ?? 0, produced, 1);
  if (base >= cap) return null;
  return Math.min(cap, base * 2);
}

/** Aborted when either is; undefined when neither is given. */
function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const given = signals.filter((signal) => signal !== undefined);
  return given.length <= 1 ? given[0] : AbortSignal.any(given);
}

function failureOf(
  error: unknown,
  attempts: number,
  billed: BilledAttempt[],
  unanswered: number,
  interrupted: boolean,
): SyncOutcome {
  if (error instanceof EmptyAnswerError) {
    return {
      ok: false,
      cause: 'empty',
      message: error.message,
      retryable: true,
      response: error.response,
      attempts,
      billed,
      unanswered,
      interrupted,
    };
  }
  const message = describeError(error);
  return {
    ok: false,
    cause: 'api_error',
    message,
    retryable: retryableSync(error),
    error,
    attempts,
    billed,
    unanswered,
    interrupted,
  };
}

/**
 * The tier an answer names (`usageMetadata.serviceTier`), lower case. `unspecified` is standard: the
 * API's ServiceTier enum defines it as "Default service tier, which is standard" (@google/genai's
 * ServiceTier.UNSPECIFIED); read as no tier, a priority request's answer was priced at priority's price.
 */
function servedTierOf(response: Record<string, unknown>): string | null {
  const usage = response.usageMetadata;
  const tier =
    typeof usage === 'object' && usage !== null ? (usage as Record<string, unknown>).serviceTier : undefined;
  if (typeof tier !== 'string' || tier === '') return null;
  const named = tier.toLowerCase();
  return named === 'unspecified' ? 'standard' : named;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function numberOr(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
