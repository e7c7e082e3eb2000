import { LANES, type Lane } from '../lanes/lane.js';
import { LatencyTracker } from '../scheduler/index.js';
import type { WorkloadStore } from '../store/store.js';

/** Samples read back per lane: as many as the tracker keeps. */
const HISTORY_SAMPLES = 256;

/**
 * A latency tracker seeded with what earlier runs of this workload measured, from the inference log:
 * the latest batch jobs' turnarounds (their create to their end, as Google reported them) and the
 * latest synchronous requests' send-to-answer times. So `auto` plans a new run with this workload's
 * own recent figures, not the priors. Indexed reads: a store of a million attempts answers at once.
 */
export async function latencyFromHistory(
  store: Pick<WorkloadStore, 'recentLatencies'>,
): Promise<LatencyTracker> {
  return trackerOf(await latencyHistory(store));
}

/** The latencies earlier runs measured, per lane (ms): what `latencyFromHistory` seeds a tracker with. */
export async function latencyHistory(
  store: Pick<WorkloadStore, 'recentLatencies'>,
): Promise<Record<Lane, number[]>> {
  const history = {} as Record<Lane, number[]>;
  for (const lane of LANES)
    history[lane] = (await store.recentLatencies(lane, HISTORY_SAMPLES)).filter(
      (ms) => lane !== 'batch' || ms > 0,
    );
  return history;
}

/** A tracker that has observed `latencies` (ms per lane). */
export function trackerOf(latencies: Partial<Record<Lane, readonly number[]>>): LatencyTracker {
  const tracker = new LatencyTracker();
  for (const lane of LANES) for (const ms of latencies[lane] ?? []) tracker.observe(lane, ms);
  return tracker;
}
