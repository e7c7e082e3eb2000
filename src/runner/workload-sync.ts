import type { OutputSink } from '../outputs/index.js';
import type { WorkloadStore } from '../store/store.js';
import type { WorkloadRecord } from '../workload/record.js';
import type { RunnerEventListener } from './events.js';

/**
 * Brings the store in line with the source and the outputs (files on disk, or the committed shards)
 * before any work is planned. When the source's fingerprint matches the one of the last full sync,
 * the source is not read, chains are not linked again and readiness is refreshed only if the outputs
 * changed what is done: an unchanged million-record workload starts in about a second.
 */
export async function syncWorkload(
  store: WorkloadStore,
  outputs: OutputSink,
  source: () => AsyncIterable<WorkloadRecord>,
  fingerprint: string | null,
  emit: RunnerEventListener,
  signal?: AbortSignal,
): Promise<'synced' | 'interrupted'> {
  try {
    await syncAll(store, outputs, signal ? () => untilAborted(source(), signal) : source, fingerprint, emit);
    return 'synced';
  } catch (error) {
    // As a crash mid-sync: what was read is stored, nothing is dropped (a pass cut short drops
    // nothing) and no fingerprint vouches for it, so the next run reads the whole source again.
    if (error instanceof SyncInterrupted) return 'interrupted';
    throw error;
  }
}

/** Raised inside the source's iteration when the run's signal aborts, to end the pass there. */
class SyncInterrupted extends Error {}

/**
 * The source's records until `signal` aborts: a run asked to stop during the sync of a large (or
 * slow) source read all of it first, minutes for millions of records, before it could return.
 */
async function* untilAborted(
  records: AsyncIterable<WorkloadRecord>,
  signal: AbortSignal,
): AsyncIterable<WorkloadRecord> {
  if (signal.aborted) throw new SyncInterrupted();
  for await (const record of records) {
    if (signal.aborted) throw new SyncInterrupted();
    yield record;
  }
}

async function syncAll(
  store: WorkloadStore,
  outputs: OutputSink,
  source: () => AsyncIterable<WorkloadRecord>,
  fingerprint: string | null,
  emit: RunnerEventListener,
): Promise<void> {
  const unchanged = fingerprint !== null && fingerprint === (await store.syncedSourceFingerprint());
  // Before the sync: a record claimed by a process that is gone is ready again, so the sync drops it
  // if the source no longer has it (released after the sync, the run sent it and paid for it).
  await store.releaseStrandedRecords();
  let seen = 0;
  let inserted = 0;
  let dropped = 0;
  // A linked first sync wrote every chain's head ready and the rest blocked, and no record was done
  // yet: readiness is already what refreshReadiness would make it (0.7-1.2 µs a record saved).
  let readinessSet = false;
  if (!unchanged) {
    // Forgotten first: a crash mid-sync must not leave a fingerprint that vouches for half a sync.
    await store.saveSourceFingerprint(null);
    const synced = await store.syncRecords(source, { wholeSource: true });
    ({ seen, inserted, dropped } = synced);
    if (!synced.linked) await store.linkChains();
    readinessSet = synced.linked;
  }
  const { markedDone, reopened } = await outputs.recover();
  if ((!unchanged && !readinessSet) || markedDone > 0 || reopened > 0) await store.refreshReadiness();
  // Saved once records, chains and readiness are all in line with this fingerprint.
  if (!unchanged && fingerprint !== null) await store.saveSourceFingerprint(fingerprint);
  emit({ type: 'sync', unchanged, seen, inserted, dropped, markedDone, reopened });
}
