import type { OutputStore } from '../outputs/index.js';
import type { WorkloadStore } from '../store/store.js';
import type { WorkloadRecord } from '../workload/record.js';
import type { RunnerEventListener } from './events.js';

/**
 * Brings the store in line with the source and the output files (the source of truth for what is
 * done) before any work is planned.
 */
export async function syncWorkload(
  store: WorkloadStore,
  outputs: OutputStore,
  source: AsyncIterable<WorkloadRecord>,
  emit: RunnerEventListener,
): Promise<void> {
  const { seen, inserted } = await store.syncRecords(source);
  await store.linkChains();
  await outputs.sweepTemp();
  const { markedDone, reopened } = await store.reconcileDone(outputs.listDone());
  await store.releaseStrandedRecords();
  await store.refreshReadiness();
  emit({ type: 'sync', seen, inserted, markedDone, reopened });
}
