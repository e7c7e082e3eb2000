import type { BatchJobInfo, GeminiClient } from '../../gemini/index.js';
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
}
