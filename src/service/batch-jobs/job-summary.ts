import type { BatchJobInfo } from '../../gemini/index.js';
import { redact } from '../../secrets/redact.js';

/**
 * A batch job as a listing or a status shows it (`jobs --json`, `status <job> --json`): the API's
 * fields, its error message redacted, its inline responses counted rather than carried.
 */
export type BatchJobSummary = Omit<BatchJobInfo, 'inlinedResponses'> & {
  /** How many inline responses the job holds (set for a job created inline once it has results). */
  inlinedResponseCount?: number;
};

/** The summary of a job as the API returned it. */
export function summarizeJob(info: BatchJobInfo): BatchJobSummary {
  // Inline responses can be megabytes per job; a summary reports only how many there are.
  const { inlinedResponses, ...job } = info;
  return {
    ...job,
    // The API's error message can quote a key back: redacted, as every message shown is.
    error: job.error && { ...job.error, message: redact(job.error.message ?? '') },
    inlinedResponseCount: inlinedResponses?.length,
  };
}
