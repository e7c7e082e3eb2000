import { describe, expect, it } from 'vitest';
import type { RunnerClock } from '../../src/clock.js';
import { watch } from '../../src/cli/watch.js';

/** A clock whose sleeps pass instantly and are counted; the `stopAfter`-th sleep aborts the watch. */
function steppingClock(stop: AbortController, stopAfter: number): RunnerClock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      slept.push(ms);
      if (slept.length >= stopAfter) stop.abort();
    },
  };
}

describe('watch', () => {
  it('renders, waits one interval on the injected clock, renders again, until aborted', async () => {
    const stop = new AbortController();
    const clock = steppingClock(stop, 2);
    const written: string[] = [];
    let frame = 0;
    const frames = await watch(async () => `frame ${++frame} at ${clock.now()}\n`, {
      intervalMs: 5_000,
      clock,
      signal: stop.signal,
      write: (text) => written.push(text),
      inPlace: false,
      separator: '\n',
    });
    expect(frames).toBe(2);
    expect(clock.slept).toEqual([5_000, 5_000]);
    expect(written).toEqual(['frame 1 at 0\n', '\nframe 2 at 5000\n']);
  });

  it('redraws in place on a terminal', async () => {
    const stop = new AbortController();
    const written: string[] = [];
    await watch(async () => 'x\n', {
      intervalMs: 1,
      clock: steppingClock(stop, 1),
      signal: stop.signal,
      write: (text) => written.push(text),
      inPlace: true,
      separator: '\n',
    });
    expect(written).toEqual(['\x1b[2J\x1b[Hx\n']);
  });
});
