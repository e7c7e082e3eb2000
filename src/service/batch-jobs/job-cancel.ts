import type { BatchJobState, GeminiClient } from '../../gemini/index.js';
import { onJob } from './errors.js';
import { batchName } from './job-names.js';

/** What asking to cancel one job came to. */
export type CancelOutcome =
  /** Cancelled: read back as CANCELLED. */
  | { name: string; kind: 'cancelled' }
  /** Asked, but read back in another state (still winding down); check it again later. */
  | { name: string; kind: 'requested'; state: BatchJobState }
  /** It had already ended: nothing was asked, its state is kept. */
  | { name: string; kind: 'already-ended'; state: BatchJobState };

/**
 * Asks the API to cancel each job, one after the other, and reads back the state each is in;
 * `onCancelled` hears of each as it is done (a job not found stops the rest).
 */
export async function cancelJobs(
  client: GeminiClient,
  jobs: readonly string[],
  onCancelled?: (outcome: CancelOutcome) => void,
): Promise<CancelOutcome[]> {
  const names = jobs.map(batchName);
  const outcomes: CancelOutcome[] = [];
  for (const name of names) {
    const outcome = await cancelOne(client, name);
    outcomes.push(outcome);
    onCancelled?.(outcome);
  }
  return outcomes;
}

async function cancelOne(client: GeminiClient, name: string): Promise<CancelOutcome> {
  // A job that already ended keeps its state; say so rather than claim a cancellation.
  const before = await onJob(name, () => client.getBatch(name));
  if (before.state !== 'pending' && before.state !== 'running')
    return { name, kind: 'already-ended', state: before.state };
  await onJob(name, () => client.cancelBatch(name));
  const after = await onJob(name, () => client.getBatch(name));
  return after.state === 'cancelled'
    ? { name, kind: 'cancelled' }
    : { name, kind: 'requested', state: after.state };
}
