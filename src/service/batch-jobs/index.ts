/**
 * One-off batch jobs, no workload: submit a file (or a list) of GenerateContent requests as one
 * job, list the project's jobs, show one, fetch their results, cancel them. `BatchJobService` does
 * it for the commands and the library; `submitJob` is its submission on its own.
 */
export { BatchJobService } from './batch-job-service.js';
export {
  AUTO_INLINE_MAX_BYTES,
  INLINE_MAX_BYTES,
  JobRequests,
  readJobRequests,
  submitJob,
} from './submit-job.js';
export type { SubmitJobOptions, SubmitRequest, SubmitRequestBody } from './submit-job.js';
export type { KeyedRequest } from './requests.js';
export { JobOutcomeUnknownError, OneoffInputError, OneoffJobNotFoundError } from './errors.js';
export { batchName } from './job-names.js';
export type { BatchJobSummary } from './job-summary.js';
export type { CancelOutcome } from './job-cancel.js';
export type { FetchOptions, FetchOutcome, PendingResults } from './job-results.js';
