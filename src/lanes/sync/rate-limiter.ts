import type { RequestLimits } from '../../pricing/index.js';
import { Pacer } from './pacer.js';
import { WindowLog, type WindowEntry } from './window-log.js';

/**
 * Client-side rate limiting of one model on one synchronous lane, so a long run holds close to its
 * quota without storms of 429s. Pure: time is passed in (`now`), nothing sleeps here; the executor
 * waits for `tryAcquire`'s answer on its injected clock.
 *
 * It counts what Google counts, in the same sliding windows the API (and the emulator) use: requests
 * per minute, input tokens per minute (estimated when a request starts, replaced by the billed
 * count when it ends) and requests per day; and it paces starts evenly within the minute, so a
 * limit lower than configured is met by a trickle of 429s, not a minute's burst of them.
 *
 * It aims at a `share` of the configured limits, adapting it AIMD-style. A 429 pauses every start
 * for the server's RetryInfo delay (or an exponential backoff when there is none) and sets the
 * share below the rate actually sent in the last minute, which is where the real limit showed
 * itself: by `decrease` when that rate was below the configured limits (they are too high), by 5%
 * when it was at them (the limits are right; a request reached the API a moment late). Then the
 * share climbs back: fast (`recoveryPerMinute`) to just under that rate, slowly (`probePerMinute`)
 * beyond it, up to `ceiling`. A 429 for a request sent before the last
 * back-off says nothing new (the back-off already answered it), so a burst of them counts once.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

export interface RateLimiterOptions {
  limits: RequestLimits;
  /** Highest share of the limits aimed at; below 1 so clock skew and latency do not cross the line. Default 0.98. */
  ceiling?: number;
  /** Lowest share backed off to. Default 0.01. */
  floor?: number;
  /** Factor applied to the share on a 429. Default 0.7. */
  decrease?: number;
  /** Share of the limits regained per minute without a 429, up to just under the rate of the last 429. Default 0.1. */
  recoveryPerMinute?: number;
  /** Share regained per minute above that rate, probing whether the limit has moved. Default 0.02. */
  probePerMinute?: number;
  /**
   * Starts allowed ahead of the even pace, in ms of the pace. Default 10 s: enough to catch up
   * after the process was busy for a moment, small against the minute window the API counts in.
   */
  burstMs?: number;
  /**
   * A request reaches the API (and enters its window) a network trip after its permit, so the API's
   * minute frees later than ours: each request stays this much longer in our minute, so a burst
   * started as the previous minute's burst leaves does not arrive a moment too early (429s at every
   * window edge, seen on the emulator after a first burst of starts). Default 0; LaneLimiters gives 1 s.
   */
  arrivalSlackMs?: number;
  /** Pause after a 429 without RetryInfo: doubles from this with each 429 in a row. Default 1 s. */
  backoffBaseMs?: number;
  /** Longest such pause. Default 60 s. */
  backoffMaxMs?: number;
}

/** A started request, to be settled with `succeeded`, `throttled` or `failed`. */
export interface Permit {
  readonly startedAt: number;
  /** Input tokens counted for it: the scaled estimate, then the billed count. */
  readonly entry: WindowEntry;
  /** The unscaled estimate, to learn how estimates compare with billed counts. */
  readonly estimatedTokens: number;
}

/** Either a permit to start now, or how long to wait before asking again. */
export type Admission = { permit: Permit } | { waitMs: number };

/** What the limiter is doing, for progress displays and tests. */
export interface RateLimiterState {
  share: number;
  pausedUntil: number;
  /** Requests and input tokens in the last minute; requests in the last day. */
  minuteRequests: number;
  minuteTokens: number;
  dayRequests: number;
  /** Factor applied to token estimates, learnt from billed counts. */
  tokenScale: number;
}

/** After a 429 the share climbs fast to this share of the rate that was refused, then probes slowly. */
const PROBE_MARGIN = 0.95;
/** A 429 when at least this share of the configured limits was sent says the limits are right. */
const AT_LIMIT = 0.9;

/** Below this many estimated tokens the billed/estimated ratio is noise. */
const MIN_EVIDENCE_TOKENS = 200;

export class RateLimiter {
  private readonly limits: RequestLimits;
  private readonly ceiling: number;
  private readonly floor: number;
  private readonly decrease: number;
  private readonly recoveryPerMinute: number;
  private readonly probePerMinute: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;

  private readonly minute: WindowLog;
  private readonly day = new WindowLog(DAY_MS);
  private readonly requestPace: Pacer;
  private readonly tokenPace: Pacer;
  /** The share at `shareSince`; it climbs from there, fast up to `probeAbove`, slowly beyond. */
  private shareAt: number;
  private shareSince = Number.NEGATIVE_INFINITY;
  private probeAbove: number;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  private pausedUntil = Number.NEGATIVE_INFINITY;
  private throttledInARow = 0;
  private estimatedSum = 0;
  private billedSum = 0;

  constructor(options: RateLimiterOptions) {
    this.limits = options.limits;
    this.minute = new WindowLog(MINUTE_MS + (options.arrivalSlackMs ?? 0));
    this.ceiling = options.ceiling ?? 0.98;
    this.floor = options.floor ?? 0.01;
    this.decrease = options.decrease ?? 0.7;
    this.recoveryPerMinute = options.recoveryPerMinute ?? 0.1;
    this.probePerMinute = options.probePerMinute ?? 0.02;
    this.requestPace = new Pacer(options.burstMs ?? 10_000);
    this.tokenPace = new Pacer(options.burstMs ?? 10_000);
    this.backoffBaseMs = options.backoffBaseMs ?? 1_000;
    this.backoffMaxMs = options.backoffMaxMs ?? 60_000;
    if (!(this.floor > 0 && this.floor <= this.ceiling && this.ceiling <= 1))
      throw new RangeError(
        `RateLimiter needs 0 < floor <= ceiling <= 1, got ${this.floor} and ${this.ceiling}`,
      );
    if (!(this.decrease > 0 && this.decrease < 1))
      throw new RangeError(`RateLimiter decrease must be in (0, 1), got ${this.decrease}`);
    this.shareAt = this.ceiling;
    this.probeAbove = this.ceiling;
  }

  /** False when a limit is 0 (e.g. priority below usage tier 2): no request can ever start. */
  get usable(): boolean {
    return this.limits.rpm > 0 && this.limits.tpm > 0 && this.limits.rpd !== 0;
  }

  /**
   * Requests it would start within the next minute, by their count (tokens aside): a minute's worth
   * at the current share, no more than what is left of the day's quota, none while it rests after a
   * 429 for longer than that. The scheduler sends a lane no more than this: a request sent beyond it
   * waits in the limiter, for hours once the day's quota is used up, while another lane could have
   * taken it.
   */
  headroom(now: number): number {
    if (!this.usable) return 0;
    this.advance(now);
    if (this.pausedUntil - now > MINUTE_MS) return 0;
    const { rpm } = this.rates(now);
    if (this.limits.rpd === null) return rpm;
    const rpd = Math.max(1, Math.floor(this.limits.rpd * this.share(now)));
    return Math.min(rpm, Math.max(0, rpd - this.day.count));
  }

  /** Starts a request of `estimatedTokens` input tokens now, or says how long to wait. */
  tryAcquire(estimatedTokens: number, now: number): Admission {
    if (!this.usable) return { waitMs: Number.POSITIVE_INFINITY };
    this.advance(now);
    const tokens = Math.ceil(Math.max(0, estimatedTokens) * this.tokenScale());
    const { rpm, tpm } = this.rates(now);
    const waitMs = Math.max(
      0,
      this.pausedUntil - now,
      this.waitForWindows(tokens, now),
      this.requestPace.waitFor(now, rpm),
      this.tokenPace.waitFor(now, tpm),
    );
    if (waitMs > 0) return { waitMs };
    const entry = { at: now, tokens };
    this.minute.add(entry);
    this.requestPace.take(now, 1, rpm);
    // One request books at most a minute of tokens: a larger one is refused by the API anyway.
    this.tokenPace.take(now, Math.min(tokens, tpm), tpm);
    if (this.limits.rpd !== null) this.day.add({ at: now, tokens: 0 });
    return { permit: { startedAt: now, entry, estimatedTokens: Math.max(0, estimatedTokens) } };
  }

  /** The request was answered: its tokens become the billed input count (when known); the climb goes on. */
  succeeded(permit: Permit, billedInputTokens: number | undefined, now: number): void {
    this.advance(now);
    this.throttledInARow = 0;
    if (billedInputTokens === undefined || billedInputTokens < 0) return;
    const { tpm } = this.rates(now);
    this.tokenPace.adjust(Math.min(billedInputTokens, tpm) - Math.min(permit.entry.tokens, tpm), tpm);
    this.minute.retokenize(permit.entry, billedInputTokens);
    if (permit.estimatedTokens > 0 && billedInputTokens > 0) {
      this.estimatedSum += permit.estimatedTokens;
      this.billedSum += billedInputTokens;
    }
  }

  /**
   * The request was refused with 429 RESOURCE_EXHAUSTED. It stays counted (the server may have
   * counted it too). Starts pause for the server's delay, or a doubling backoff without one; the
   * share shrinks unless the request was sent before the last back-off.
   */
  throttled(permit: Permit, retryDelayMs: number | undefined, now: number): void {
    this.advance(now);
    this.throttledInARow += 1;
    const backoff = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (this.throttledInARow - 1));
    const delay = retryDelayMs !== undefined && retryDelayMs >= 0 ? retryDelayMs : backoff;
    this.pausedUntil = Math.max(this.pausedUntil, now + delay);
    if (permit.startedAt <= this.lastDecreaseAt) return;
    // The rate that met the limit: what was sent in the last minute, of the busier quota.
    const sent = Math.max(this.minute.count / this.limits.rpm, this.minute.tokens / this.limits.tpm);
    const refusedAt = Math.min(this.share(now), sent);
    // Refused at the configured limit: the limit is right and timing crossed its edge (requests
    // reach the API a moment after they leave); stepping back by the margin is enough. Refused
    // below it: the real limit is lower, so back off by `decrease`.
    const atLimit = sent >= AT_LIMIT;
    this.probeAbove = Math.max(this.floor, refusedAt * PROBE_MARGIN);
    this.shareAt = Math.max(this.floor, refusedAt * (atLimit ? PROBE_MARGIN : this.decrease));
    this.shareSince = now;
    this.lastDecreaseAt = now;
  }

  /** The request failed otherwise (network, 5xx): it stays counted, as the server may have counted it. */
  failed(_permit: Permit, now: number): void {
    this.advance(now);
  }

  /** The share of the limits aimed at, at `now`: fast up to `probeAbove`, slowly beyond, capped at the ceiling. */
  share(now: number): number {
    const minutes = Math.max(0, now - this.shareSince) / MINUTE_MS;
    const fastMinutes = Math.max(0, this.probeAbove - this.shareAt) / this.recoveryPerMinute;
    const climbed =
      minutes <= fastMinutes
        ? this.shareAt + this.recoveryPerMinute * minutes
        : Math.max(this.shareAt, this.probeAbove) + this.probePerMinute * (minutes - fastMinutes);
    return Math.min(this.ceiling, climbed);
  }

  /** Factor applied to new token estimates: billed / estimated input tokens, within [0.5, 4]. */
  tokenScale(): number {
    if (this.estimatedSum < MIN_EVIDENCE_TOKENS) return 1;
    return Math.min(4, Math.max(0.5, this.billedSum / this.estimatedSum));
  }

  /** A snapshot for displays and tests. */
  state(now: number): RateLimiterState {
    this.advance(now);
    return {
      share: this.share(now),
      pausedUntil: this.pausedUntil,
      minuteRequests: this.minute.count,
      minuteTokens: this.minute.tokens,
      dayRequests: this.day.count,
      tokenScale: this.tokenScale(),
    };
  }

  private advance(now: number): void {
    this.minute.advance(now);
    this.day.advance(now);
  }

  /** The limits scaled by the share; at least 1, so a small limit times a small share still moves. */
  private rates(now: number): { rpm: number; tpm: number } {
    const share = this.share(now);
    return {
      rpm: Math.max(1, Math.floor(this.limits.rpm * share)),
      tpm: Math.max(1, Math.floor(this.limits.tpm * share)),
    };
  }

  /** How long until the windows have room for one more request of `tokens`. */
  private waitForWindows(tokens: number, now: number): number {
    const share = this.share(now);
    const { rpm, tpm } = this.rates(now);
    let wait = this.minute.waitForCount(rpm, now);
    wait = Math.max(wait, this.minute.waitForTokens(tokens, tpm, now));
    if (this.limits.rpd !== null) {
      const rpd = Math.max(1, Math.floor(this.limits.rpd * share));
      wait = Math.max(wait, this.day.waitForCount(rpd, now));
    }
    return wait;
  }
}
