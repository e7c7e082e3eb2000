import type { LaneLatency } from './latency.js';

/** A job this many times past the slow (90th-percentile) batch turnaround is stalled. */
export const STALL_FACTOR = 3;
/** Never called stalled before this age: early in a run the learned turnaround rests on little. */
export const MIN_STALL_MS = 60 * 60_000;

/**
 * Whether a batch job that is still PENDING or RUNNING after `ageMs` is stalled: far beyond the
 * turnaround learned for batch (users report jobs stuck for days that then expire). Stalled jobs
 * are reported; in `auto` their critical-path records are worth hedging on a synchronous lane.
 */
export function isStalledBatch(ageMs: number, batch: LaneLatency): boolean {
  return ageMs > Math.max(MIN_STALL_MS, STALL_FACTOR * batch.slowMs);
}
