import { SYNC_LANES } from '../lanes/lane.js';
import { LatencyTracker } from '../scheduler/index.js';
import type { WorkloadStore } from '../store/store.js';

/** Samples read back per lane: as many as the tracker keeps. */
const HISTORY_SAMPLES = 256;

/**
 * A latency tracker seeded with what earlier runs of this workload measured, from the inference log:
 * each batch job's turnaround (its create to its end, as Google reported them) and each synchronous
 * lane's send-to-answer times. So `auto` plans a new run with this workload's own figures, not the priors.
 */
export async function latencyFromHistory(
  store: Pick<WorkloadStore, 'jobAttempts' | 'listEvents'>,
): Promise<LatencyTracker> {
  const tracker = new LatencyTracker();
  for (const job of await store.jobAttempts(undefined, HISTORY_SAMPLES))
    if (job.lane === 'batch' && job.latencyMs > 0) tracker.observe('batch', job.latencyMs);
  for (const lane of SYNC_LANES) {
    const events = await store.listEvents({ kind: 'attempt', lane, limit: HISTORY_SAMPLES });
    for (const event of events)
      if (event.type === 'done' && event.latencyMs !== null) tracker.observe(lane, event.latencyMs);
  }
  return tracker;
}
