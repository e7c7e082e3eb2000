/** Emulated time: the emulator runs hours of Batch API time in seconds of real time. */
export interface EmulatedClock {
  /** Emulated epoch ms. */
  now(): number;
  /** Real milliseconds until the emulated time `at` (0 when it has passed). */
  realDelayUntil(at: number): number;
}

/** now = start + realElapsed × timeScale; `realNow` is injected for tests. */
export function emulatedClock(timeScale: number, realNow: () => number = Date.now): EmulatedClock {
  const start = realNow();
  const now = () => start + (realNow() - start) * timeScale;
  return {
    now,
    realDelayUntil: (at) => Math.max(0, (at - now()) / timeScale),
  };
}

/** Google's timestamp format (RFC 3339, UTC). */
export function timestamp(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** Longest real wait between looks at the clock: an injected `realNow` may jump ahead meanwhile. */
const CLOCK_LOOK_MS = 50;

/**
 * Waits in real time until the emulated clock reaches `at`; false when `signal` aborted first
 * (the emulator closing). Looks again at least every 50 ms, so a test that moves time itself
 * (an injected realNow) is followed.
 */
export async function waitUntil(clock: EmulatedClock, at: number, signal: AbortSignal): Promise<boolean> {
  for (;;) {
    if (signal.aborted) return false;
    const delay = clock.realDelayUntil(at);
    if (delay <= 0) return true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(delay, CLOCK_LOOK_MS));
      signal.addEventListener('abort', done, { once: true });
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
    });
  }
}
