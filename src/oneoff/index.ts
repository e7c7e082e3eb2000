/**
 * One-off batch jobs, no workload: submit a file (or a list) of GenerateContent requests as one
 * job. The `submit` command and the library's `submitJob` share it.
 */
export { submitJob, AUTO_INLINE_MAX_BYTES, INLINE_MAX_BYTES } from './submit-job.js';
export type { SubmitJobOptions, SubmitRequest, SubmitRequestBody } from './submit-job.js';
export { OneoffInputError } from './errors.js';
