/** Time as the runner sees it; injected so tests and the emulator can run hours in seconds. */
export interface RunnerClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The longest delay a Node timer holds (2^31 - 1 ms, about 24.8 days). A longer one overflows: Node
 * warns (TimeoutOverflowWarning) and fires after 1 ms, so a loop sleeping that long spins at full CPU.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Wall-clock time. */
export const systemClock: RunnerClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      // Sleeps in steps a timer can hold, so a delay of any length (a config value, a server's
      // Retry-After) waits as long as it says instead of overflowing into a 1 ms busy loop.
      const end = Date.now() + ms;
      let timer = setTimeout(step, Math.min(ms, MAX_TIMER_MS));
      function step() {
        const left = end - Date.now();
        if (left > 0) timer = setTimeout(step, Math.min(left, MAX_TIMER_MS));
        else done();
      }
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};
