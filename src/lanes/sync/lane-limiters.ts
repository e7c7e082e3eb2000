import type { SyncLane } from '../lane.js';
import { modelLimits, type PriceList } from '../../pricing/index.js';
import { RateLimiter, type RateLimiterOptions } from './rate-limiter.js';

/** How much later than its permit a request is counted in the API's minute, at most (see RateLimiterOptions). */
export const ARRIVAL_SLACK_MS = 1_000;

/**
 * One rate limiter per model and synchronous lane, sized from the price list's limits (the
 * config's `limits:` applied): Google counts each model's quota separately, and each service tier
 * in its own pool.
 */
export class LaneLimiters {
  private readonly limiters = new Map<string, RateLimiter>();

  constructor(
    private readonly prices: PriceList,
    private readonly tuning: Omit<RateLimiterOptions, 'limits'> = {},
  ) {}

  /** The limiter of `model` on `lane`, made on first use. */
  for(model: string, lane: SyncLane): RateLimiter {
    const key = `${model}\u0000${lane}`;
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = new RateLimiter({
        arrivalSlackMs: ARRIVAL_SLACK_MS,
        ...this.tuning,
        limits: modelLimits(this.prices, model)[lane],
      });
      this.limiters.set(key, limiter);
    }
    return limiter;
  }
}
