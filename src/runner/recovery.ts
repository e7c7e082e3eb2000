import type { BatchJobInfo } from '../gemini/index.js';
import type { OutputStore } from '../outputs/index.js';
import type { WorkloadStore } from '../store/store.js';
import type { WorkloadRecord } from '../workload/record.js';
import type { RunnerEventListener } from './events.js';
import { createRemoteJob, type SubmissionDeps } from './job-submission.js';

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

/**
 * Settles job intents left by a crash between storing the intent and learning the remote name:
 * a remote job with the intent's deterministic display name is adopted; otherwise none was created
 * and it is created now. Either way exactly one remote job exists per intent.
 */
export async function recoverJobIntents(deps: SubmissionDeps): Promise<void> {
  const intents = await deps.store.listJobs(['intent']);
  if (intents.length === 0) return;
  const prefix = `wb-${deps.settings.workload}-`;
  const remoteByName = new Map<string, BatchJobInfo>();
  for await (const remote of deps.api.listBatches()) {
    if (remote.displayName?.startsWith(prefix)) remoteByName.set(remote.displayName, remote);
  }
  for (const intent of intents) {
    const remote = remoteByName.get(intent.id);
    if (remote) {
      await deps.store.markJobSubmitted(intent.id, remote.name, null);
      deps.emit({ type: 'job-adopted', jobId: intent.id, remoteName: remote.name });
    } else {
      await createRemoteJob(deps, intent);
    }
  }
}
