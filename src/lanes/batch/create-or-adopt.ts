import type { RunnerClock } from '../../clock.js';
import { GeminiApiError, type BatchJobInfo, type CreateBatchInput } from '../../gemini/index.js';
import { isRetryable, withRetry, type RetryPolicy } from '../../retry.js';
import type { BatchApi } from './batch-api.js';

/** How a job whose create may have happened is told apart in the project's job list. */
export interface RemoteJobKey {
  displayName: string;
  /**
   * Set where the display name may be shared (a one-off job's is the user's text): then only a job
   * that reads this input file, uploaded for this very create, is the one.
   */
  inputFile?: string;
}

/** How a create is retried after a passing failure. */
export interface CreateRetry {
  policy: RetryPolicy;
  clock: RunnerClock;
  /** Uniform in [0, 1) for backoff jitter; default Math.random. */
  random?: () => number;
}

/** The job, created now or found after a create whose answer was lost; or the last error. */
export type CreateAttempt =
  | { remote: BatchJobInfo; adopted: boolean }
  /** `ambiguous`: some create failed with no answer or a 5xx, so the job may exist all the same. */
  | { error: unknown; ambiguous: boolean };

/**
 * Creates the job, retrying passing failures with backoff (RetryInfo honoured). After a failure whose
 * outcome is unknown (no answer, a 5xx: the server may have created the job), the next attempt first
 * looks the job up by `key` and adopts it, so a retry never creates it twice. Quota refusals are not
 * retried here: the caller waits for capacity instead.
 */
export async function createOrAdopt(
  api: Pick<BatchApi, 'createBatch' | 'listBatches' | 'getBatch'>,
  input: CreateBatchInput,
  key: RemoteJobKey,
  retry: CreateRetry,
): Promise<CreateAttempt> {
  let ambiguous = false;
  try {
    return await withRetry(
      async (): Promise<CreateAttempt> => {
        if (ambiguous) {
          const found = await findRemoteJob(api, key);
          if (found) return { remote: found, adopted: true };
        }
        try {
          return { remote: await api.createBatch(input), adopted: false };
        } catch (error) {
          if (createMayHaveHappened(error)) ambiguous = true;
          throw error;
        }
      },
      retry.policy,
      { clock: retry.clock, ...(retry.random ? { random: retry.random } : {}) },
      (error) =>
        isRetryable(error) && !(GeminiApiError.isInstance(error) && error.code === 'QUOTA_EXHAUSTED'),
    );
  } catch (error) {
    if (ambiguous && GeminiApiError.isInstance(error) && !error.retryable) {
      // A definite refusal after an unknown outcome: the earlier call may still have created it.
      const found = await findRemoteJob(api, key).catch(() => null);
      if (found) return { remote: found, adopted: true };
    }
    return { error, ambiguous };
  }
}

/** A server error or no answer at all: the server may have created the job before failing. */
export function createMayHaveHappened(error: unknown): boolean {
  return GeminiApiError.isInstance(error) && error.retryable && error.code !== 'QUOTA_EXHAUSTED';
}

/**
 * The remote job `key` names, if any: the first one listed (the newest) with its display name and,
 * when the key has one, its input file.
 */
export async function findRemoteJob(
  api: Pick<BatchApi, 'listBatches' | 'getBatch'>,
  key: RemoteJobKey,
): Promise<BatchJobInfo | null> {
  for await (const remote of api.listBatches()) {
    if (remote.displayName !== key.displayName) continue;
    if (key.inputFile === undefined) return remote;
    // The SDK's list drops each job's inputConfig: a candidate is read whole to learn its input.
    const full = await api.getBatch(remote.name);
    if (full.inputFileName === key.inputFile) return full;
  }
  return null;
}
