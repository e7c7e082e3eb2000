import type { RunnerClock } from './clock.js';
import { GeminiApiError } from './gemini/errors.js';

/**
 * The one retry helper: every remote call that may fail for a passing reason (network, 5xx, 429)
 * goes through `withRetry`, so backoff, the server's RetryInfo and giving up behave the same
 * everywhere (batch loop, uploads, synchronous lanes).
 */

/** How long and how often to retry one call. */
export interface RetryPolicy {
  /** Attempts in all, the first included; at least 1. */
  maxAttempts: number;
  /** Delay before the first retry; doubles each time (full jitter: a uniform draw in [0, delay]). */
  baseDelayMs: number;
  /** Ceiling of one delay, before jitter. */
  maxDelayMs: number;
}

/** A few quick retries for calls made inside a loop that will come back to them anyway. */
export const QUICK_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 30_000 };

export interface RetryContext {
  clock: RunnerClock;
  /** Uniform in [0, 1); injected so tests are deterministic. Default Math.random. */
  random?: () => number;
  signal?: AbortSignal;
  /** Told before each wait, e.g. to log "retrying in 4 s". */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/** Whether an error may go away if the same call is made again unchanged. */
export function isRetryable(error: unknown): boolean {
  return GeminiApiError.isInstance(error) && error.retryable;
}

/**
 * Google states RetryInfo's delay in whole seconds at times, rounded down: "26s" with 26.66 s left
 * before the quota's window reopens. A retry after exactly the stated delay came up to a second
 * early and met another 429, so a whole-second delay is waited one second longer.
 */
export const WHOLE_SECOND_RETRY_MARGIN_MS = 1_000;

/**
 * How long the server's RetryInfo on `error` makes a client wait; undefined when it states none.
 * A delay given to the millisecond ("26.66s") is waited as stated; one of whole seconds ("26s"),
 * which may be rounded down, one second longer (WHOLE_SECOND_RETRY_MARGIN_MS). Every wait for a
 * RetryInfo (retries, the batch loop's quota wait, the synchronous rate limiter) goes through it.
 */
export function serverRetryWaitMs(error: unknown): number | undefined {
  const stated = GeminiApiError.isInstance(error) ? error.retryDelayMs : undefined;
  if (stated === undefined) return undefined;
  return stated % 1000 === 0 ? stated + WHOLE_SECOND_RETRY_MARGIN_MS : stated;
}

/**
 * The wait before retry number `attempt` (1 = the first retry): exponential with full jitter, but
 * never shorter than what the server asked for (RetryInfo, see serverRetryWaitMs).
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  error: unknown,
  random: () => number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.floor(random() * ceiling);
  const asked = serverRetryWaitMs(error);
  return asked !== undefined ? Math.max(asked, jittered) : jittered;
}

/**
 * Runs `call` until it succeeds, fails with an error that is not retryable, or runs out of
 * attempts; the last error is thrown as it was. An aborted signal stops the waiting and throws the
 * last error at once.
 */
export async function withRetry<T>(
  call: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  context: RetryContext,
  retryable: (error: unknown) => boolean = isRetryable,
): Promise<T> {
  const random = context.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      if (attempt >= policy.maxAttempts || !retryable(error) || context.signal?.aborted) throw error;
      const delayMs = retryDelayMs(policy, attempt, error, random);
      context.onRetry?.({ attempt, delayMs, error });
      await context.clock.sleep(delayMs, context.signal);
      if (context.signal?.aborted) throw error;
    }
  }
}
