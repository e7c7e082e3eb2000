import type { RunnerClock } from '../clock.js';

/** Clears a terminal and moves the cursor home, so each frame replaces the last. */
const CLEAR_SCREEN = '\x1b[2J\x1b[H';

export interface WatchOptions {
  intervalMs: number;
  clock: RunnerClock;
  /** Stops the loop (Ctrl-C); the frame being drawn is finished first. */
  signal: AbortSignal;
  write: (text: string) => void;
  /** Redraw in place (a terminal); otherwise frames follow each other (a pipe, a log). */
  inPlace: boolean;
  /** Written between frames that follow each other (a blank line for text, nothing for JSON Lines). */
  separator: string;
}

/** Renders a frame, waits an interval on the clock, and again, until `signal` aborts; returns the frame count. */
export async function watch(render: () => Promise<string>, options: WatchOptions): Promise<number> {
  let frames = 0;
  while (!options.signal.aborted) {
    const frame = await render();
    options.write(
      options.inPlace ? `${CLEAR_SCREEN}${frame}` : frames > 0 ? `${options.separator}${frame}` : frame,
    );
    frames++;
    await options.clock.sleep(options.intervalMs, options.signal);
  }
  return frames;
}
