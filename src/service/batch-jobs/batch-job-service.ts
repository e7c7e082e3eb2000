import type { BatchJobInfo, GeminiClient } from '../../gemini/index.js';
import { onJob } from './errors.js';
import { cancelJobs, type CancelOutcome } from './job-cancel.js';
import { batchName } from './job-names.js';
import {
  fetchPendingResults,
  fetchResults,
  type FetchOptions,
  type FetchOutcome,
  type PendingResults,
} from './job-results.js';
import { summarizeJob, type BatchJobSummary } from './job-summary.js';
import { submitJob, type SubmitJobOptions } from './submit-job.js';

/**
 * The project's batch jobs acted on directly, no workload: what the one-off job commands (`submit`,
 * `jobs`, `status <job>`, `fetch`, `cancel`) do, for them and for the HTTP API alike. The commands
 * parse arguments and print; this does the work and returns typed results. Give it a client made
 * with `createGeminiClient({ apiKey, baseUrl })`.
 */
export class BatchJobService {
  constructor(private readonly client: GeminiClient) {}

  /** Submits one batch job of the requests (a file, or the requests themselves); resolves with it as created. */
  submit(options: SubmitJobOptions): Promise<BatchJobInfo> {
    return submitJob(this.client, options);
  }

  /**
   * The project's batch jobs, all pages, newest first as the API lists them; with `state`, only
   * those in it (`pending`, `running`, `succeeded`, `failed`, `cancelled`, `expired`).
   */
  async list(options: { state?: string } = {}): Promise<BatchJobSummary[]> {
    const jobs: BatchJobSummary[] = [];
    for await (const job of this.client.listBatches()) {
      if (options.state === undefined || job.state === options.state) jobs.push(summarizeJob(job));
    }
    return jobs;
  }

  /**
   * One job as the API reports it, by name (`batches/abc` or `abc`): a malformed name is
   * OneoffInputError, one the project does not have OneoffJobNotFoundError (INPUT_JOB_NOT_FOUND).
   */
  async status(job: string): Promise<BatchJobSummary> {
    const name = batchName(job);
    return summarizeJob(await onJob(name, () => this.client.getBatch(name)));
  }

  /**
   * Writes the named jobs' results to `<out>/<job id>.jsonl`, one job after the other; each outcome
   * says whether it was written, is not ready yet, or ended without results. `out` is made first: one
   * that cannot be written is UnwritablePathError (`INPUT_PATH_UNWRITABLE`) before any job is asked for.
   */
  fetch(jobs: readonly string[], options: FetchOptions): Promise<FetchOutcome[]> {
    return fetchResults(this.client, jobs, options);
  }

  /** `fetch` of every succeeded job whose results are not in `out` yet, and what the listing found. */
  fetchAllPending(
    options: FetchOptions & { onListed?: (listing: PendingResults) => void },
  ): Promise<PendingResults & { fetched: FetchOutcome[] }> {
    return fetchPendingResults(this.client, options);
  }

  /**
   * Asks the API to cancel each job and reads back its state; a job that had already ended is left
   * as it is. Requests already finished are not refunded, the rest never run.
   */
  cancel(
    jobs: readonly string[],
    options: { onCancelled?: (outcome: CancelOutcome) => void } = {},
  ): Promise<CancelOutcome[]> {
    return cancelJobs(this.client, jobs, options.onCancelled);
  }
}
