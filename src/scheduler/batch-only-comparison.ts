import type { LaneLatency } from './latency.js';

/**
 * What an `auto` run would have taken on Batch alone, set beside what it took. The work is the
 * workload as the run found it (records left and the deepest chain left); batch-only needs
 * max(deepest chain, records / wave size) waves of jobs, each a batch turnaround (typical to slow,
 * as learned by the end of the run). An estimate, and labelled so: nobody ran the batch-only twin.
 */
export interface BatchOnlyComparison {
  /** Batch-only time for the same work, best and worst case, in ms. */
  projectedMs: { low: number; high: number };
  /** projectedMs less what the run took (never below 0). */
  savedMs: { low: number; high: number };
  /** Batch turnarounds the projection rests on (0: the built-in prior only). */
  turnaroundSamples: number;
}

/** The work a run started with. */
export interface WorkAtStart {
  /** Records not done or dead-lettered. */
  records: number;
  /** The longest chain still to run (>= 1 when records > 0). */
  deepestChain: number;
}

export function compareWithBatchOnly(
  work: WorkAtStart,
  requestsPerWave: number,
  batch: LaneLatency,
  turnaroundSamples: number,
  elapsedMs: number,
): BatchOnlyComparison | null {
  if (work.records <= 0) return null;
  const perWave = Math.max(1, Math.floor(requestsPerWave));
  const waves = Math.max(work.deepestChain, 1, Math.ceil(work.records / perWave));
  const low = waves * batch.typicalMs;
  const high = waves * batch.slowMs;
  return {
    projectedMs: { low, high },
    savedMs: { low: Math.max(0, low - elapsedMs), high: Math.max(0, high - elapsedMs) },
    turnaroundSamples,
  };
}
