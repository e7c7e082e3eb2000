import { describe, expect, it } from 'vitest';
import type { RunnerClock } from '../../src/clock.js';
import { GeminiApiError } from '../../src/gemini/errors.js';
import { retryDelayMs, serverRetryWaitMs, withRetry, type RetryPolicy } from '../../src/retry.js';

/** A clock whose sleeps advance time instantly and are recorded. */
function fakeClock(): RunnerClock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: (ms) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 5000 };
const unavailable = (retryDelayMs?: number) =>
  new GeminiApiError({
    code: 'UNAVAILABLE',
    message: 'down',
    retryable: true,
    ...(retryDelayMs !== undefined ? { retryDelayMs } : {}),
  });

describe('withRetry', () => {
  it('retries a passing failure with exponential, capped, fully jittered delays and returns the result', async () => {
    const clock = fakeClock();
    let calls = 0;
    const result = await withRetry(
      () => {
        calls++;
        if (calls < 4) return Promise.reject(unavailable());
        return Promise.resolve('ok');
      },
      policy,
      { clock, random: () => 0.999 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(4);
    expect(clock.slept).toEqual([999, 1998, 3996]);
  });

  it('honours the server-requested delay even when the jitter draws less', async () => {
    const clock = fakeClock();
    let calls = 0;
    await withRetry(
      () => (calls++ === 0 ? Promise.reject(unavailable(42_250)) : Promise.resolve(1)),
      policy,
      { clock, random: () => 0 },
    );
    expect(clock.slept).toEqual([42_250]);
  });

  it('waits a whole-second RetryInfo one second longer: Google rounds it down', async () => {
    const clock = fakeClock();
    let calls = 0;
    await withRetry(
      () => (calls < 2 ? Promise.reject(unavailable([42_000, 0][calls++])) : Promise.resolve(1)),
      policy,
      { clock, random: () => 0 },
    );
    expect(clock.slept).toEqual([43_000, 1_000]);
    expect(serverRetryWaitMs(unavailable(26_660))).toBe(26_660);
    expect(serverRetryWaitMs(unavailable())).toBeUndefined();
  });

  it('throws at once on an error that is not retryable, and the last error when attempts run out', async () => {
    const clock = fakeClock();
    const invalid = new GeminiApiError({ code: 'INVALID_ARGUMENT', message: 'bad', retryable: false });
    await expect(withRetry(() => Promise.reject(invalid), policy, { clock })).rejects.toBe(invalid);
    expect(clock.slept).toEqual([]);

    let calls = 0;
    const last = unavailable();
    await expect(
      withRetry(
        () => {
          calls++;
          return Promise.reject(calls === 4 ? last : unavailable());
        },
        policy,
        { clock, random: () => 0.5 },
      ),
    ).rejects.toBe(last);
    expect(calls).toBe(4);
  });

  it('stops waiting when the signal aborts', async () => {
    const clock = fakeClock();
    const abort = new AbortController();
    let calls = 0;
    const failing = unavailable();
    await expect(
      withRetry(
        () => {
          calls++;
          abort.abort();
          return Promise.reject(failing);
        },
        policy,
        { clock, signal: abort.signal },
      ),
    ).rejects.toBe(failing);
    expect(calls).toBe(1);
  });

  it('computes delays without the server hint from the policy alone', () => {
    expect(retryDelayMs(policy, 10, new Error('x'), () => 0.5)).toBe(2500);
  });
});
