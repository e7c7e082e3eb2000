import { QuotaError, quotaViolation, type QuotaViolation } from './quotas.js';

/** Batch admission limits: the project's concurrent jobs, and the job's model's enqueued tokens. */
export interface BatchLimits {
  maxConcurrentBatchJobs: number;
  maxEnqueuedTokensPerModel: number;
}

/** A batch creation has no window to wait for; suggest a minute, the cadence at which jobs move. */
const BATCH_RETRY_MS = 60_000;

/** Whether a new batch job fits: concurrent PENDING+RUNNING jobs, and enqueued input tokens per model. */
export function checkBatchAdmission(input: {
  activeJobs: number;
  enqueuedTokensForModel: number;
  newJobTokens: number;
  limits: BatchLimits;
  /** The job's model, reported in the quota dimensions. */
  model?: string;
}): QuotaError | null {
  const model = input.model?.replace(/^models\//, '') ?? null;
  const { maxConcurrentBatchJobs, maxEnqueuedTokensPerModel } = input.limits;
  const violations: QuotaViolation[] = [];
  if (input.activeJobs >= maxConcurrentBatchJobs)
    violations.push(quotaViolation('batch_concurrent_jobs', maxConcurrentBatchJobs, null));
  if (input.enqueuedTokensForModel + input.newJobTokens > maxEnqueuedTokensPerModel) {
    violations.push(quotaViolation('batch_enqueued_tokens', maxEnqueuedTokensPerModel, model));
  }
  if (violations.length === 0) return null;
  const detail =
    input.newJobTokens > maxEnqueuedTokensPerModel
      ? ` This job alone has ${input.newJobTokens} input tokens, more than the enqueued-token limit of ${maxEnqueuedTokensPerModel}; split it.`
      : '';
  return new QuotaError(violations, BATCH_RETRY_MS, detail);
}
