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
