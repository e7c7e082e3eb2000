import { GeminiApiError, type BatchJobInfo } from '../../gemini/index.js';
import type { JobRow, JobState } from '../../store/store.js';
import { endsTheRun } from '../../gemini/configuration-errors.js';
import { isPassingLocalFailure } from '../../lifecycle/local-failure.js';
import {
  expireExpiredJob,
  failFailedJob,
  processSucceededJob,
  type ResultProcessingDeps,
} from './result-processing.js';
import { MAX_STALL_CANCELS_PER_RECORD, type StallWatch } from './stall-policy.js';

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
 * a failed attempt of each, dead-lettered once out of retries, so a job that always fails cannot
 * loop forever). A settled job's uploaded input is left to the input-file sweep (input-file-sweep.ts).
 * A job whose poll or download keeps failing, or whose results met a busy store (STORE_BUSY), is
 * reported and tried again on the next pass; the other jobs go on.
 */
export async function serviceActiveJobs(deps: ResultProcessingDeps): Promise<number> {
  deps.stalls?.beginPass(await deps.store.listJobs(), deps.now());
  const jobs = await deps.store.listJobs(['pending', 'running', 'succeeded']);
  let settled = 0;
  for (const job of jobs) {
    if (!job.remoteName) continue;
    try {
      if (await serviceJob(deps, job, job.remoteName)) settled++;
    } catch (error) {
      // A store busy past its timeout changed nothing: the job is applied again on the next pass.
      const passes = isPassingLocalFailure(error) || (GeminiApiError.isInstance(error) && !endsTheRun(error));
      if (!passes) throw error;
      deps.emit({
        type: 'warning',
        message: `Job ${job.id}: ${(error as Error).message} It is tried again on the next pass.`,
      });
    }
  }
  return settled;
}

/** Polls one job and settles it if it ended; true when it was settled. */
async function serviceJob(deps: ResultProcessingDeps, job: JobRow, remoteName: string): Promise<boolean> {
  let remote: BatchJobInfo;
  try {
    remote = await deps.api.getBatch(remoteName);
  } catch (error) {
    if (GeminiApiError.isInstance(error) && error.code === 'NOT_FOUND') {
      await settleLostJob(deps, job, 'The remote job no longer exists (deleted outside wavebatch).');
      return true;
    }
    throw error;
  }
  const state = REMOTE_TO_LOCAL[remote.state];
  if (!state) return false;
  if ((state === 'pending' || state === 'running') && deps.stalls)
    await reactToStall(deps, deps.stalls, job, remoteName, remote);
  const ended = state === 'failed' || state === 'cancelled' || state === 'expired';
  // Records go back before the state changes: a crash in between leaves the job active, and the
  // next poll repeats a release that then finds nothing left to release.
  // A FAILED job's records each count a failed attempt (dead-lettered once out of retries); a
  // CANCELLED or EXPIRED one's go back as they were: not their fault (a cancel, Google's queue).
  const failed = state === 'failed' ? await failFailedJob(deps, job, remote) : null;
  // An EXPIRED one's count an expiry each, dead-lettered past max_retries expiries.
  const expired = state === 'expired' ? await expireExpiredJob(deps, job, remote) : null;
  const released = failed
    ? failed.retried + failed.dead
    : expired
      ? expired.retried + expired.dead
      : ended
        ? await deps.store.releaseJobRecords(job.id, false)
        : 0;
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
    try {
      await processSucceededJob(deps, job, remote);
    } catch (error) {
      if (!(GeminiApiError.isInstance(error) && error.code === 'NOT_FOUND')) throw error;
      // The results file is gone (deleted, or past its 48 h): what it held cannot be collected.
      await settleLostJob(deps, job, `The results of the job are gone: ${error.message}`);
    }
    await forgetResultsFile(deps, job, remote);
    return true;
  }
  if (ended) {
    const reason = remote.error?.message ? `: ${remote.error.message.replace(/\.$/, '')}` : '';
    deps.emit({
      type: 'warning',
      message: failed
        ? `Job ${job.id} ended FAILED${reason}; each of its records counts a failed attempt: ` +
          `${failed.retried} return to the queue, ${failed.dead} dead-lettered (out of retries).`
        : expired
          ? `Job ${job.id} ended EXPIRED${reason}; ${expired.retried} records return to the queue, ` +
            `${expired.dead} dead-lettered (job_expired): their jobs expired up to ${expired.mostExpiries} ` +
            `times in a row, and past execution.max_retries (${deps.settings.maxRetries}) ` +
            'expiries a record is dead-lettered (see `wavebatch failures`).'
          : `Job ${job.id} ended ${state.toUpperCase()}${reason}; ${released} records return to the queue.`,
    });
    return true;
  }
  return false;
}

/**
 * Reports a job that is newly stalled, and cancels it when the stall policy says so and nothing of
 * it was processed: the next poll sees it CANCELLED and its records go back to the queue, without
 * counting an attempt, to be sent in a new job.
 */
async function reactToStall(
  deps: ResultProcessingDeps,
  stalls: StallWatch,
  job: JobRow,
  remoteName: string,
  remote: BatchJobInfo,
): Promise<void> {
  const verdict = stalls.check(job, remote, deps.now());
  if (verdict.kind === 'none') return;
  let cancel = verdict.cancel;
  if (cancel) {
    const members = (await deps.store.jobMembers(job.id)).map((member) => member.recordId);
    if (!stalls.mayCancel(members)) {
      cancel = false;
      deps.emit({
        type: 'warning',
        message: `Job ${job.id} stalled again: its records' jobs were already cancelled ${MAX_STALL_CANCELS_PER_RECORD} times for stalls, so this one is waited for (Google expires a job after 48 h and its records then go again).`,
      });
    } else {
      try {
        await deps.api.cancelBatch(remoteName);
      } catch (error) {
        stalls.cancelFailed(job.id);
        throw error;
      }
      stalls.countCancel(job.id, members);
    }
  }
  deps.emit({
    type: 'job-stalled',
    jobId: job.id,
    remoteName,
    state: remote.state,
    ageMs: verdict.ageMs,
    thresholdMs: verdict.thresholdMs,
    action: cancel ? 'cancelled' : 'waiting',
    ...(cancel ? { records: cancelledRecordsGo(deps.settings) } : {}),
  });
}

/** Where the runner sends a stall-cancelled job's records (see BatchRunner.pass). */
function cancelledRecordsGo(settings: ResultProcessingDeps['settings']): 'resent' | 'split' | 'hedged' {
  if (settings.stall.action === 'split') return 'split';
  return settings.execution.mode === 'auto' ? 'hedged' : 'resent';
}

async function settleLostJob(deps: ResultProcessingDeps, job: JobRow, reason: string): Promise<void> {
  // Same order as above: the records first, so a crash in between repeats a harmless release.
  const released = await deps.store.releaseJobRecords(job.id, false);
  await deps.store.updateJobState(job.id, 'failed', reason);
  deps.emit({
    type: 'job-state',
    jobId: job.id,
    remoteName: job.remoteName,
    state: 'lost',
    error: reason,
    released,
  });
  deps.emit({
    type: 'warning',
    message: `Job ${job.id} (${job.remoteName}): ${reason} ${released} records return to the queue.`,
  });
}

/**
 * Deletes a processed job's results file: its outputs are applied (the job is `processed` before
 * this runs, so a crash in between never needs it again), and generated files count against the
 * project's 20 GB of Files API storage until they expire (48 h), which a large run can fill. Best
 * effort: a failure only leaves the file to expire.
 */
async function forgetResultsFile(
  deps: ResultProcessingDeps,
  job: JobRow,
  remote: BatchJobInfo,
): Promise<void> {
  if (!remote.resultsFileName) return;
  try {
    await deps.api.deleteFile(remote.resultsFileName);
  } catch (error) {
    if (!GeminiApiError.isInstance(error)) throw error;
    if (error.code === 'NOT_FOUND' || error.code === 'PERMISSION_DENIED') return;
    deps.emit({
      type: 'warning',
      message: `Deleting the results file of job ${job.id} failed (${error.message}); it expires on its own.`,
    });
  }
}
