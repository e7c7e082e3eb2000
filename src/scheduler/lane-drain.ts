import type { RequestLimits } from '../pricing/index.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** At most this many requests open at once, each open for about `typicalMs`. */
export interface OpenRequests {
  slots: number;
  typicalMs: number;
}

/** What else bounds a lane's pace besides its quota. */
export interface DrainBounds {
  /** The requests it may have open at once. */
  open?: OpenRequests;
  /** Requests already sent in the last 24 hours: they count against the daily quota. */
  usedToday?: number;
}

/**
 * Time for a synchronous lane to start `records` more requests at its limits: requests and tokens
 * per minute, requests per day (less what the last 24 hours used) and, when given, the requests it
 * may have open at once (a lane answering in five minutes with 16 open moves about 3 a minute,
 * whatever its quota).
 */
export function drainMs(
  records: number,
  tokensPerRequest: number,
  limits: RequestLimits,
  { open, usedToday = 0 }: DrainBounds = {},
): number {
  if (records <= 0) return 0;
  const byQuota = Math.min(limits.rpm, tokensPerRequest > 0 ? limits.tpm / tokensPerRequest : limits.rpm);
  const byOpen =
    open && open.typicalMs > 0 ? (open.slots * MINUTE_MS) / open.typicalMs : Number.POSITIVE_INFINITY;
  const perMinute = Math.min(byQuota, byOpen);
  if (!(perMinute > 0)) return Number.POSITIVE_INFINITY;
  const byMinute = (records / perMinute) * MINUTE_MS;
  if (limits.rpd === null) return byMinute;
  if (!(limits.rpd > 0)) return Number.POSITIVE_INFINITY;
  // Whole days at the daily cap (today's counting what was used), then the rest at the minute rate.
  const fullDays = Math.floor((records + usedToday - 1) / limits.rpd);
  if (fullDays === 0) return byMinute;
  const rest = records + usedToday - fullDays * limits.rpd;
  return Math.max(byMinute, fullDays * DAY_MS + (rest / perMinute) * MINUTE_MS);
}
