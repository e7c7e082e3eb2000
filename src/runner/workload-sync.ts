import type { OutputSink } from '../outputs/index.js';
import type { WorkloadStore } from '../store/store.js';
import type { WorkloadRecord } from '../workload/record.js';
import type { RunnerEventListener } from './events.js';

/**
 * Brings the store in line with the source and the outputs (files on disk, or the committed shards)
 * before any work is planned.
 */
export async function syncWorkload(
  store: WorkloadStore,
  outputs: OutputSink,
  source: AsyncIterable<WorkloadRecord>,
  emit: RunnerEventListener,
): Promise<void> {
  const { seen, inserted } = await store.syncRecords(source);
  await store.linkChains();
  const { markedDone, reopened } = await outputs.recover();
  await store.releaseStrandedRecords();
  await store.refreshReadiness();
  emit({ type: 'sync', seen, inserted, markedDone, reopened });
}
