// Peak memory of this process during a benchmark, measured from a baseline taken after a full GC.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How often (ms) the timer samples; loops that never yield call `sample()` themselves. */
const SAMPLE_EVERY_MS = 10;

let gc: (() => void) | undefined;

/** Runs a full garbage collection, so baselines do not depend on what ran before (no --expose-gc needed). */
export function collectGarbage(): void {
  if (!gc) {
    // Exposing gc at runtime: `npm run bench` runs plain `tsx`, which gives no way to pass --expose-gc.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/** Growth of resident set size and V8 heap above the baseline, in bytes. */
export interface MemoryGrowth {
  rss: number;
  heap: number;
  /** Buffers and ArrayBuffers outside the V8 heap (where file chunks and socket data live). */
  external: number;
  /** Heap still held after a final GC: what the measured work kept (a leak shows here). */
  retainedHeap: number;
}

/** Samples RSS and heap on a timer and on demand, and reports the peak growth above a post-GC baseline. */
export class MemoryPeak {
  private readonly baseRss: number;
  private readonly baseHeap: number;
  private peakRss: number;
  private peakHeap: number;
  private readonly baseExternal: number;
  private peakExternal: number;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    collectGarbage();
    const usage = process.memoryUsage();
    this.baseRss = usage.rss;
    this.baseHeap = usage.heapUsed;
    this.peakRss = usage.rss;
    this.peakHeap = usage.heapUsed;
    this.baseExternal = usage.external;
    this.peakExternal = usage.external;
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
  }

  /** Records the current usage if it is a new peak. */
  sample(): void {
    const usage = process.memoryUsage();
    if (usage.rss > this.peakRss) this.peakRss = usage.rss;
    if (usage.heapUsed > this.peakHeap) this.peakHeap = usage.heapUsed;
    if (usage.external > this.peakExternal) this.peakExternal = usage.external;
  }

  /** Stops sampling and returns the peak growth; `retainedHeap` is measured after a full GC. */
  stop(): MemoryGrowth {
    clearInterval(this.timer);
    this.sample();
    collectGarbage();
    return {
      rss: this.peakRss - this.baseRss,
      heap: this.peakHeap - this.baseHeap,
      external: this.peakExternal - this.baseExternal,
      retainedHeap: process.memoryUsage().heapUsed - this.baseHeap,
    };
  }
}
