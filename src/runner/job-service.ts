import { GeminiApiError, type BatchJobInfo } from '../gemini/index.js';
import type { JobRow, JobState } from '../store/store.js';
import { processSucceededJob, type ResultProcessingDeps } from './result-processing.js';

const REMOTE_TO_LOCAL: Record<BatchJobInfo['state'], JobState | null> = {
  pending: 'pending',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  expired: 'expired',
  unknown: null,
};

/**
 * Polls every submitted job once and settles the finished ones: results are applied for SUCCEEDED
 * jobs; the records of FAILED, CANCELLED and EXPIRED jobs go back to the queue (a FAILED job counts
 * as an attempt, so a job that always fails cannot loop forever).
 */
export async function serviceActiveJobs(deps: ResultProcessingDeps): Promise<number> {
  const jobs = await deps.store.listJobs(['pending', 'running', 'succeeded']);
  let settled = 0;
  for (const job of jobs) {
    if (!job.remoteName) continue;
    let remote: BatchJobInfo;
    try {
      remote = await deps.api.getBatch(job.remoteName);
    } catch (error) {
      if (error instanceof GeminiApiError && error.code === 'NOT_FOUND') {
        await settleLostJob(deps, job);
        settled++;
        continue;
      }
      deps.emit({
        type: 'warning',
        message: `Polling ${job.id} failed (${describe(error)}); will poll again.`,
      });
      continue;
    }
    const state = REMOTE_TO_LOCAL[remote.state];
    if (!state) continue;
    const ended = state === 'failed' || state === 'cancelled' || state === 'expired';
    // Records go back before the state changes: a crash in between leaves the job active, and the
    // next poll repeats a release that then finds nothing left to release.
    const released = ended ? await deps.store.releaseJobRecords(job.id, state === 'failed') : 0;
    if (state !== job.state) {
      await deps.store.updateJobState(job.id, state, remote.error?.message ?? null);
      deps.emit({
        type: 'job-state',
        jobId: job.id,
        remoteName: job.remoteName,
        state,
        ...(ended ? { error: remote.error?.message ?? null, released } : {}),
      });
    }
    if (state === 'succeeded') {
      await processSucceededJob(deps, job, remote);
      settled++;
    } else if (ended) {
      deps.emit({
        type: 'warning',
        message: `Job ${job.id} ended ${state.toUpperCase()}; ${released} records return to the queue.`,
      });
      settled++;
    }
  }
  return settled;
}

async function settleLostJob(deps: ResultProcessingDeps, job: JobRow): Promise<void> {
  const released = await deps.store.releaseJobRecords(job.id, false);
  const error = 'The remote job no longer exists (deleted outside wavebatch).';
  await deps.store.updateJobState(job.id, 'failed', error);
  deps.emit({
    type: 'job-state',
    jobId: job.id,
    remoteName: job.remoteName,
    state: 'lost',
    error,
    released,
  });
  deps.emit({
    type: 'warning',
    message: `Job ${job.id} (${job.remoteName}) is gone remotely; ${released} records return to the queue.`,
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
