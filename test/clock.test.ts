import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, systemClock } from '../src/clock.js';

/** Whether `promise` has settled, after the microtasks queued so far ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await Promise.resolve();
  await Promise.resolve();
  return done;
}

// Fake timers: the test moves time itself, so a sleep of weeks is checked without waiting it out.
describe('systemClock.sleep', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('waits a delay longer than a timer holds in full, never handing a timer more than 2^31 - 1 ms', async () => {
    // Before, setTimeout got 2592000000 ms (30d), which Node turns into 1 ms: a poll loop spun at full CPU.
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    const thirtyDays = 30 * 86_400_000;
    const sleeping = systemClock.sleep(thirtyDays);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(sleeping)).toBe(false);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS);
    expect(await settled(sleeping)).toBe(false);
    await vi.advanceTimersByTimeAsync(thirtyDays - MAX_TIMER_MS - 2);
    expect(await settled(sleeping)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(sleeping)).toBe(true);
    const delays = timeouts.mock.calls.map((call) => call[1] ?? 0);
    expect(delays.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_TIMER_MS);
  });

  it('sleeps 2^31 + 5 ms, just past the limit, to the millisecond', async () => {
    const sleeping = systemClock.sleep(2 ** 31 + 5);
    await vi.advanceTimersByTimeAsync(2 ** 31 + 4);
    expect(await settled(sleeping)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(sleeping)).toBe(true);
  });

  it('ends a long sleep when its signal aborts, leaving no timer behind', async () => {
    const stop = new AbortController();
    const sleeping = systemClock.sleep(30 * 86_400_000, stop.signal);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS + 10);
    expect(await settled(sleeping)).toBe(false);
    stop.abort();
    expect(await settled(sleeping)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('still waits a short delay as given', async () => {
    const sleeping = systemClock.sleep(250);
    await vi.advanceTimersByTimeAsync(249);
    expect(await settled(sleeping)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(sleeping)).toBe(true);
  });
});
